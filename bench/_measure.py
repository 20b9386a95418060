"""What every benchmark measures with: a free loopback port, the median of timed runs."""

from __future__ import annotations

import socket
import statistics
import time


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def median_ms(fn, runs: int) -> float:
    """Median wall time of `fn(i)` for i in range(runs), in milliseconds."""
    samples = []
    for i in range(runs):
        began = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1e3


class LatencyClient:
    """GETs over one keep-alive connection with as little client work as possible, so that a
    timed request measures the server (as wrk does): the request bytes are built once per
    path, and the answer is read as bytes by its Content-Length or its chunks. Python's
    http.client parses every header through the email package: on this machine it added
    0.2-0.45 ms to each request, as much as a whole small query, and the same to both servers.
    """

    def __init__(self, port: int, headers: dict[str, str] | None = None):
        self._address = ("127.0.0.1", port)
        self._head = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        self._requests: dict[str, bytes] = {}
        self._sock: socket.socket | None = None
        self._buffer = b""

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock, self._buffer = None, b""

    def get(self, path: str) -> tuple[int, bytes]:
        """(status, body) of GET `path`."""
        request = self._requests.get(path)
        if request is None:
            request = self._requests[path] = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{self._head}\r\n").encode()
        if self._sock is None:
            self._sock = socket.create_connection(self._address, timeout=600)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.sendall(request)
        head = self._until(b"\r\n\r\n").decode("latin-1").lower()
        status = int(head.split(" ", 2)[1])
        fields = dict(line.split(":", 1) for line in head.split("\r\n")[1:] if ":" in line)
        if status in (204, 304):  # an answer that ends at its head
            body = b""
        elif "content-length" in fields:
            body = self._exactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").strip() == "chunked":
            chunks = []
            while size := int(self._until(b"\r\n").split(b";")[0], 16):
                chunks.append(self._exactly(size))
                self._exactly(2)
            self._until(b"\r\n")  # no trailers are sent: the blank line ends the body
            body = b"".join(chunks)
        else:
            raise RuntimeError(f"GET {path[:80]}: an answer without a length: {head[:200]!r}")
        if fields.get("connection", "").strip() == "close":
            self.close()
        return status, body

    def _until(self, mark: bytes) -> bytes:
        while (end := self._buffer.find(mark)) < 0:
            self._buffer += self._received()
        found, self._buffer = self._buffer[:end], self._buffer[end + len(mark):]
        return found

    def _exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._buffer += self._received()
        found, self._buffer = self._buffer[:size], self._buffer[size:]
        return found

    def _received(self) -> bytes:
        data = self._sock.recv(65536)
        if not data:
            self.close()
            raise ConnectionError("the server closed the connection")
        return data
