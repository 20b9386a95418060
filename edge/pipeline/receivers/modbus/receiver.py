"""The modbus receiver: polls the registers of every stream from a Modbus TCP or RTU device.

Each pass reads the planned requests (`plan`) one after the other on one client, decodes them
(`decode`) and stores one record per stream, at the pass's start time, under a batch key of the
stream and that time. pymodbus is imported when the first client is made.

What goes wrong, and what the streams see:
- The device cannot be reached (refused, port missing, connection dropped): a `connection`
  marker on every stream and nothing stored this pass; the next pass connects again.
- A request answered with a Modbus exception, or not answered in time: a `modbus` marker on
  the streams whose values it held, naming them and the exception; the pass goes on with the
  other requests (a unit that did not answer is not asked again in this pass). A stream stores
  the values it did get; its marker clears once a pass reads all of them.
- A merged request refused with exception 2 (illegal data address) while it reads through gaps
  is split at its gaps for good and read again at once: the device does not have the addresses
  in between.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from edge.pipeline.batch import RecordBatch
from edge.pipeline.receivers.modbus.decode import Point, decoders_for
from edge.pipeline.receivers.modbus.plan import (BIT_TABLES, DEFAULT_MAX_GAP, ReadRequest, Span, default_data_type,
                                                 plan_reads, split_at_gaps, width_of)
from edge.pipeline.runtime.context import ComponentContext, PollResult
from edge.pipeline.runtime.markers import CONNECTION
from edge.pipeline.runtime.records import RecordStore, RecordStream, StreamBlocked, column_array, record_streams

MODBUS = "modbus"  # marker category
TIME_FIELD = "timestamp"
DEFAULT_TCP_PORT = 502
DEFAULT_TIMEOUT = 3.0
ILLEGAL_DATA_ADDRESS = 2
PENDING_LIMIT = 1000  # records per stream kept for the historian while it refuses them
EXCEPTIONS = {1: "illegal function", 2: "illegal data address", 3: "illegal data value", 4: "server device failure",
              5: "acknowledge", 6: "server device busy", 7: "negative acknowledge", 8: "memory parity error",
              10: "gateway path unavailable", 11: "gateway target device failed to respond"}


class ReadFailed(Exception):
    """A request got no usable answer; the text says why (exception code or timeout)."""

    def __init__(self, text: str, code: int | None = None):
        super().__init__(text)
        self.code = code


class ConnectionLost(Exception):
    """The device cannot be reached: no request can be read this pass."""


def configured_points(streams: list[RecordStream], default_unit: int) -> list[Point]:
    """Every register of every stream as a Point (the entries are valid by the schema and checks)."""
    points = []
    for index, stream in enumerate(streams):
        unit = int(stream.entry.get("unit_id", default_unit))
        for register in stream.entry.get("registers") or []:
            table = register["table"]
            data_type = register.get("data_type") or default_data_type(table)
            span = Span(unit, table, int(register["address"]), width_of(data_type, register.get("count")))
            points.append(Point(index, register["exportname"], span, data_type, register.get("byte_order", "big"),
                                register.get("word_order", "big"), register.get("scale", 1),
                                register.get("offset", 0), register.get("bit")))
    return points


class ModbusClient:
    """One pymodbus client over TCP or RTU, connected on demand."""

    def __init__(self, connection: dict[str, Any]):
        self.transport = connection.get("transport", "tcp")
        self.timeout = float(connection.get("timeout", DEFAULT_TIMEOUT))
        if self.transport == "rtu":
            self.label = str(connection["serial_port"])
        else:
            self.label = f"{connection['host']}:{int(connection.get('port', DEFAULT_TCP_PORT))}"
        self._connection = connection
        self._client = None

    def _make(self):
        from pymodbus.client import ModbusSerialClient, ModbusTcpClient

        c = self._connection
        if self.transport == "rtu":
            return ModbusSerialClient(str(c["serial_port"]), baudrate=int(c.get("baudrate", 19200)),
                                      bytesize=int(c.get("bytesize", 8)), parity=str(c.get("parity", "E")),
                                      stopbits=int(c.get("stopbits", 1)), timeout=self.timeout, retries=0)
        return ModbusTcpClient(str(c["host"]), port=int(c.get("port", DEFAULT_TCP_PORT)), timeout=self.timeout,
                               retries=0)

    def read(self, request: ReadRequest) -> list[int] | list[bool]:
        """The request's registers or bits; ReadFailed or ConnectionLost."""
        from pymodbus.exceptions import ConnectionException, ModbusException

        if self._client is None:
            self._client = self._make()
        if not self._client.connected and not self._client.connect():
            self.close()
            raise ConnectionLost(f"{self.label}: cannot connect")
        reader = {"holding": self._client.read_holding_registers, "input": self._client.read_input_registers,
                  "coil": self._client.read_coils, "discrete": self._client.read_discrete_inputs}[request.table]
        try:
            response = reader(request.address, count=request.count, device_id=request.unit)
        except ConnectionException as exc:
            self.close()
            raise ConnectionLost(f"{self.label}: {_first_line(exc)}") from None
        except ModbusException as exc:  # no (complete) answer in time
            if self.transport == "tcp":
                self.close()  # a late answer would be taken for the next request's
            raise ReadFailed(f"no answer within {self.timeout:g} s ({_first_line(exc)})") from None
        except OSError as exc:
            self.close()
            raise ConnectionLost(f"{self.label}: {exc}") from None
        if response.isError():
            code = int(getattr(response, "exception_code", 0) or 0)
            raise ReadFailed(f"Modbus exception {code} ({EXCEPTIONS.get(code, 'unknown')})", code)
        values = response.bits if request.table in BIT_TABLES else response.registers
        if len(values) < request.count:
            raise ReadFailed(f"answer holds {len(values)} of {request.count} values")
        return values

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # noqa: BLE001 - closing a broken client; it is dropped regardless
                pass
            self._client = None


class ModbusReceiver:
    def __init__(self, context: ComponentContext):
        self._context = context
        config = context.config
        connection = (config.get("connections") or [{}])[0]
        self.client = ModbusClient(connection)
        self.store = RecordStore(context, record_streams(config, context.full_config))
        self.points = configured_points(self.store.streams, int(connection.get("unit_id", 1)))
        self.max_gap = int(connection.get("max_gap", DEFAULT_MAX_GAP))
        self._decoders = decoders_for(plan_reads((p.span for p in self.points), self.max_gap), self.points)
        self._pending: dict[int, list[tuple[RecordBatch, str]]] = {}  # stream -> batches the store refused
        self._failed: dict[int, str] = {}  # stream -> the modbus marker standing
        self._connection_shown: str | None = None  # the connection marker standing

    @property
    def requests(self) -> list[ReadRequest]:
        return [d.request for d in self._decoders]

    def poll(self) -> PollResult:
        self.store.report_problems()
        stored = self._store_pending()
        now = time.time_ns()
        try:
            values, failures = self._read_all()
        except ConnectionLost as exc:
            if str(exc) != self._connection_shown:  # once, not every poll
                for stream in self.store.streams:
                    self.store.markers.mark(stream, CONNECTION, "error", str(exc))
                self._connection_shown = str(exc)
            return PollResult(0, stored)
        self._connection_shown = None
        for stream in self.store.streams:
            self.store.markers.clear(stream, CONNECTION)
        records = 0
        for index, stream in enumerate(self.store.streams):
            self._report(index, stream, failures.get(index, []))
            fields = values.get(index)
            if not fields:
                continue
            batch = RecordBatch(stream.asset, stream.stream_type,
                                {TIME_FIELD: np.array([now], dtype=np.int64).view("datetime64[ns]"),
                                 **{name: column_array([value]) for name, value in fields.items()}}, TIME_FIELD)
            key = self.store.batch_key(stream, str(now))
            records += 1
            stored += self._store(index, stream, batch, key)
        return PollResult(records, stored)

    def _read_all(self) -> tuple[dict[int, dict[str, Any]], dict[int, list[tuple[Point, str]]]]:
        """(stream -> field -> value, stream -> [(point, why not read)]) of one pass over the plan."""
        values: dict[int, dict[str, Any]] = {}
        failures: dict[int, list[tuple[Point, str]]] = {}
        silent: dict[int, str] = {}  # units that did not answer in this pass
        queue = list(self._decoders)
        while queue:
            if self._context.stop.is_set():
                break
            decoder = queue.pop(0)
            request = decoder.request
            try:
                if request.unit in silent:
                    raise ReadFailed(silent[request.unit])
                data = self.client.read(request)
            except ReadFailed as exc:
                if exc.code == ILLEGAL_DATA_ADDRESS and request.has_gaps:
                    pieces = decoders_for(split_at_gaps(request), decoder.points)
                    at = self._decoders.index(decoder)
                    self._decoders[at:at + 1] = pieces
                    self._context.log.info("%s refused addresses between configured ones; reading %s in %d parts "
                                           "from now on", self.client.label, request.describe(), len(pieces))
                    queue[:0] = pieces
                    continue
                if exc.code is None:
                    silent[request.unit] = f"unit {request.unit} did not answer in this pass: {exc}"
                for point in decoder.points:
                    failures.setdefault(point.stream, []).append((point, f"{request.describe()}: {exc}"))
                continue
            for point, value in decoder.decode(data):
                values.setdefault(point.stream, {})[point.field] = value
        return values, failures

    def _report(self, index: int, stream: RecordStream, failures: list[tuple[Point, str]]) -> None:
        if not failures:
            self._failed.pop(index, None)
            self.store.markers.clear(stream, MODBUS)  # costs nothing when none stands
            return
        by_reason: dict[str, list[str]] = {}
        for point, reason in failures:
            by_reason.setdefault(reason, []).append(point.describe())
        text = "; ".join(f"{', '.join(names)}: {reason}" for reason, names in by_reason.items())
        text = f"{len(failures)} value(s) not read: {text}"
        if self._failed.get(index) != text:
            self.store.markers.mark(stream, MODBUS, "error", text)
            self._failed[index] = text

    def _store(self, index: int, stream: RecordStream, batch: RecordBatch, key: str) -> int:
        try:
            return self.store.store(stream, batch, key)
        except StreamBlocked:
            pending = self._pending.setdefault(index, [])
            pending.append((batch, key))
            del pending[:-PENDING_LIMIT]  # the oldest go first when the historian stays away that long
            return 0

    def _store_pending(self) -> int:
        """Stores the records the historian refused before, oldest first, under their own keys."""
        stored = 0
        for index, pending in list(self._pending.items()):
            stream = self.store.streams[index]
            while pending:
                batch, key = pending[0]
                try:
                    stored += self.store.store(stream, batch, key)
                except StreamBlocked:
                    break
                pending.pop(0)
            if not pending:
                del self._pending[index]
        return stored

    def close(self) -> None:
        self.client.close()


def _first_line(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0][:300]
