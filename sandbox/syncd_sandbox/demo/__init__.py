"""The demo: both sandboxes with sample data, the daemon against them, a day of business."""
