"""A real asyncua OPC UA server on loopback with a small simulated plant, for tests and the bench.

`PlantServer(port).start()` serves `opc.tcp://127.0.0.1:<port>/` from an event loop on a
thread of its own. The plant's variables live in namespace `urn:edge:test-plant` with string
NodeIds (`PLANT`): a counter, a sine, a boolean, a text, an array, a sensor that can turn Bad,
and the template's `Spraypaint.Drying.Fan.Speed`. Tests change them with exact values, source
timestamps and status codes (`write`), add and remove nodes, or let the plant tick on its own
(`start_ticking`). `stop()` and `start()` again restart the server on the same port with the
values it had, as a PLC rebooting would.

Security: `secure=True` offers None and Basic256Sha256 (Sign, SignAndEncrypt) endpoints with
a server certificate made in `folder`; `users` makes user names and passwords required;
`trust(certificate)` adds a client certificate to the server's trust list (an empty list
trusts nobody on a secure channel).

`python -m tests.integration.peers.opcua_server --port P --items N --hz F` serves N counters
`Bench.<i>` changing F times a second while told to (the bench's plant, in a process of its
own; see `main`).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import logging
import math
import sys
import threading
import time
from pathlib import Path
from typing import Any

from asyncua import Server, ua
from asyncua.crypto import cert_gen
from asyncua.server.user_managers import UserManager
from asyncua.crypto.permission_rules import User, UserRole
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.loopback import free_port

NAMESPACE = "urn:edge:test-plant"
# name -> (initial value, variant type)
PLANT: dict[str, tuple[Any, ua.VariantType]] = {
    "Line1.Counter": (0, ua.VariantType.Int64),
    "Line1.Sine": (0.0, ua.VariantType.Double),
    "Line1.Running": (False, ua.VariantType.Boolean),
    "Line1.Recipe": ("idle", ua.VariantType.String),
    "Line1.Profile": ([0.0, 0.0, 0.0], ua.VariantType.Double),
    "Line1.Sensor": (20.0, ua.VariantType.Double),
    "Spraypaint.Drying.Fan.Speed": (1200.0, ua.VariantType.Double),
}
SERVER_URI = "urn:edge:test-plant-server"
logging.getLogger("asyncua").setLevel(logging.ERROR)


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class _Users(UserManager):
    def __init__(self, users: dict[str, str]):
        self.users = users

    def get_user(self, iserver, username=None, password=None, certificate=None):
        if username is not None and self.users.get(username) == password:
            return User(role=UserRole.User)
        return None


class PlantServer:
    def __init__(self, port: int | None = None, folder: Path | None = None, secure: bool = False,
                 users: dict[str, str] | None = None, items: int = 0):
        self.port = port or free_port()
        self.folder = folder
        self.secure = secure
        self.users = users
        self.items = items  # extra counters Bench.0 .. Bench.<items-1>
        self.trusted: set[str] = set()  # SHA-1 thumbprints of trusted client certificates
        self.values: dict[str, ua.DataValue] = {}  # kept across restarts
        self.changes = 0  # value changes the ticking made
        self.bench_changes = 0  # of them, changes of the Bench counters
        self.ticking_hz = 0.0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="opcua-plant", daemon=True)
        self._thread.start()
        self._server: Server | None = None
        self._nodes: dict[str, Any] = {}
        self._ns = 0
        self._ticker: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"opc.tcp://127.0.0.1:{self.port}/"

    @property
    def connection(self) -> dict[str, Any]:
        return {"host": "127.0.0.1", "port": self.port, "timeout": 3, "endpoint_path": "/"}

    def node_id(self, name: str) -> str:
        return f"ns={self._ns};s={name}"

    def run(self, coroutine, timeout: float = 30.0):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    # -- life -------------------------------------------------------------------------------

    def start(self) -> PlantServer:
        self.run(self._start())
        return self

    def stop(self) -> None:
        if self._server is not None:
            self.run(self._stop())

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def session_count(self) -> int:
        async def count():
            return len(self._server.iserver.subscription_service.subscriptions) if self._server else 0
        return self.run(count())

    async def _start(self) -> None:
        server = Server()
        if self.users is not None:
            server = Server(user_manager=_Users(self.users))
        await server.init()
        server.set_endpoint(f"opc.tcp://127.0.0.1:{self.port}/")
        server.set_server_name("edge test plant")
        await server.set_application_uri(SERVER_URI)
        if self.secure:
            key, cert = self.folder / "server-key.pem", self.folder / "server-cert.der"
            await cert_gen.setup_self_signed_certificate(key, cert, SERVER_URI, "127.0.0.1",
                                                         [ExtendedKeyUsageOID.SERVER_AUTH], {})
            await server.load_certificate(cert)
            await server.load_private_key(key)
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity,
                                        ua.SecurityPolicyType.Basic256Sha256_Sign,
                                        ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
                                        ua.SecurityPolicyType.Aes128Sha256RsaOaep_SignAndEncrypt])
            server.set_certificate_validator(self._validate)
        else:
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        if self.users is not None:
            server.set_identity_tokens([ua.UserNameIdentityToken])
        self._ns = await server.register_namespace(NAMESPACE)
        self._server = server
        self._nodes = {}
        plant = dict(PLANT)
        plant.update({f"Bench.{i}": (0, ua.VariantType.Int64) for i in range(self.items)})
        for name in [n for n in self.values if n not in plant]:
            self.values.pop(name)
        for name, (value, vtype) in plant.items():
            await self._add(name, value, vtype)
        await server.start()

    async def _validate(self, certificate, app_description) -> None:
        from asyncua.ua.uaerrors import BadCertificateUntrusted
        from cryptography.hazmat.primitives.serialization import Encoding

        if hashlib.sha1(certificate.public_bytes(Encoding.DER)).hexdigest() not in self.trusted:
            raise BadCertificateUntrusted()

    async def _stop(self) -> None:
        await self._stop_ticking()
        for name, node in self._nodes.items():
            self.values[name] = self._server.read_attribute_value(node.nodeid)
        listener = getattr(self._server.bserver, "_server", None)
        if listener is not None:  # refuse new connections first: stop() waits for every open one to end
            listener.close()
        await self._server.stop()
        self._server = None

    async def _add(self, name: str, value: Any, vtype: ua.VariantType) -> None:
        objects = self._server.get_objects_node()
        node = await objects.add_variable(ua.NodeId(name, self._ns), ua.QualifiedName(name, self._ns),
                                          ua.Variant(value, vtype))
        self._nodes[name] = node
        if name in self.values:
            await self._server.write_attribute_value(node.nodeid, self.values[name])

    # -- the plant --------------------------------------------------------------------------

    def trust(self, certificate: Path) -> None:
        self.trusted.add(hashlib.sha1(Path(certificate).read_bytes()).hexdigest())

    def write(self, name: str, value: Any, source: dt.datetime | None = None, status: int = ua.StatusCodes.Good,
              server_time: dt.datetime | None = None) -> None:
        """Sets a variable as a device would: its value, source timestamp and status code."""
        async def write():
            vtype = PLANT.get(name, (None, None))[1]
            variant = ua.Variant(value, vtype) if vtype is not None and value is not None else ua.Variant(value)
            await self._server.write_attribute_value(
                self._nodes[name].nodeid,
                ua.DataValue(variant, StatusCode=ua.StatusCode(status), SourceTimestamp=source,
                             ServerTimestamp=server_time or now_utc()))
        self.run(write())

    def read(self, name: str) -> ua.DataValue:
        async def read():
            return self._server.read_attribute_value(self._nodes[name].nodeid)
        return self.run(read())

    def add(self, name: str, value: float) -> None:
        self.run(self._add(name, value, ua.VariantType.Double))

    def remove(self, name: str) -> None:
        async def remove():
            await self._server.delete_nodes([self._nodes.pop(name)])
        self.run(remove())

    def start_ticking(self, hz: float) -> None:
        """Changes the counter (+1), sine, Running and every Bench counter `hz` times a second."""
        self.ticking_hz = hz

        async def start():
            self._ticker = asyncio.get_running_loop().create_task(self._tick(hz))
        self.run(start())

    def stop_ticking(self) -> None:
        self.run(self._stop_ticking())

    async def _stop_ticking(self) -> None:
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            ticker.cancel()
            try:
                await ticker
            except asyncio.CancelledError:
                pass

    async def _tick(self, hz: float) -> None:
        period = 1.0 / hz
        names = ["Line1.Counter"] + [f"Bench.{i}" for i in range(self.items)]
        node_ids = [self._nodes[name].nodeid for name in names]
        counts = [self._server.read_attribute_value(n).Value.Value or 0 for n in node_ids]
        write = self._server.write_attribute_value
        next_at = time.monotonic()
        while True:
            stamp = now_utc()
            for index, node_id in enumerate(node_ids):
                counts[index] += 1
                await write(node_id, ua.DataValue(ua.Variant(counts[index], ua.VariantType.Int64),
                                                  SourceTimestamp=stamp, ServerTimestamp=stamp))
            self.changes += len(node_ids)
            self.bench_changes += self.items
            await write(self._nodes["Line1.Sine"].nodeid,
                        ua.DataValue(ua.Variant(math.sin(counts[0] / 10), ua.VariantType.Double),
                                     SourceTimestamp=stamp, ServerTimestamp=stamp))
            next_at += period
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))


def main(argv: list[str]) -> int:
    """The bench's plant in a process of its own: prints its port, then reads commands on
    stdin: `tick` starts the ticking, `stop` stops it and prints the Bench changes made since
    `tick`; end of input stops the server."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--hz", type=float, default=10.0)
    args = parser.parse_args(argv)
    plant = PlantServer(args.port or None, items=args.items).start()
    print(plant.port, flush=True)
    for line in sys.stdin:
        if line.strip() == "tick":
            plant.bench_changes = 0
            plant.start_ticking(args.hz)
        elif line.strip() == "stop":
            plant.stop_ticking()
            print(plant.bench_changes, flush=True)
    plant.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
