"""Connections: how long a client may take to send a request, and how many it may hold.

waitress reads requests on one loop thread and serves them on worker threads; a connection
costs no worker until its request is complete. What it does not bound by itself, and this
module does:

- the time a client takes to send one request (line, headers, body): REQUEST_TIMEOUT_MS from
  its first byte, then 408 and close. Idle connections close after REQUEST_TIMEOUT_MS too,
  checked every second (waitress's own sweep runs every 30 s);
- the connections one address holds (HTTP_CONNECTIONS_PER_ADDRESS) and all of them
  (HTTP_MAX_CONNECTIONS). A new connection past either limit closes the oldest connection
  (of that address, or of all) that is idle or still sending its request, so that a flood of
  half-open connections cannot lock anyone out; when every one is busy being served, the new
  connection is answered 503 at once;
- and every answer of its own is JSON in the envelope of the path asked (protocol_errors).
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import time

from waitress import wasyncore
from waitress.server import TcpWSGIServer

from edge.web.envelope import FTX
from edge.web.protocol_errors import (MAX_REQUEST_LINE, EdgeRequestParser, EnvelopeErrorTask, closing_response,
                                      connection_error_body, path_of_request_line)
from edge.web.sending import EdgeTask, HeadHoldingChannel
from edge.web.wake_cpu import WakeCpu

log = logging.getLogger("edge.web")

REFUSAL_GRACE_S = 1.0  # a refused connection's request line may take this long to arrive
REFUSAL_LINGER_S = 1.0  # then its input is drained this long, so the 503 is not lost to a reset
REFUSAL_MAX_DRAIN = 65536


@dataclasses.dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int
    per_address: int
    request_timeout_ms: int


class EdgeChannel(HeadHoldingChannel):
    """One client connection; knows since when its current request has been arriving."""

    parser_class = EdgeRequestParser
    task_class = EdgeTask
    error_task_class = EnvelopeErrorTask
    receiving_since: float | None = None  # time.time() of the first byte of an incomplete request

    def received(self, data):
        receiving = self.request
        result = super().received(data)
        if self.request is None:  # every request in `data` complete
            self.receiving_since = None
        elif self.request is not receiving:  # a request began in `data`
            self.receiving_since = time.time()
        return result

    def is_idle_or_receiving(self) -> bool:
        """Nothing being served or sent: closing it loses no answer."""
        return not (self.requests or self.total_outbufs_len or self.will_close or self.close_when_flushed)

    def answer_and_close(self, status: int, text: str) -> None:
        """From the loop thread, while no request of this channel is being served."""
        path = self.request.path_asked if self.request is not None else ""
        body = connection_error_body(self.server.wsgi.flavour_for(path), status, text)
        response = closing_response(status, body)
        with self.outbuf_lock:
            self.outbufs[-1].append(response)
            self.current_outbuf_count += len(response)
            self.total_outbufs_len += len(response)
        if self.request is not None:
            self.request.close()
            self.request = None
        self.receiving_since = None
        self.close_when_flushed = True


class RefusedConnection(wasyncore.dispatcher):
    """A connection over a limit. It is answered 503 in the envelope of its path as soon as
    its request line arrives (at once after REFUSAL_GRACE_S without one), then its input is
    drained a moment before the close, so that the client reads the answer instead of a reset."""

    def __init__(self, server: EdgeServer, sock: socket.socket, text: str):
        super().__init__(sock, map=server._map)
        self.server = server
        self.text = text
        self.head = b""
        self.answered = False
        self.drained = 0
        self.deadline = time.time() + REFUSAL_GRACE_S
        server.refused.add(self)

    def readable(self):
        return True

    def writable(self):
        return False

    def handle_read(self):
        try:
            data = self.recv(8192)
        except OSError:
            self.handle_close()
            return
        if not data:
            return  # recv closed it
        if self.answered:
            self.drained += len(data)
            if self.drained > REFUSAL_MAX_DRAIN:
                self.handle_close()
            return
        self.head += data
        if b"\n" in self.head.lstrip(b"\r\n") or len(self.head) >= MAX_REQUEST_LINE:
            self.answer(path_of_request_line(self.head))

    def answer(self, path: str) -> None:
        body = connection_error_body(self.server.wsgi.flavour_for(path), 503, self.text)
        try:
            self.socket.send(closing_response(503, body))
            self.socket.shutdown(socket.SHUT_WR)
        except OSError:
            self.handle_close()
            return
        self.answered = True
        self.deadline = time.time() + REFUSAL_LINGER_S

    def expire(self, now: float) -> None:
        if now < self.deadline:
            return
        if self.answered:
            self.handle_close()
        else:
            self.answer("")

    def handle_close(self):
        self.server.refused.discard(self)
        self.close()


class EdgeServer(TcpWSGIServer):
    """waitress's TCP server with the limits above. `wsgi` is the dispatcher: it says which
    envelope a path answers in, and (for the lanes) which requests are queries."""

    channel_class = EdgeChannel
    stop_requested = False  # by request_stop; the loop ends at its next pass

    def __init__(self, wsgi, limits: ConnectionLimits, wake: WakeCpu, **kw):
        self.wsgi = wsgi
        self.limits = limits
        self.wake = wake
        self.refused: set[RefusedConnection] = set()
        self.refusals = 0  # answered 503 since the last log line
        self.closed_for_room: dict[str, int] = {}  # limit -> unused connections closed since the last log line
        super().__init__(wsgi, **kw)

    def run(self):
        """Serves until request_stop, the loop waiting on HTTP_CPU (edge.web.wake_cpu)."""
        self.wake.wait_here()
        try:
            super().run()
        finally:
            self.wake.run_anywhere()  # what the main thread does next (stopping) may start threads

    def request_stop(self) -> None:
        """Safe in a signal handler: the loop ends at its next pass, which this wakes. The
        SystemExit is raised by the loop's own code (`readable`), not by the handler: raised
        there it may land in whatever the main thread runs, a finalizer included, which
        swallows it, and the program would serve on after "stopping"."""
        self.stop_requested = True
        self.trigger.pull_trigger()  # a write to a pipe; no lock

    def readable(self):
        if self.stop_requested:
            raise SystemExit(0)  # unwinds waitress's loop; its run() then closes every channel
        return super().readable()

    def handle_accept(self):
        try:
            pair = self.accept()
            if pair is None:
                return
            conn, addr = pair
            self.set_socket_options(conn)
        except OSError:
            return
        addr = self.fix_addr(addr)
        host = addr[0]
        limits = self.limits
        mine = [channel for channel in self.active_channels.values() if channel.addr[0] == host]
        if len(mine) >= limits.per_address and not self.close_oldest_unused(mine, "HTTP_CONNECTIONS_PER_ADDRESS"):
            self.refuse(conn, f"Too many connections from {host} (HTTP_CONNECTIONS_PER_ADDRESS = "
                              f"{limits.per_address}), all of them busy; try again later")
            return
        if len(self.active_channels) >= limits.max_connections and not self.close_oldest_unused(
                self.active_channels.values(), "HTTP_MAX_CONNECTIONS"):
            self.refuse(conn, f"Too many connections (HTTP_MAX_CONNECTIONS = {limits.max_connections}), "
                              f"all of them busy; try again later")
            return
        self.channel_class(self, conn, addr, self.adj, map=self._map)

    def refuse(self, conn: socket.socket, text: str) -> None:
        self.refusals += 1
        if len(self.refused) >= self.limits.max_connections:
            # Refusals pile up faster than they drain: the answer is best effort, then close.
            try:
                conn.send(closing_response(503, connection_error_body(FTX, 503, text)))
            except OSError:
                pass
            conn.close()
            return
        RefusedConnection(self, conn, text)

    def close_oldest_unused(self, channels, limit: str) -> bool:
        """Closes the connection of `channels` idle (or sending its request) the longest, if
        there is one: a new client is worth more than a connection that does nothing."""
        unused = [channel for channel in channels if channel.is_idle_or_receiving()]
        if not unused:
            return False
        oldest = min(unused, key=lambda channel: channel.receiving_since or channel.last_activity)
        self.closed_for_room[limit] = self.closed_for_room.get(limit, 0) + 1
        oldest.handle_close()
        return True

    def maintenance(self, now):
        """Every second (cleanup_interval): requests too slow to arrive get 408, idle
        connections close, refused ones are answered or closed."""
        timeout = self.limits.request_timeout_ms / 1000
        for channel in list(self.active_channels.values()):
            if not channel.is_idle_or_receiving():
                continue
            if channel.receiving_since is not None:
                if now - channel.receiving_since >= timeout:
                    channel.answer_and_close(408, f"The request did not arrive within REQUEST_TIMEOUT_MS "
                                                  f"({self.limits.request_timeout_ms} ms)")
            elif now - channel.last_activity >= timeout:
                channel.will_close = True
        for refused in list(self.refused):
            refused.expire(now)
        for limit, count in self.closed_for_room.items():
            # One line a second at most, however fast a flood comes.
            log.warning("%s reached: closed %d unused connection(s) for new ones", limit, count)
        self.closed_for_room.clear()
        if self.refusals:
            log.warning("refused %d connection(s) with 503: every connection of their address, or of all, busy",
                        self.refusals)
            self.refusals = 0
