"""Connectors: one folder per outside system, each shaped client → source → sink."""
