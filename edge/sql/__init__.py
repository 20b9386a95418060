"""The Machbase SQL dialect: date formats, tag-table DDL (and, later, queries on SQLite)."""
