"""syncd's tests (a regular package: a tool may install a top-level ``tests`` of its own)."""
