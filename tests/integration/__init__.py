"""The store on SQLite and PostgreSQL, each connector against its sandbox, the ops tools."""
