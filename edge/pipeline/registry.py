"""The component registry: one line per pipeline component.

A component is one folder under `edge/pipeline/<kind>/<name>/` holding its code, its
`schema.json` (used by /v1/config/validate and served by /v1/meta) and, for receivers, its
`template.json` (served by /v1/config/templates). Adding a component touches its folder and
one line below. Runtime code is imported only when a configured component needs it, so a
protocol library (smbprotocol, asyncua ...) loads only where it is used.

A component is *offered* (its template served, listed by /v1/meta, accepted by validation) only
once it has a runtime, so a user cannot pick one and then find that nothing runs. A folder
without a runtime keeps its schema and template for the change that adds the runtime.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.resources
import json
from typing import Any

DATA_RECEIVER = "data_receiver"
PARSER = "parser"
TRANSFORM = "transform"
DATA_TRANSMIT = "data_transmit"


@dataclasses.dataclass(frozen=True)
class Component:
    section: str  # DATA_RECEIVER, PARSER, TRANSFORM or DATA_TRANSMIT
    type_name: str  # the protocol / parser_type / transform_type / transmit_type value
    package: str  # the component's folder as a package
    title: str  # what a person calls it (in /v1/meta)
    runtime: str | None = None  # "module:attribute" of the code that runs it, when it has any
    # "module:function" of the component's own rules a schema cannot state (a SQL query naming
    # its state fields, Modbus registers that overlap): `checks(entry) -> list[Violation]`, with
    # json paths relative to the entry. Run only on an entry its schema accepts.
    checks: str | None = None

    @property
    def offered(self) -> bool:
        """Whether /v1/config/templates and /v1/meta offer it: it has code that runs it."""
        return self.runtime is not None

    @functools.cached_property
    def schema(self) -> dict[str, Any]:
        return self._json("schema.json")

    @functools.cached_property
    def template(self) -> dict[str, Any] | None:
        if not importlib.resources.files(self.package).joinpath("template.json").is_file():
            return None
        return self._json("template.json")

    def load_runtime(self) -> Any | None:
        return _load(self.runtime)

    def load_checks(self) -> Any | None:
        return _load(self.checks)

    def _json(self, name: str) -> dict[str, Any]:
        return json.loads(importlib.resources.files(self.package).joinpath(name).read_text("utf-8"))


def _load(target: str | None) -> Any | None:
    if target is None:
        return None
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


_P = "edge.pipeline"

COMPONENTS: tuple[Component, ...] = (
    Component(DATA_RECEIVER, "localfile", f"{_P}.receivers.localfile", "Local File",
              runtime=f"{_P}.receivers.localfile.receiver:LocalFileReceiver"),
    Component(DATA_RECEIVER, "smb", f"{_P}.receivers.smb", "SMB Network Share",
              runtime=f"{_P}.receivers.smb.receiver:SmbReceiver"),
    Component(DATA_RECEIVER, "sql", f"{_P}.receivers.sql", "SQL",
              runtime=f"{_P}.receivers.sql.receiver:SqlReceiver", checks=f"{_P}.receivers.sql.checks:sql_checks"),
    Component(DATA_RECEIVER, "opcua", f"{_P}.receivers.opcua", "OPC UA",
              runtime=f"{_P}.receivers.opcua.receiver:OpcuaReceiver", checks=f"{_P}.receivers.opcua.checks:checks"),
    Component(DATA_RECEIVER, "serial", f"{_P}.receivers.serial", "Serial Line Device",
              runtime=f"{_P}.receivers.serial.receiver:SerialReceiver",
              checks=f"{_P}.receivers.serial.checks:serial_checks"),
    Component(DATA_RECEIVER, "modbus", f"{_P}.receivers.modbus", "Modbus TCP / RTU",
              runtime=f"{_P}.receivers.modbus.receiver:ModbusReceiver",
              checks=f"{_P}.receivers.modbus.checks:modbus_checks"),
    Component(PARSER, "spreadsheet", f"{_P}.parsers.spreadsheet", "Spreadsheet (CSV)",
              runtime=f"{_P}.parsers.spreadsheet.parser:SpreadsheetParser"),
    Component(TRANSFORM, "convert_timestamps", f"{_P}.transforms.convert_timestamps", "Convert Timestamps",
              runtime=f"{_P}.transforms.convert_timestamps.transform:ConvertTimestampsTransform"),
    Component(TRANSFORM, "rename", f"{_P}.transforms.rename", "Rename Fields",
              runtime=f"{_P}.transforms.rename.transform:RenameTransform"),
    Component(TRANSFORM, "filter", f"{_P}.transforms.filter", "Filter Records",
              runtime=f"{_P}.transforms.filter.transform:FilterTransform"),
    Component(TRANSFORM, "replicate", f"{_P}.transforms.replicate", "Replicate Fields",
              runtime=f"{_P}.transforms.replicate.transform:ReplicateTransform"),
    Component(TRANSFORM, "checksum_record", f"{_P}.transforms.checksum_record", "Record Checksum",
              runtime=f"{_P}.transforms.checksum_record.transform:ChecksumRecordTransform"),
    Component(DATA_TRANSMIT, "remotedatapost", f"{_P}.transmits.remotedatapost", "Sight Machine Remote Data Post",
              runtime=f"{_P}.transmits.remotedatapost.transmit:RemoteDataPostTransmit"),
    Component(DATA_TRANSMIT, "mqtt", f"{_P}.transmits.mqtt", "MQTT Broker",
              runtime=f"{_P}.transmits.mqtt.transmit:MqttTransmit"),
)


def components(section: str) -> list[Component]:
    return [c for c in COMPONENTS if c.section == section]


def offered(section: str) -> list[Component]:
    """The components of a section a user may pick, in registry order."""
    return [c for c in components(section) if c.offered]


def find(section: str, type_name: str) -> Component | None:
    return next((c for c in COMPONENTS if c.section == section and c.type_name == type_name), None)
