"""SQL receiver: polls a SQL database with a stateful query per stream."""
