"""The daemon as a process, with both sandboxes."""
