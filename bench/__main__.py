"""./build.sh bench NAME [args]: runs bench/NAME.py's main(args).

  ingest         JSON appends to /machiot against InfluxDB 1.x, raw and hourly queries
  line_protocol  InfluxDB line protocol to /write against InfluxDB 1.x, plain and gzip
  load           a live server under 64 connections of mixed appends and queries
  pipeline, sql, store   see their modules
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_"))
    if not argv or argv[0] not in names:
        print(f"usage: ./build.sh bench {{{'|'.join(names)}}} [args]", file=sys.stderr)
        return 2
    return importlib.import_module(f"bench.{argv[0]}").main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
