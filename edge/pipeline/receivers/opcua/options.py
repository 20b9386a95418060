"""The opcua receiver's configuration as typed values, with the defaults its schema documents."""

from __future__ import annotations

import dataclasses
from typing import Any

POLL, SUBSCRIBE = "poll", "subscribe"
NO_SECURITY = "None"
# Policy names as the configuration writes them -> asyncua's security policy class names.
SECURITY_POLICIES = {"Basic256Sha256": "SecurityPolicyBasic256Sha256",
                     "Aes128_Sha256_RsaOaep": "SecurityPolicyAes128Sha256RsaOaep"}
SECURITY_MODES = ("Sign", "SignAndEncrypt")
TIME_FIELD = "timestamp"  # the record field holding each record's time

DEFAULT_PORT = 4840
DEFAULT_TIMEOUT = 3.0
DEFAULT_SAMPLING_MS = 1000.0
DEFAULT_QUEUE_SIZE = 10


@dataclasses.dataclass(frozen=True)
class Connection:
    host: str
    port: int = DEFAULT_PORT
    timeout: float = DEFAULT_TIMEOUT
    endpoint_path: str = ""
    security_policy: str = NO_SECURITY
    security_mode: str | None = None
    username: str | None = None
    password: str | None = None

    @property
    def url(self) -> str:
        path = self.endpoint_path
        if path and not path.startswith("/"):
            path = "/" + path
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"opc.tcp://{host}:{self.port}{path}"

    @property
    def secure(self) -> bool:
        return self.security_policy != NO_SECURITY

    @property
    def mode(self) -> str:
        """The message security mode in force (SignAndEncrypt unless Sign is asked for)."""
        return self.security_mode or "SignAndEncrypt"


@dataclasses.dataclass(frozen=True)
class Tag:
    name: str  # NodeId text or string identifier, as configured
    exportname: str  # the record field of its value


@dataclasses.dataclass(frozen=True)
class Subscription:
    sampling_interval_ms: float = DEFAULT_SAMPLING_MS
    queue_size: int = DEFAULT_QUEUE_SIZE
    deadband: float | None = None  # absolute; None: every change


@dataclasses.dataclass(frozen=True)
class Options:
    connection: Connection
    mode: str
    subscription: Subscription
    tags: tuple[tuple[Tag, ...], ...]  # per configured stream, in order


def options_of(config: dict[str, Any]) -> Options:
    """The options of a receiver entry its schema accepted."""
    raw = (config.get("connections") or [{}])[0]
    connection = Connection(
        host=str(raw.get("host", "")), port=int(raw.get("port", DEFAULT_PORT)),
        timeout=float(raw.get("timeout", DEFAULT_TIMEOUT)), endpoint_path=str(raw.get("endpoint_path", "")),
        security_policy=str(raw.get("security_policy", NO_SECURITY)), security_mode=raw.get("security_mode"),
        username=raw.get("username") or None, password=raw.get("password"))
    subscription = Subscription(float(config.get("sampling_interval_ms", DEFAULT_SAMPLING_MS)),
                                int(config.get("queue_size", DEFAULT_QUEUE_SIZE)),
                                None if config.get("deadband") is None else float(config["deadband"]))
    tags = tuple(tuple(Tag(str(t["name"]), str(t.get("exportname") or t["name"])) for t in s.get("opcua_tags") or [])
                 for s in config.get("streams") or [] if isinstance(s, dict))
    return Options(connection, str(config.get("mode", POLL)), subscription, tags)
