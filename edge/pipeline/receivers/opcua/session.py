"""The receiver's side of one OPC UA server: connect, find the tags, read or subscribe, reconnect.

Everything here runs on the receiver's own event loop (`loop.LoopThread`); the receiver's
thread reads what it needs through the thread-safe methods (`status`, `take_changes`,
`read_stream`). A supervisor task keeps the session: it connects (with the client
certificate on a secure channel, and the user when one is configured), resolves the tags
(once per connection, and the missing ones again every `retry_seconds`), creates the
subscription in subscribe mode, then watches the connection. On loss it drops the client and
connects again after a delay that doubles from `BACKOFF_START` up to `backoff_cap`.

In subscribe mode every data change lands in `changes` (the tags it feeds, DataValue, time
received) as it arrives, so nothing is lost between two passes of the receiver.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import threading
import time
from pathlib import Path
from typing import Any

from edge.pipeline.receivers.opcua.certificate import ClientCertificate, application_uri, ensure_client_certificate
from edge.pipeline.receivers.opcua.nodeids import is_full_node_id
from edge.pipeline.receivers.opcua.options import SECURITY_POLICIES, SUBSCRIBE, Options

BACKOFF_START = 1.0
BACKOFF_CAP = 30.0
RETRY_SECONDS = 10.0  # how often tags missing on the server are looked for again
EVENT_QUEUE = 200_000  # changes asyncua may hold between its publish loop and our consumer


class NotConnected(Exception):
    """The server cannot be read now; the text says why."""


@dataclasses.dataclass(frozen=True)
class TagRef:
    stream: int  # index of the stream in the configuration
    tag: int  # index of the tag in the stream


@dataclasses.dataclass(frozen=True)
class LinkStatus:
    connected: bool
    problem: str | None  # why not connected (None while connecting for the first time)
    missing: frozenset[TagRef]  # tags not found on the server in this connection


class OpcuaLink:
    """One receiver's session with its server, kept by a supervisor task on `loop`."""

    def __init__(self, options: Options, data_dir: Path | None, log: logging.Logger):
        self.options = options
        self.data_dir = data_dir
        self.log = log
        self.backoff_cap = BACKOFF_CAP
        self.retry_seconds = RETRY_SECONDS
        self.certificate: ClientCertificate | None = None
        self.changes: collections.deque[tuple[tuple[TagRef, ...], Any, int]] = collections.deque()
        self._handles: dict[int, tuple[TagRef, ...]] = {}  # client handle -> the tags it feeds
        self._lock = threading.Lock()
        self._connected = False
        self._problem: str | None = None
        self._missing: frozenset[TagRef] = frozenset()
        self._nodes: dict[TagRef, Any] = {}  # resolved NodeIds
        self._missing_refs: set[TagRef] = set()  # not found yet in this connection
        self._monitored: set[TagRef] = set()  # with a monitored item in this connection
        self._client: Any = None
        self._subscription: Any = None
        self._consumer: asyncio.Task | None = None
        self._lost: asyncio.Event | None = None  # set when this connection is lost
        self._lost_reason = ""
        self._next_handle = 1

    # -- what the receiver's thread reads ---------------------------------------------------

    def status(self) -> LinkStatus:
        with self._lock:
            return LinkStatus(self._connected, self._problem, self._missing)

    def take_changes(self) -> list[tuple[tuple[TagRef, ...], Any, int]]:
        """The changes received since the last call, oldest first."""
        taken = []
        changes = self.changes
        for _ in range(len(changes)):
            taken.append(changes.popleft())
        return taken

    async def read_stream(self, stream: int) -> list[Any]:
        """One Read of every found tag of `stream`: a DataValue per tag, None for a missing one."""
        from asyncua import ua

        client = self._client
        if client is None or not self._connected:
            raise NotConnected(self._problem or "not connected yet")
        refs = [TagRef(stream, t) for t in range(len(self.options.tags[stream]))]
        found = [ref for ref in refs if ref in self._nodes]
        values: dict[TagRef, Any] = {}
        if found:
            params = ua.ReadParameters()
            params.TimestampsToReturn = ua.TimestampsToReturn.Both
            params.NodesToRead = [ua.ReadValueId(NodeId=self._nodes[ref], AttributeId=ua.AttributeIds.Value)
                                  for ref in found]
            try:
                results = await client.uaclient.read(params)
            except (OSError, ConnectionError, asyncio.TimeoutError, ua.UaError) as exc:
                self._connection_lost(f"reading failed: {describe(exc)}")
                raise NotConnected(f"reading failed: {describe(exc)}") from None
            values = dict(zip(found, results))
        return [values.get(ref) for ref in refs]

    # -- the supervisor ---------------------------------------------------------------------

    async def supervise(self) -> None:
        """Connects, watches, reconnects with backoff, until cancelled."""
        delay = BACKOFF_START
        while True:
            try:
                await self._connect()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure to connect is told and retried
                self._set_down(self._connect_problem(exc))
                await self._drop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_cap)
                continue
            delay = BACKOFF_START
            with self._lock:
                self._connected, self._problem = True, None
            self.log.info("connected to %s", self.options.connection.url)
            reason = await self._watch()
            self._set_down(f"connection to {self.options.connection.url} lost: {reason}")
            await self._drop()
            await asyncio.sleep(BACKOFF_START)  # a server going down refuses at once; give it a moment

    async def close(self) -> None:
        """Ends the session cleanly (CloseSession deletes its subscription on the server)."""
        await self._drop()

    def _set_down(self, problem: str) -> None:
        with self._lock:
            was = self._connected, self._problem
            self._connected, self._problem = False, problem
        if was != (False, problem):
            self.log.warning("%s", problem)

    def _connection_lost(self, reason: str) -> None:
        if self._lost is not None and not self._lost.is_set():
            self._lost_reason = reason
            self._lost.set()

    def _connect_problem(self, exc: BaseException) -> str:
        text = f"cannot connect to {self.options.connection.url}: {describe(exc)}"
        if self.certificate is not None and any(word in text for word in ("Certificate", "Security")):
            text += f"; the server must trust the client certificate {self.certificate.describe()}"
        return text

    async def _connect(self) -> None:
        from asyncua import Client, ua
        from asyncua.crypto import security_policies

        connection = self.options.connection
        # asyncua probes the server every watchdog interval, waiting as long for the answer: the
        # configured timeout, so a busy server is not taken for a lost one.
        client = Client(connection.url, timeout=connection.timeout, watchdog_intervall=connection.timeout)
        client.application_uri = application_uri()
        client.name = client.description = "edge opcua receiver"
        self._client = client
        if connection.secure:
            if self.data_dir is None:
                raise NotConnected("no data directory to keep the client certificate in")
            self.certificate = await ensure_client_certificate(self.data_dir)
            self.log.info("client certificate %s", self.certificate.describe())
            policy = getattr(security_policies, SECURITY_POLICIES[connection.security_policy])
            await asyncio.wait_for(client.set_security(
                policy, str(self.certificate.certificate), str(self.certificate.key),
                mode=getattr(ua.MessageSecurityMode, connection.mode)), connection.timeout * 2)
        if connection.username:
            client.set_user(connection.username)
            client.set_password(connection.password or "")
        self._lost = asyncio.Event()
        self._lost_reason = "the server stopped answering"

        async def lost(exc: Exception) -> None:
            self._connection_lost(describe(exc))
        client.connection_lost_callback = lost
        await asyncio.wait_for(client.connect(), connection.timeout * 2)
        self._nodes, self._missing_refs = {}, set(self._all_refs())
        await self._resolve()
        if self.options.mode == SUBSCRIBE:
            await self._subscribe()

    async def _watch(self) -> str:
        """Waits until the connection is lost (returns why); looks for missing tags meanwhile."""
        from asyncua.client.ua_client import UaClientState

        next_retry = time.monotonic() + self.retry_seconds
        while True:
            try:
                await asyncio.wait_for(self._lost.wait(), timeout=min(1.0, self.retry_seconds))
            except asyncio.TimeoutError:
                pass
            if self._lost.is_set():
                return self._lost_reason
            if self._client.state is not UaClientState.CONNECTED:
                return "the session ended"
            if self._missing_refs and time.monotonic() >= next_retry:
                next_retry = time.monotonic() + self.retry_seconds
                try:
                    await self._resolve()
                    if self.options.mode == SUBSCRIBE:
                        await self._monitor()
                except Exception as exc:  # noqa: BLE001 - a failed look-up is a lost connection
                    return describe(exc)

    async def _drop(self) -> None:
        """Forgets the client, closing its session when it still has one (best effort, quickly)."""
        client, self._client = self._client, None
        consumer, self._consumer = self._consumer, None
        self._subscription = None
        with self._lock:
            self._connected = False
        if consumer is not None:
            await asyncio.sleep(0)  # the consumer takes what asyncua received already (without yielding)
            consumer.cancel()
        if client is not None:
            try:
                await asyncio.wait_for(client.disconnect(), min(0.8, self.options.connection.timeout))
            except Exception:  # noqa: BLE001 - the server may be gone already
                client.disconnect_socket()

    # -- finding the tags -------------------------------------------------------------------

    def _all_refs(self) -> list[TagRef]:
        return [TagRef(s, t) for s, tags in enumerate(self.options.tags) for t in range(len(tags))]

    async def _resolve(self) -> None:
        """Finds the NodeIds of the tags not found yet, with one Read of their NodeClass."""
        from asyncua import ua

        namespaces = await self._client.get_namespace_array()
        candidates: list[tuple[TagRef, Any]] = []
        for ref in sorted(self._missing_refs, key=lambda r: (r.stream, r.tag)):
            name = self.options.tags[ref.stream][ref.tag].name
            if is_full_node_id(name):
                node_id = ua.NodeId.from_string(name)
                if isinstance(node_id, ua.ExpandedNodeId) and node_id.NamespaceUri:
                    if node_id.NamespaceUri not in namespaces:
                        continue
                    node_id = ua.NodeId(node_id.Identifier, namespaces.index(node_id.NamespaceUri),
                                        node_id.NodeIdType)
                candidates.append((ref, node_id))
            else:  # a string identifier: in the first namespace that has it
                candidates.extend((ref, ua.NodeId(name, index)) for index in range(1, len(namespaces)))
        if candidates:
            results = await self._client.uaclient.read_attributes([c[1] for c in candidates],
                                                                  ua.AttributeIds.NodeClass)
            for (ref, node_id), result in zip(candidates, results):
                if ref in self._missing_refs and result.StatusCode.is_good():
                    self._nodes[ref] = node_id
                    self._missing_refs.discard(ref)
        with self._lock:
            self._missing = frozenset(self._missing_refs)

    # -- subscribe mode ---------------------------------------------------------------------

    async def _subscribe(self) -> None:
        from asyncua.common.subscription import OverflowPolicy

        period = self.options.subscription.sampling_interval_ms
        self._subscription = await self._client.create_subscription(
            period, handler=None, queue_maxsize=EVENT_QUEUE, overflow=OverflowPolicy.DISCONNECT)
        self._monitored = set()
        self._handles = {}
        self._consumer = asyncio.get_running_loop().create_task(self._consume(self._subscription))
        await self._monitor()

    async def _monitor(self) -> None:
        """Monitored items for the found tags not monitored yet (one per node, however many
        tags name it); the server then sends each one's current value first."""
        from asyncua import ua

        by_node: dict[Any, list[TagRef]] = {}
        for ref, node_id in self._nodes.items():
            if ref not in self._monitored:
                by_node.setdefault(node_id, []).append(ref)
        if not by_node:
            return
        settings = self.options.subscription
        requests, handles = [], []
        for node_id, refs in by_node.items():
            handle = self._next_handle
            self._next_handle += 1
            self._handles[handle] = tuple(refs)
            handles.append((handle, node_id, refs))
            requests.append(self._item_request(node_id, handle, settings.deadband))
        results = await self._subscription.create_monitored_items(requests)
        retry = []
        for (handle, node_id, refs), result in zip(handles, results):
            if not isinstance(result, ua.StatusCode):
                self._monitored.update(refs)
            elif settings.deadband is not None and result.value in (ua.StatusCodes.BadFilterNotAllowed,
                                                                     ua.StatusCodes.BadMonitoredItemFilterUnsupported):
                retry.append((handle, node_id, refs))  # not numeric: every change, without the deadband
            else:
                self._forget(node_id, refs, result)
        if retry:
            results = await self._subscription.create_monitored_items(
                [self._item_request(node_id, handle, None) for handle, node_id, _ in retry])
            for (_, node_id, refs), result in zip(retry, results):
                if isinstance(result, ua.StatusCode):
                    self._forget(node_id, refs, result)
                else:
                    self._monitored.update(refs)

    def _forget(self, node_id: Any, refs: list[TagRef], status: Any) -> None:
        """A tag the server would not monitor is missing (looked for again later)."""
        self.log.warning("%s cannot be monitored: %s", node_id.to_string(), status.name)
        for ref in refs:
            self._nodes.pop(ref, None)
            self._missing_refs.add(ref)
        with self._lock:
            self._missing = frozenset(self._missing_refs)

    def _item_request(self, node_id: Any, handle: int, deadband: float | None) -> Any:
        from asyncua import ua

        parameters = ua.MonitoringParameters()
        parameters.ClientHandle = handle
        parameters.SamplingInterval = self.options.subscription.sampling_interval_ms
        parameters.QueueSize = self.options.subscription.queue_size
        parameters.DiscardOldest = True
        if deadband is not None:
            parameters.Filter = ua.DataChangeFilter(Trigger=ua.DataChangeTrigger.StatusValue,
                                                    DeadbandType=1, DeadbandValue=deadband)  # 1: absolute
        request = ua.MonitoredItemCreateRequest()
        request.ItemToMonitor = ua.ReadValueId(NodeId=node_id, AttributeId=ua.AttributeIds.Value)
        request.MonitoringMode = ua.MonitoringMode.Reporting
        request.RequestedParameters = parameters
        return request

    async def _consume(self, subscription: Any) -> None:
        from asyncua.common.subscription import DataChangeEvent, StatusChangeEvent

        append, handles = self.changes.append, self._handles
        async for event in subscription:
            if isinstance(event, DataChangeEvent):
                refs = handles.get(event.data.subscription_data.client_handle)
                if refs is not None:
                    append((refs, event.data.monitored_item.Value, time.time_ns()))
            elif isinstance(event, StatusChangeEvent):
                self._connection_lost(f"the subscription ended: {event.notification.Status.name}")


def describe(exc: BaseException) -> str:
    """A short text for an exception from the protocol library or the network."""
    name = type(exc).__name__
    text = str(exc).strip()
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) and not text:
        return "no answer in time"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"{name}: {text}" if text and text != name else name
