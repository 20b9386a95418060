"""README.md is assembled from README.d: ./build.sh readme [--check]

Each part of README.d is a chapter, put together in READING_ORDER; the settings table of
the intro (the line SETTINGS_TABLE) comes from `edge.settings.SETTINGS`, so a setting is
documented where it is defined. Edit README.d, then run this; `--check` only says whether
README.md is current (a test runs the same check).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
READING_ORDER = ("00-intro", "ftx-config", "ftx-control", "pipeline", "sql-receiver", "opcua-receiver",
                 "serial-modbus", "transmits", "machiot", "influx", "sql", "store", "appliance", "web-ui",
                 "architecture")
PLACEHOLDER = "SETTINGS_TABLE"


def settings_table() -> str:
    from edge.settings import SETTINGS

    rows = []
    for setting in SETTINGS:
        if setting.default is not None:
            default = f"`{setting.default}`"
        else:  # derived at start-up: the text says from what ("...; default <DATA_DIR>/logs.")
            default = setting.doc.rsplit("default ", 1)[-1].rstrip(".")
            if "<" in default or "/" in default:
                default = f"`{default}`"
        rows.append(f"| `{setting.key}` | {default} | {setting.doc} |")
    return "\n".join(rows)


def assemble(parts: Path = REPO / "README.d") -> str:
    found = {path.stem for path in parts.glob("*.md")}
    if found != set(READING_ORDER):
        raise SystemExit(f"README.d holds {sorted(found)}; READING_ORDER in {__file__} names {sorted(READING_ORDER)}")
    chapters = [(parts / f"{name}.md").read_text().rstrip() + "\n" for name in READING_ORDER]
    return "\n".join(chapters).replace(PLACEHOLDER, settings_table())


def main(argv: list[str]) -> int:
    text = assemble()
    target = REPO / "README.md"
    if argv == ["--check"]:
        if target.read_text() != text:
            print("README.md is not assembled from README.d: run ./build.sh readme", file=sys.stderr)
            return 1
        return 0
    if argv:
        print("usage: ./build.sh readme [--check]", file=sys.stderr)
        return 2
    target.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
