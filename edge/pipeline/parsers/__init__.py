"""Parsers: one folder per parser_type (code, schema.json)."""
