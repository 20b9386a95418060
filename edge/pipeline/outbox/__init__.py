"""The outbox: store-and-forward between the pipeline and each data transmit.

Every batch that reaches the end of a stream's pipeline (after its transforms) and matches a
transmit's `filter_stream` is appended to that transmit's outbox by `OutboxSink`, in the same
step that stores it in the historian, and is durable (fsync) before `deliver` returns. The
transmit's own thread (`OutboxSender`) sends what is queued, in order, and removes it only
once the destination confirmed it.

- `segments`: the files: append-only segment files of checksummed frames, one batch a frame.
- `encoding`: a `RecordBatch` as a frame (columnar JSON) and a frame's records as a piece to send.
- `outbox`: one transmit's queue: appends (idempotent per batch key), the send cursor, the
  OUTBOX_MAX_BYTES bound with its loss record, status.
- `outboxes`: every transmit's outbox under `<DATA_DIR>/outbox/`, and the sink receivers use.
- `sender`: the transmit runtime's half that drains an outbox with backoff.

The storage lives here rather than in `edge.store` because it is the pipeline's queue, not
historian data: nothing but the pipeline reads it, and it holds records, not tag points.
"""
