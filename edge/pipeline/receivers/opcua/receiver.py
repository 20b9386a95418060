"""OpcuaReceiver: the runtime of `"protocol": "opcua"`.

The session with the server lives on the receiver's own event loop (`session.OpcuaLink` on a
`loop.LoopThread`), kept and re-made there. Each pass of the scheduler (`poll`):

- poll mode: one Read of all tags of each stream; one record per stream at the newest source
  timestamp among its tags (a read that changed nothing since the last stored one is skipped);
- subscribe mode: every change received since the last pass, stored at its own source
  timestamp (changes of several tags at one time share a record), one batch per stream.

Bad values are not stored (a `quality` marker names the tag and the status), Uncertain ones
are stored and logged. Each batch is stored under a key derived from its content (stream,
times, values), so a batch stored once is a no-op when it comes again. In subscribe mode the
newest stored sample of every tag is kept in the receiver state: the current values the
server sends on every (re)connection are stored only when they are news.
"""

from __future__ import annotations

import time
from typing import Any

from edge.pipeline.receivers.opcua.loop import LoopThread
from edge.pipeline.receivers.opcua.options import POLL, Options, options_of
from edge.pipeline.receivers.opcua.samples import BAD, UNCERTAIN, Sample, changes_batch, content_digest, \
    read_batch, sample_of
from edge.pipeline.receivers.opcua.session import NotConnected, OpcuaLink, TagRef
from edge.pipeline.runtime.context import ComponentContext, PollResult
from edge.pipeline.runtime.markers import CONNECTION, STORAGE
from edge.pipeline.runtime.records import RecordStore, RecordStream, StreamBlocked, record_streams

QUALITY = "quality"  # marker: tags whose values are Bad
NODE = "node"  # marker: tags the server does not have
LAST_SAMPLES = "last_samples"  # receiver state: the newest stored sample of each tag (subscribe mode)
CLOSE_SECONDS = 0.7  # close() ends the session, and the loop after it, within a second
PENDING_CAP = 1_000_000  # changes kept per stream while the historian refuses them


class OpcuaReceiver:
    def __init__(self, context: ComponentContext):
        self.context = context
        self.log = context.log
        self.options: Options = options_of(context.config)
        self.records = RecordStore(context, record_streams(context.config, context.full_config))
        self.link = OpcuaLink(self.options, context.data_dir, self.log)
        self._raised: dict[tuple[int, str], str] = {}  # (stream, category) -> message standing
        self._bad: list[dict[int, str]] = [{} for _ in self.records.streams]  # tag -> Bad status
        self._uncertain: list[set[int]] = [set() for _ in self.records.streams]
        self._pending: list[list[tuple[int, Sample]]] = [[] for _ in self.records.streams]
        self._last_read: list[str | None] = [None for _ in self.records.streams]
        self._last_samples: list[dict[str, list] | None] = [None for _ in self.records.streams]
        self._loop = LoopThread(f"opcua:{context.name}")
        self._supervisor = self._loop.submit(self.link.supervise())
        self._first_pass = True

    # -- the pass --------------------------------------------------------------------------

    def poll(self) -> PollResult:
        self.records.report_problems()
        if self._first_pass:
            self._first_pass = False
            self._await_first_attempt()
        status = self.link.status()
        self._report_link(status)
        if self.options.mode == POLL:
            return self._read_streams() if status.connected else PollResult()
        return self._store_changes()

    def close(self) -> None:
        """Ends the session (within a second) and the receiver's event loop."""
        self._supervisor.cancel()
        try:
            self._loop.call(self.link.close(), CLOSE_SECONDS)
        except Exception as exc:  # noqa: BLE001 - the loop goes anyway
            self.log.info("closing the OPC UA session: %s", exc)
        self._loop.stop(0.3)

    def _await_first_attempt(self) -> None:
        """The first pass waits for the first connection attempt (bounded), so a receiver
        that can connect reads at once instead of one poll_interval later."""
        deadline = time.monotonic() + self.options.connection.timeout * 3
        while time.monotonic() < deadline and not self.context.stop.is_set():
            status = self.link.status()
            if status.connected or status.problem:
                return
            self.context.stop.wait(0.05)

    # -- poll mode -------------------------------------------------------------------------

    def _read_streams(self) -> PollResult:
        records_in = records_out = 0
        for index, stream in enumerate(self.records.streams):
            if self.context.stop.is_set() or stream.flow is None:
                continue
            try:
                values = self._loop.call(self.link.read_stream(index), self.options.connection.timeout * 2)
            except (NotConnected, TimeoutError) as exc:
                self._raise(index, CONNECTION, "error", str(exc))
                break
            received = time.time_ns()
            tags = self.options.tags[index]
            samples = [None if v is None else sample_of(v, received) for v in values]
            self._note_quality(index, [(t, s) for t, s in enumerate(samples) if s is not None])
            batch = read_batch(stream.asset, stream.stream_type, tags, samples)
            if batch is None:
                continue
            records_in += 1
            digest = content_digest(batch)
            if digest == self._last_read[index]:
                continue  # nothing changed since the last read
            try:
                records_out += self.records.store(stream, batch, self.records.batch_key(stream, digest))
            except StreamBlocked:
                continue
            self._last_read[index] = digest
        return PollResult(records_in, records_out)

    # -- subscribe mode --------------------------------------------------------------------

    def _store_changes(self) -> PollResult:
        for refs, data_value, received in self.link.take_changes():
            sample = sample_of(data_value, received)
            for ref in refs:
                self._pending[ref.stream].append((ref.tag, sample))
        records_in = records_out = 0
        for index, stream in enumerate(self.records.streams):
            pending = self._pending[index]
            if stream.flow is None:  # its transforms cannot be built: reported, nothing to store into
                pending.clear()
            if not pending:
                continue
            self._note_quality(index, pending)
            fresh = self._news(stream, index, [(t, s) for t, s in pending if s.quality != BAD])
            records_in += len(fresh)
            if fresh:
                batch = changes_batch(stream.asset, stream.stream_type, self.options.tags[index], fresh)
                try:
                    records_out += self.records.store(stream, batch, self.records.batch_key(stream,
                                                                                            content_digest(batch)))
                except StreamBlocked:
                    if len(pending) > PENDING_CAP:
                        dropped = len(pending) - PENDING_CAP
                        del pending[:dropped]
                        self.records.markers.mark(stream, STORAGE, "error",
                                                  f"{dropped} change(s) dropped while the historian refused them")
                    continue
                self._remember(stream, index, fresh)
            pending.clear()
        return PollResult(records_in, records_out)

    def _news(self, stream: RecordStream, index: int, samples: list[tuple[int, Sample]]) -> list[tuple[int, Sample]]:
        """The samples not stored before: a sample at or before its tag's newest stored one
        (the current value the server sends again on reconnection) is not news."""
        last = self._stored_samples(stream, index)
        tags = self.options.tags[index]
        fresh = []
        for tag, sample in samples:
            seen = last.get(tags[tag].exportname)
            if seen is not None and (sample.time_ns < seen[0] or
                                     (sample.time_ns == seen[0] and repr(sample.value) == seen[1])):
                continue
            fresh.append((tag, sample))
        return fresh

    def _stored_samples(self, stream: RecordStream, index: int) -> dict[str, list]:
        if self._last_samples[index] is None:
            self._last_samples[index] = self.records.load_state(stream, LAST_SAMPLES) or {}
        return self._last_samples[index]

    def _remember(self, stream: RecordStream, index: int, stored: list[tuple[int, Sample]]) -> None:
        last = self._stored_samples(stream, index)
        tags = self.options.tags[index]
        for tag, sample in stored:
            name = tags[tag].exportname
            if name not in last or sample.time_ns >= last[name][0]:
                last[name] = [sample.time_ns, repr(sample.value)]
        self.records.save_state(stream, LAST_SAMPLES, last)

    # -- markers ---------------------------------------------------------------------------

    def _note_quality(self, index: int, samples: list[tuple[int, Sample]]) -> None:
        """Follows each tag's quality through `samples`; the quality marker names the tags
        whose latest value is Bad; an Uncertain tag is logged when it becomes so."""
        bad, uncertain = self._bad[index], self._uncertain[index]
        tags = self.options.tags[index]
        for tag, sample in samples:
            if sample.quality == BAD:
                bad[tag] = sample.status
                continue
            bad.pop(tag, None)
            if sample.quality == UNCERTAIN:
                if tag not in uncertain:
                    uncertain.add(tag)
                    self.log.warning("%s (%s) is %s: its values are stored, but uncertain", tags[tag].exportname, tags[tag].name,
                                     sample.status)
            else:
                uncertain.discard(tag)
        if bad:
            self._raise(index, QUALITY, "warning", "Bad values not stored: " + "; ".join(
                f"{tags[tag].exportname} ({tags[tag].name}): {status}" for tag, status in sorted(bad.items())))
        else:
            self._clear(index, QUALITY)

    def _report_link(self, status: Any) -> None:
        missing: dict[int, list[TagRef]] = {}
        for ref in status.missing:
            missing.setdefault(ref.stream, []).append(ref)
        for index in range(len(self.records.streams)):
            if status.connected:
                self._clear(index, CONNECTION)
                refs = sorted(missing.get(index, []), key=lambda r: r.tag)
                if refs:
                    tags = self.options.tags[index]
                    self._raise(index, NODE, "error", "not found on the server: " + ", ".join(
                        f"{tags[r.tag].name} ({tags[r.tag].exportname})" for r in refs))
                else:
                    self._clear(index, NODE)
            elif status.problem:
                self._raise(index, CONNECTION, "error", status.problem)

    def _raise(self, index: int, category: str, level: str, message: str) -> None:
        """Raises a marker when it is new or says something new (so a standing one is not
        counted again as an error on every pass)."""
        if self._raised.get((index, category)) != message:
            self.records.markers.mark(self.records.streams[index], category, level, message)
            self._raised[(index, category)] = message

    def _clear(self, index: int, category: str) -> None:
        self._raised.pop((index, category), None)
        self.records.markers.clear(self.records.streams[index], category)

