"""Offline stores: POS exports from drop folders (CSV, FNS/OFD fiscal JSON)."""
