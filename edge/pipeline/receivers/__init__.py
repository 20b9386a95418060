"""Data receivers: one folder per protocol (code, schema.json, template.json)."""
