"""A real pymodbus server for the Modbus receiver tests and bench: TCP on a free loopback port, or
RTU on one end of a serial line (a socat pty pair, see socat_pty.py).

The server runs its own asyncio loop on a daemon thread (`ModbusPeer.start` / `stop`, and start
again on the same address to replug). Each device (unit id) has the four tables, each
`size` addresses long; coils and discrete inputs are kept as bits. The test sets words and bits
with `set_registers` / `set_bits`, makes addresses answer a Modbus exception with `fail`, and
holding register `COUNTER` counts the reads that reached the device, so values change between
polls. A unit the server does not have gets no answer, as on a bus without that device.

Run as a program (`python -m tests.integration.peers.modbus_server --port N`) it serves until
killed, holding register a = a (the bench uses it that way, so the server does not share the
client's interpreter).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import threading

from tests.loopback import free_port

COUNTER = 0  # holding register that counts the reads of a device
TABLES = ("coil", "discrete", "holding", "input")
_FUNCTION_TABLE = {1: "coil", 2: "discrete", 3: "holding", 4: "input"}


class Device:
    """One unit's tables, as plain lists the server's action reads and writes."""

    def __init__(self, size: int):
        self.size = size
        self.words = {"holding": [0] * size, "input": [0] * size}
        self.bits = {"coil": [False] * size, "discrete": [False] * size}
        self.failing: dict[tuple[str, int], int] = {}  # (table, address) -> exception code
        self.reads = 0


class ModbusPeer:
    def __init__(self, units=(1,), size: int = 1000, host: str = "127.0.0.1", port: int = 0,
                 serial_port: str | None = None, baudrate: int = 115200):
        self.devices = {unit: Device(size) for unit in units}
        self.size = size
        self.host = host
        self.port = port or free_port()
        self.serial_port = serial_port
        self.baudrate = baudrate
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server = None
        self._thread: threading.Thread | None = None
        logging.getLogger("pymodbus").setLevel(logging.ERROR)  # its deprecation notes and per-request chatter

    # -- what tests change -----------------------------------------------------------------

    def set_registers(self, table: str, address: int, words, unit: int = 1) -> None:
        target = self.devices[unit].words[table]
        target[address:address + len(words)] = [int(w) & 0xFFFF for w in words]

    def set_bits(self, table: str, address: int, bits, unit: int = 1) -> None:
        target = self.devices[unit].bits[table]
        target[address:address + len(bits)] = [bool(b) for b in bits]

    def fail(self, table: str, address: int, code: int | None, unit: int = 1) -> None:
        """Reads covering `address` answer exception `code` (None: answer normally again)."""
        if code is None:
            self.devices[unit].failing.pop((table, address), None)
        else:
            self.devices[unit].failing[(table, address)] = code

    def reads(self, unit: int = 1) -> int:
        return self.devices[unit].reads

    # -- running ---------------------------------------------------------------------------

    def start(self, timeout: float = 15) -> ModbusPeer:
        started = threading.Event()
        failure: list[BaseException] = []

        def run():
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(self._serve())
            except BaseException as exc:  # noqa: BLE001 - handed to start(), which raises it
                failure.append(exc)
                started.set()
                return
            started.set()
            self._loop.run_forever()
            self._loop.close()

        self._thread = threading.Thread(target=run, name="modbus-peer", daemon=True)
        self._thread.start()
        if not started.wait(timeout) or failure:
            raise RuntimeError(f"modbus server did not start: {failure[0] if failure else 'timeout'}")
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        loop, server = self._loop, self._server
        try:
            asyncio.run_coroutine_threadsafe(server.shutdown(), loop).result(10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(10)
            self._loop = self._server = self._thread = None

    async def _serve(self) -> None:
        self._server = self._build()  # inside the loop: pymodbus binds it to the running loop
        await self._server.serve_forever(background=True)

    def _build(self):
        from pymodbus.server import ModbusSerialServer, ModbusTcpServer
        from pymodbus.simulator import DataType, SimData, SimDevice

        devices = []
        for unit, device in self.devices.items():
            blocks = ([SimData(0, count=self.size // 16 + 1, values=0, datatype=DataType.BITS)],
                      [SimData(0, count=self.size // 16 + 1, values=0, datatype=DataType.BITS)],
                      [SimData(0, count=self.size, values=0, datatype=DataType.REGISTERS)],
                      [SimData(0, count=self.size, values=0, datatype=DataType.REGISTERS)])
            devices.append(SimDevice(unit, simdata=blocks, action=self._action(device)))
        if self.serial_port:
            server = ModbusSerialServer(devices, port=self.serial_port, baudrate=self.baudrate, timeout=1,
                                        reconnect_delay=0.2, ignore_missing_devices=True)
        else:
            server = ModbusTcpServer(devices, address=(self.host, self.port), ignore_missing_devices=True)
        server.context = _KnownUnits(server.context)
        return server

    @staticmethod
    def _action(device: Device):
        async def action(function_code, start_address, address, count, registers, values):
            from pymodbus.constants import ExcCodes

            table = _FUNCTION_TABLE.get(function_code)
            if table is None:
                return None
            if any(device.failing.get((table, a)) for a in range(address, address + count)):
                code = next(device.failing[(table, a)] for a in range(address, address + count)
                            if (table, a) in device.failing)
                return ExcCodes(code)
            device.reads += 1
            device.words["holding"][COUNTER] = device.reads & 0xFFFF
            if table in device.words:
                registers[address:address + count] = device.words[table][address:address + count]
            else:  # bits are packed 16 to a register, bit 0 first
                bits = device.bits[table]
                for index in range(address // 16, (address + count - 1) // 16 + 1):
                    word = 0
                    for bit in range(16):
                        at = index * 16 + bit
                        if at < device.size and bits[at]:
                            word |= 1 << bit
                    registers[index] = word
            return None
        return action


class _KnownUnits:
    """The server's datastore, saying 'no such device' for a unit it does not have.

    pymodbus 3.16's simulator core raises KeyError there, which the server answers with
    exception 4; NoSuchIdException makes it stay silent (`ignore_missing_devices`), as a bus
    without that unit is."""

    def __init__(self, core):
        self._core = core

    def _check(self, device_id: int) -> None:
        from pymodbus.exceptions import NoSuchIdException

        if device_id not in self._core.devices:
            raise NoSuchIdException(f"no unit {device_id}")

    async def async_getValues(self, device_id, func_code, address, count=1):
        self._check(device_id)
        return await self._core.async_getValues(device_id, func_code, address, count)

    async def async_setValues(self, device_id, func_code, address, values):
        self._check(device_id)
        return await self._core.async_setValues(device_id, func_code, address, values)

    def device_ids(self):
        return self._core.device_ids()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--size", type=int, default=10_000)
    args = parser.parse_args()
    peer = ModbusPeer(size=args.size, port=args.port)
    peer.set_registers("holding", 1, [i & 0xFFFF for i in range(1, args.size)])
    peer.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
