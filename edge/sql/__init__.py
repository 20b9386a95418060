"""The Machbase SQL dialect on SQLite: date formats, tag-table DDL, the engine behind /machbase."""
