"""Data transmits: one folder per transmit_type (code, schema.json)."""
