"""Faithful local emulators of the outside systems, for the demo and the tests."""
