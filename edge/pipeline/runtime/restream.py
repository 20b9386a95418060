"""Restream: forget what receivers remember about some streams, so their data is read again.

The request names, per data receiver, the streams to restream:
`{"<receiver name>": [{"asset": ..., "stream_type": ...}]}`. Everything is checked before
anything is purged, and the purge of all named streams is one transaction: a restream
happens completely or not at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edge.errors import FTX_BAD_REQUEST, FTX_INTERNAL, EdgeError
from edge.pipeline.runtime.context import RECEIVER
from edge.pipeline.runtime.services import ConfiguredStream, configured_services, configured_streams

if TYPE_CHECKING:
    from edge.pipeline.runtime.ports import Books

_STREAM_KEYS = {"asset", "stream_type"}


def plan_restream(request: Any, config: dict[str, Any]) -> list[ConfiguredStream]:
    """The configured streams `request` names, or EdgeError(400) saying what is wrong with it."""
    if not isinstance(request, dict) or not request:
        raise EdgeError(FTX_BAD_REQUEST, 'Expected an object {"<data receiver name>": [{"asset": ..., '
                                         '"stream_type": ...}]} naming at least one data receiver')
    configured = configured_streams(config)
    receivers = {spec.name for spec in configured_services(config) if spec.component_type == RECEIVER}
    known = set(configured)
    targets: list[ConfiguredStream] = []
    for receiver, streams in request.items():
        if receiver not in receivers:
            raise EdgeError(FTX_BAD_REQUEST, f"No data receiver named {receiver!r} is configured")
        if not isinstance(streams, list) or not streams:
            raise EdgeError(FTX_BAD_REQUEST, f"Streams of {receiver!r} must be a non-empty list of "
                                             '{"asset": ..., "stream_type": ...} objects')
        for index, stream in enumerate(streams):
            where = f"{receiver}[{index}]"
            if not isinstance(stream, dict):
                raise EdgeError(FTX_BAD_REQUEST, f"{where}: expected an object with asset and stream_type")
            extra = set(stream) - _STREAM_KEYS
            if extra:
                raise EdgeError(FTX_BAD_REQUEST, f"{where}: unexpected field(s) {', '.join(sorted(extra))}")
            asset, stream_type = stream.get("asset"), stream.get("stream_type")
            if not isinstance(asset, str) or not isinstance(stream_type, str):
                raise EdgeError(FTX_BAD_REQUEST, f"{where}: asset and stream_type must both be strings")
            target = ConfiguredStream(receiver, asset, stream_type)
            if target not in known:
                raise EdgeError(FTX_BAD_REQUEST, f"Data receiver {receiver!r} has no stream {target.stream!r}")
            if target not in targets:
                targets.append(target)
    return targets


def purge_streams(books: Books, targets: list[ConfiguredStream], configured: list[ConfiguredStream]) -> int:
    """Deletes the receiver state and the markers of `targets` in one transaction.

    Every marker on the stream goes: the receiver's, those of transforms and transmits (they
    described data that will be read again) and those of receivers no longer configured with
    it (renamed or removed). Only another configured receiver with a same-named stream (a
    configuration written by hand: validation refuses it) keeps its markers.
    Returns the number of receiver_state rows deleted.
    """
    purged = 0
    others = set(configured)
    try:
        with books.transaction():
            for target in targets:
                purged += books.receiver_state.purge_stream(target.receiver, target.asset, target.stream_type)
                for marker in books.markers.for_stream(target.asset, target.stream_type):
                    owner = ConfiguredStream(marker.component, marker.asset, marker.stream_type)
                    if marker.component_type == RECEIVER and owner != target and owner in others:
                        continue
                    books.markers.clear(marker.component, target.asset, target.stream_type)
    except Exception as exc:
        raise EdgeError(FTX_INTERNAL, f"Restream failed, nothing was purged: {exc}", FTX_INTERNAL) from exc
    return purged
