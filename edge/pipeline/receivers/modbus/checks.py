"""Rules of a modbus receiver entry that its schema cannot state (run on an entry the schema accepts).

Per stream: a data type must fit its table (coils and discrete inputs hold bits: bool only);
`count` belongs to strings and `bit` to bools of registers; a value must end at address 65535
at the latest; two values of one stream must not share an address of the same unit's table
(two bools on different bits of one register may); exportnames are unique and not 'timestamp'.
"""

from __future__ import annotations

from typing import Any

from edge.pipeline.config.violations import Violation, error, quoted
from edge.pipeline.receivers.modbus.plan import BIT_TABLES, LAST_ADDRESS, default_data_type, width_of

TIME_FIELD = "timestamp"


def modbus_checks(entry: dict[str, Any]) -> list[Violation]:
    found: list[Violation] = []
    connection = (entry.get("connections") or [{}])[0]
    default_unit = connection.get("unit_id", 1)
    for i, stream in enumerate(entry.get("streams") or []):
        unit = stream.get("unit_id", default_unit)
        taken: dict[tuple[str, int], list[tuple[int, int | None]]] = {}  # (table, address) -> [(index, bit)]
        names: dict[str, int] = {}
        for j, register in enumerate(stream.get("registers") or []):
            path = ("streams", i, "registers", j)
            found += _register_violations(path, register)
            name = register["exportname"]
            if name == TIME_FIELD:
                found.append(error(path + ("exportname",), f"exportname {quoted(TIME_FIELD)} is the poll time's field; "
                                                           "name the value otherwise."))
            elif name in names:
                found.append(error(path + ("exportname",), f"exportname {quoted(name)} is used twice in this stream "
                                                           f"(first by registers[{names[name]}])."))
            else:
                names[name] = j
            found += _overlaps(path, register, taken, stream["registers"], unit)
    return found


def _register_violations(path, register: dict) -> list[Violation]:
    table = register["table"]
    data_type = register.get("data_type") or default_data_type(table)
    found = []
    if table in BIT_TABLES and data_type != "bool":
        found.append(error(path + ("data_type",), f"data_type {quoted(data_type)} does not fit table {quoted(table)}: "
                                                  "coils and discrete inputs hold single bits, read as bool."))
    if "count" in register and data_type != "string":
        found.append(error(path + ("count",), "count applies to data_type \"string\" only (the other types have a "
                                              "fixed number of registers)."))
    if "bit" in register and (data_type != "bool" or table in BIT_TABLES):
        found.append(error(path + ("bit",), "bit applies to a bool read from a holding or input register only."))
    for option in ("scale", "offset"):
        if option in register and data_type in ("bool", "string"):
            found.append(error(path + (option,), f"{option} applies to numbers; data_type {quoted(data_type)} "
                                                 "is not one."))
    last = register["address"] + width_of(data_type, register.get("count")) - 1
    if last > LAST_ADDRESS:
        found.append(error(path + ("address",), f"A {data_type} at address {register['address']} takes addresses up "
                                                f"to {last}, past the last Modbus address {LAST_ADDRESS}."))
    return found


def _overlaps(path, register: dict, taken: dict, registers: list, unit) -> list[Violation]:
    table = register["table"]
    data_type = register.get("data_type") or default_data_type(table)
    bit = register.get("bit") if data_type == "bool" and table not in BIT_TABLES else None
    width = width_of(data_type, register.get("count"))
    for address in range(register["address"], min(register["address"] + width, LAST_ADDRESS + 1)):
        for index, other_bit in taken.get((table, address), ()):
            if bit is None or other_bit is None or other_bit == bit:
                return [error(path + ("address",), f"{register['exportname']} ({table} {address}, unit {unit}) "
                                                   f"overlaps registers[{index}] ({registers[index]['exportname']}) "
                                                   "of this stream.")]
    for address in range(register["address"], min(register["address"] + width, LAST_ADDRESS + 1)):
        taken.setdefault((table, address), []).append((path[-1], bit))
    return []
