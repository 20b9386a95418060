"""How an answer leaves the worker: its head and the first piece of its body in one send, and a
bodiless answer (204, 304) without closing the connection.

waitress writes a response's head, then its body, each straight from the worker thread with
a send() of its own: two system calls and two TCP segments per answer, and the client wakes
for the head only to wait for the body. Here the channel holds the head back until the body's
first piece is written, and sends the two joined (a small answer, every small query's, is
then one segment); a head with no body (204, HEAD, an empty answer) leaves alone when the
task's first write is done. Large pieces are not copied to be joined: the head goes first.

waitress also closes the connection after every answer that has no Content-Length, 204 and
304 included, though those end at their head (RFC 9112 6.3): every InfluxDB write (204) cost
its client a new connection. Here they keep it, unless the client asked to close.
"""

from __future__ import annotations

from waitress.channel import HTTPChannel
from waitress.task import WSGITask

JOIN_LIMIT = 65536  # a body piece up to this size is sent joined to the head


class HeadHoldingChannel(HTTPChannel):
    """waitress's channel, holding a head back (`hold_next_write`) for the write after it."""

    _holding = False  # the next write is a head, to be held
    _held: bytes | None = None

    def hold_next_write(self) -> None:
        self._holding = True

    def write_soon(self, data):
        if self._holding and data:
            self._holding = False
            self._held = bytes(data)
            return len(data)
        held = self._held
        if held is not None and data:
            self._held = None
            if len(data) <= JOIN_LIMIT:
                return super().write_soon(held + bytes(data)) - len(held)
            super().write_soon(held)
        return super().write_soon(data)

    def release_held(self) -> None:
        """Sends a held head that no body followed."""
        self._holding = False
        held, self._held = self._held, None
        if held is not None:
            super().write_soon(held)


class EdgeTask(WSGITask):
    """waitress's WSGI task, writing its head through the holding channel and keeping the
    connection after a bodiless answer."""

    def set_close_on_finish(self) -> None:
        bodiless = not self.has_body and not self.wrote_header and self.version == "1.1"
        if bodiless and self.request.headers.get("CONNECTION", "").lower() != "close":
            return  # the answer ends at its head: the next request can follow on this connection
        super().set_close_on_finish()

    def write(self, data):
        if self.wrote_header:
            return super().write(data)
        self.channel.hold_next_write()
        try:
            super().write(data)  # the head (held), then this piece of the body, if it has one
        finally:
            self.channel.release_held()
