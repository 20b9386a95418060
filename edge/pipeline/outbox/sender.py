"""The half of a transmit runtime that drains its outbox: send, confirm, back off.

A transmit subclasses `OutboxSender` and implements `send(take)`, which returns only once the
destination confirmed every record of the take and raises `TransmitFailure` otherwise. Each
poll sends take after take, back to back while records are queued, so a backlog drains at
the destination's pace; a take leaves the outbox only after `send` returned. With `read_ahead`,
a helper thread reads the next take and makes its payload (`prepare`) while the current one is
sent; takes are still sent one at a time and confirmed in queue order, and on a failure what
was read ahead is dropped and read again from the first unconfirmed record. A failure ends
the poll: it is kept as the outbox's last_error and raised, so the service shows it; before
the next try the thread waits `poll_interval * 2^(failures-1)` seconds (capped at
BACKOFF_MAX_SECONDS) with jitter (0.5 to 1 times that), of which the scheduler's own
poll_interval wait is part. The first success resets the backoff.
"""

from __future__ import annotations

import random
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from edge.pipeline.outbox.outbox import Take
from edge.pipeline.runtime.context import ComponentContext, PollResult

BACKOFF_MAX_SECONDS = 300.0


class TransmitFailure(Exception):
    """The destination did not confirm a take; `auth` when it refused the credentials."""

    def __init__(self, text: str, auth: bool = False):
        super().__init__(text)
        self.auth = auth


class OutboxSender:
    max_records = 1000  # records per take
    max_bytes = 4 * 1024 * 1024  # queued bytes per take, about
    read_ahead = False  # read and prepare the next take while one is being sent

    def __init__(self, context: ComponentContext):
        if context.outboxes is None:
            raise RuntimeError("this program has no outboxes to send from")
        self.context = context
        self.outbox = context.outboxes.outbox(context.name)
        self.failures = 0
        self.poll_interval = float(context.config.get("poll_interval") or 30)
        self._helper = ThreadPoolExecutor(1, thread_name_prefix=f"{context.name}-prepare") if self.read_ahead \
            else None

    def prepare(self, take: Take) -> Any:
        """What `send` sends for `take`, kept as take.payload (made on the helper thread when
        `read_ahead`, so the next request is built while the current one is on the wire)."""
        return None

    def send(self, take: Take) -> None:
        raise NotImplementedError

    def poll(self) -> PollResult:
        sent = 0
        ahead: Future | None = None  # the next take, read and prepared while `take` is sent
        try:
            take = self._next(None)
            while take is not None and not self.context.stop.is_set():
                if self._helper is not None:
                    ahead = self._helper.submit(self._next, take)
                if take.records:
                    try:
                        self.send(take)
                    except TransmitFailure as exc:
                        raise self._failed(exc) from None  # the service thread logs it as the pass's failure
                self.outbox.confirm(take)  # in order: the next take is confirmed only after this one
                sent += take.records
                self.failures = 0
                take, ahead = (ahead.result() if ahead is not None else self._next(None)), None
        finally:
            if ahead is not None:  # a failure or a stop: what was read ahead is read again next time
                ahead.cancel() or ahead.exception()
        return PollResult(records_out=sent)

    def _next(self, after: Take | None) -> Take | None:
        take = self.outbox.take(self.max_records, self.max_bytes, after)
        if take is not None and take.records:
            take.payload = self.prepare(take)
        return take

    def backoff_seconds(self) -> float:
        """The wait before the next try after `failures` failures in a row (jitter included)."""
        base = min(BACKOFF_MAX_SECONDS, self.poll_interval * 2 ** max(self.failures - 1, 0))
        return base * random.uniform(0.5, 1.0)

    def _failed(self, exc: TransmitFailure) -> TransmitFailure:
        """Records the failure and waits out the backoff; returns what the pass raises."""
        self.failures += 1
        text = f"authentication failed: {exc}" if exc.auth else str(exc)
        self.outbox.record_error(text)
        extra = self.backoff_seconds() - self.poll_interval  # the scheduler waits poll_interval itself
        if extra > 0:
            self.context.stop.wait(extra)
        return TransmitFailure(f"{text} (try {self.failures}; the records stay queued)", auth=exc.auth)

    def close(self) -> None:
        if self._helper is not None:
            self._helper.shutdown(wait=True)
