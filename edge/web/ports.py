"""What the web layer is given: one narrow port per API family, built by `edge.app`.

Routes parse and format; everything they change or read goes through these objects, so the
imports of a route module and the fields below are all it can reach.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edge.catalog.backup_status import BackupStatus
    from edge.catalog.markers import Markers
    from edge.catalog.users import Users
    from edge.pipeline.config.configuration import FtxConfiguration
    from edge.pipeline.runtime.scheduler import Scheduler
    from edge.sql.engine import SqlEngine
    from edge.store import TagStore
    from edge.time.timezone import TimeZone


@dataclasses.dataclass(frozen=True)
class FtxPorts:
    """/v1: the configuration and its history, the scheduler, the books it reports from."""

    configuration: FtxConfiguration
    scheduler: Scheduler
    markers: Markers
    backup_status: BackupStatus
    data_dir: Path  # machine_info reports its disk
    log_dir: Path  # /v1/log tails the files here


@dataclasses.dataclass(frozen=True)
class HistorianPorts:
    """/machbase and /machiot: the SQL engine, the tag store, the zone times are shown in."""

    sql: SqlEngine
    store: TagStore
    zone: TimeZone
    max_result_bytes: int  # HTTP_MAX_MEM: the largest answer a query may build
    historian_table: str = "TAG"  # HISTORIAN_TABLE: where /write stores when `db` names no table


@dataclasses.dataclass(frozen=True)
class HttpPorts:
    """The dispatcher's own needs: who may call, and how large a request may be."""

    users: Users
    auth_enabled: bool
    max_request_size: int
    login_attempts: int = 0  # wrong passwords one address may try before it must wait; 0: no limit
