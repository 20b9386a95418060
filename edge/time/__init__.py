"""Time, the leaf every layer shares: int64 ns since 1970-01-01 UTC, read, zoned and printed.

Imports only numpy, the standard library and `edge.errors`; nothing here knows a pipeline,
a query or a request.

    units       the one name of each unit in ns (NS_PER_US ... NS_PER_WEEK, SECONDS_PER_DAY)
    civil       the Gregorian calendar on arrays: days <-> (year, month, day), leap years,
                month lengths and names, the int64-ns year range, datetime -> ns
    timezone    TimeZone: UTC <-> wall-clock offsets for whole arrays (hour buckets);
                `localize` (wall clock -> UTC for a ZoneInfo), `zone` (ZoneInfo by name)
    textfields  byte matrices of text fields (ByteFields, gather, from_text, to_text) and
                TEXT, numpy's variable-width string dtype
    decimals    decimal text in a right-aligned byte matrix -> float64 (SWAR digit reading)
    strptime    strptime layouts compiled to per-word constants and read from a byte matrix
    timestamps  the pipeline's column readers: text in a strptime layout or any common
                layout, and epoch numbers -> UTC ns (NAT where missing)
    dateformat  Machbase date formats (YYYY-MM-DD HH24:MI:SS mmm:uuu:nnn ...): parse and
                print ns arrays for SQL and the Machbase HTTP APIs
"""
