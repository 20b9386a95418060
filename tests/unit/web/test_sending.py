"""A response head is held back and sent joined to the first piece of its body."""

from __future__ import annotations

from waitress.channel import HTTPChannel

from edge.web.sending import JOIN_LIMIT, HeadHoldingChannel

HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"


class Sends(HTTPChannel):
    """Stands in for waitress's write_soon: records each write, as one send each (an empty one
    sends nothing)."""

    def __init__(self):  # no socket: only write_soon is used
        self.sent: list[bytes] = []

    def write_soon(self, data):
        if data:
            self.sent.append(bytes(data))
        return len(data)


class Channel(HeadHoldingChannel, Sends):
    pass


def test_a_head_and_a_small_body_leave_in_one_write():
    channel = Channel()
    channel.hold_next_write()
    assert channel.write_soon(HEAD) == len(HEAD)
    assert channel.sent == []
    channel.write_soon(b"ok")
    channel.release_held()
    assert channel.sent == [HEAD + b"ok"]


def test_a_head_without_a_body_leaves_when_released():
    channel = Channel()
    channel.hold_next_write()
    channel.write_soon(b"HTTP/1.1 204 No Content\r\n\r\n")
    channel.write_soon(b"")  # an empty piece is no body
    assert channel.sent == []
    channel.release_held()
    assert channel.sent == [b"HTTP/1.1 204 No Content\r\n\r\n"]
    channel.release_held()
    assert len(channel.sent) == 1


def test_a_large_body_is_not_copied_to_be_joined():
    channel = Channel()
    body = b"x" * (JOIN_LIMIT + 1)
    channel.hold_next_write()
    channel.write_soon(HEAD)
    channel.write_soon(memoryview(body))
    assert channel.sent == [HEAD, body]


def test_writes_after_the_first_pass_straight_through():
    channel = Channel()
    channel.hold_next_write()
    channel.write_soon(HEAD)
    channel.write_soon(b"o")
    channel.release_held()
    channel.write_soon(b"k")
    assert channel.sent == [HEAD + b"o", b"k"]
