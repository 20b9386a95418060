"""The write-ahead log on its own: records written directly (O_DIRECT, padded to 4 KiB at each
sync) or through the page cache are read back whole by recovery, across segment boundaries
and staging-buffer boundaries; a torn tail ends the log there."""

from __future__ import annotations

import numpy as np
import pytest

from edge.store import wal
from edge.store.wal import KIND_ABORT, KIND_APPEND, WriteAheadLog


def payloads(rng, sizes):
    return [rng.integers(0, 256, size, dtype=np.uint8).tobytes() for size in sizes]


def recovered(directory) -> list[tuple[int, int, bytes]]:
    log = WriteAheadLog(directory)
    return [(ref.kind, ref.seq, log.read(ref)) for ref in log.scan()]


@pytest.mark.parametrize("direct", [True, False])
def test_records_of_any_size_come_back_whole(tmp_path, direct):
    rng = np.random.default_rng(1)
    data = payloads(rng, [1, 100, 4096 - 32, 4096, 70_000, wal.STAGE_BYTES + 12345, 3])
    log = WriteAheadLog(tmp_path, direct=direct)
    for seq, payload in enumerate(data, start=1):
        log.write(KIND_APPEND, seq, [payload[:7], payload[7:]])  # several buffers per record
        if seq % 2:
            log.sync()  # some syncs cover one record, some two
    log.sync()
    log.close()
    assert recovered(tmp_path) == [(KIND_APPEND, seq, payload) for seq, payload in enumerate(data, start=1)]


@pytest.mark.parametrize("direct", [True, False])
def test_a_group_crossing_a_segment_boundary_comes_back_whole(tmp_path, direct):
    rng = np.random.default_rng(2)
    data = payloads(rng, [30_000] * 7)
    log = WriteAheadLog(tmp_path, segment_bytes=64 << 10, direct=direct)
    for seq, payload in enumerate(data, start=1):
        log.write(KIND_APPEND, seq, [payload])  # one group: a single sync at the end
    log.sync()
    log.close()
    assert len(WriteAheadLog(tmp_path).segment_numbers()) > 1
    assert [payload for _, _, payload in recovered(tmp_path)] == data


def test_a_torn_record_ends_the_log_and_aborted_ones_are_left_out(tmp_path):
    rng = np.random.default_rng(3)
    first, second, third = payloads(rng, [5000, 6000, 7000])
    log = WriteAheadLog(tmp_path)
    log.write(KIND_APPEND, 1, [first])
    log.sync()
    log.write(KIND_APPEND, 2, [second])
    log.sync()
    log.abort([2])  # cancelled: replay must skip it
    log.write(KIND_APPEND, 3, [third])
    log.sync()
    log.close()
    assert [(seq, payload) for _, seq, payload in recovered(tmp_path)] == [(1, first), (3, third)]

    last = WriteAheadLog(tmp_path).segment_numbers()[-1]
    path = tmp_path / f"wal.{last:010d}"
    raw = bytearray(path.read_bytes())
    at = raw.find(third[:64])
    raw[at + 100] ^= 0xFF  # the record's payload no longer matches its checksum
    path.write_bytes(bytes(raw))
    assert [(seq, payload) for _, seq, payload in recovered(tmp_path)] == [(1, first)]
    assert KIND_ABORT not in {kind for kind, _, _ in recovered(tmp_path)}
