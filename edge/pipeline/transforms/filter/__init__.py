"""filter transform: keeps only the records that satisfy simple comparisons."""
