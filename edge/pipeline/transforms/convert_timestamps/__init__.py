"""convert_timestamps transform: turns text or epoch fields into UTC timestamps."""
