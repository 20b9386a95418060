"""Time: int64 ns since the epoch, time zones, Machbase date formats, strptime layouts, byte-matrix readers."""
