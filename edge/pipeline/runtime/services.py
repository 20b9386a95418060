"""What a FactoryTX configuration asks to run: its services (receivers, transmits) and streams.

A service is one configured data_receiver or data_transmit; the scheduler gives each one a
thread. A stream is one (asset, stream_type) of a receiver. Both are read from the
configuration as saved; entries that are not objects are skipped (validation refuses them
before a save, so they only appear in a configuration written by hand).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from edge.pipeline.registry import DATA_RECEIVER, DATA_TRANSMIT
from edge.pipeline.runtime.context import RECEIVER, TRANSFORM, TRANSMIT
from edge.pipeline.runtime.streamflow import stream_matches

# FactoryTX's defaults when a component leaves poll_interval out, in seconds.
DEFAULT_POLL_INTERVAL = {RECEIVER: 5.0, TRANSMIT: 30.0}
# FactoryTX has one cloud transmit; a data_transmit without transmit_type means it.
DEFAULT_TRANSMIT_TYPE = "remotedatapost"


@dataclasses.dataclass(frozen=True)
class ServiceSpec:
    name: str  # data_receiver_name / transmit_name
    component_type: str  # RECEIVER or TRANSMIT
    type_name: str  # protocol / transmit_type
    poll_interval: float  # seconds between the end of one pass and the start of the next
    config: dict[str, Any] = dataclasses.field(compare=False, repr=False)

    @property
    def section(self) -> str:
        return DATA_RECEIVER if self.component_type == RECEIVER else DATA_TRANSMIT

    @property
    def key(self) -> str:
        """Unique among services and the name of its thread, e.g. "receiver:line_1"."""
        return service_key(self.component_type, self.name)


def service_key(component_type: str, name: str) -> str:
    return f"{component_type.lower()}:{name}"


@dataclasses.dataclass(frozen=True)
class ConfiguredStream:
    receiver: str
    asset: str
    stream_type: str

    @property
    def stream(self) -> str:
        return f"{self.asset}:{self.stream_type}"


_SECTIONS = (
    (DATA_RECEIVER, RECEIVER, "data_receiver_name", "protocol", None),
    (DATA_TRANSMIT, TRANSMIT, "transmit_name", "transmit_type", DEFAULT_TRANSMIT_TYPE),
)


def configured_services(config: dict[str, Any]) -> list[ServiceSpec]:
    """Every data_receiver, then every data_transmit, in the configuration's order."""
    specs: list[ServiceSpec] = []
    for section, component_type, name_key, type_key, default_type in _SECTIONS:
        entries = config.get(section) if isinstance(config, dict) else None
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, dict):
                continue
            name = entry.get(name_key)
            if not isinstance(name, str) or not name:
                name = f"{section}_{index}"
            type_name = entry.get(type_key) or default_type
            specs.append(ServiceSpec(name=name, component_type=component_type, type_name=str(type_name),
                                     poll_interval=_poll_interval(entry, component_type), config=entry))
    return specs


def _poll_interval(entry: dict[str, Any], component_type: str) -> float:
    value = entry.get("poll_interval")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return DEFAULT_POLL_INTERVAL[component_type]


def configured_streams(config: dict[str, Any]) -> list[ConfiguredStream]:
    """Every (receiver, asset, stream_type) of the configuration, receivers in order."""
    streams: list[ConfiguredStream] = []
    for spec in configured_services(config):
        if spec.component_type != RECEIVER:
            continue
        entries = spec.config.get("streams")
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            asset, stream_type = entry.get("asset"), entry.get("stream_type")
            if isinstance(asset, str) and isinstance(stream_type, str):
                streams.append(ConfiguredStream(spec.name, asset, stream_type))
    return streams


MarkerOwner = tuple[str, str, str, str]  # (component, component_type, asset, stream_type)


def marker_owners(config: dict[str, Any]) -> set[MarkerOwner]:
    """Who may hold a marker on which stream under `config`: each receiver on its own streams,
    each transform on the streams its filter_stream selects, each transmit on every stream.
    A marker of anyone else (a receiver renamed or removed, a stream gone) describes a
    configuration that is no longer in force."""
    streams = configured_streams(config)
    owners: set[MarkerOwner] = {(s.receiver, RECEIVER, s.asset, s.stream_type) for s in streams}
    transforms = config.get("transforms") if isinstance(config, dict) else None
    for entry in transforms if isinstance(transforms, list) else []:
        if not isinstance(entry, dict):
            continue
        name = str(entry.get("transform_name", entry.get("transform_type")))  # as StreamFlow names it
        for s in streams:
            if stream_matches(entry.get("filter_stream", ["*"]), s.stream):
                owners.add((name, TRANSFORM, s.asset, s.stream_type))
    for spec in configured_services(config):
        if spec.component_type == TRANSMIT:
            owners.update((spec.name, TRANSMIT, s.asset, s.stream_type) for s in streams)
    return owners
