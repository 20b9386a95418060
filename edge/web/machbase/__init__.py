"""The Machbase family: /machbase (SQL) and /machiot (tag API), their formats and append bodies."""
