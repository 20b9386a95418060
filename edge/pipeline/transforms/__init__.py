"""Transforms: one folder per transform_type (code, schema.json)."""
