"""Pure tests: rules, mappers, values, keys. No socket, no database, no process (conftest.py)."""
