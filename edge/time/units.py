"""Time units as int64 nanoseconds: the one name for each, used everywhere in edge.

Times are int64 ns since 1970-01-01 UTC; durations are int64 ns. These are Python ints, so
multiplying an int32 or int64 array by one keeps the array's dtype.
"""

NS_PER_US = 1_000
NS_PER_MS = 1_000 * NS_PER_US
NS_PER_SECOND = 1_000 * NS_PER_MS
NS_PER_MINUTE = 60 * NS_PER_SECOND
NS_PER_HOUR = 60 * NS_PER_MINUTE
NS_PER_DAY = 24 * NS_PER_HOUR
NS_PER_WEEK = 7 * NS_PER_DAY

SECONDS_PER_DAY = 86_400
