"""Spreadsheet parser: turns CSV and Excel files into records."""
