"""rename transform: renames record fields."""
