"""Config backup: the FactoryTX configuration, kept in the cloud of the remotedatapost transmit.

A thread looks at the configuration in force every `check_seconds`; when it changed since the
last backup (a save), or `interval_seconds` have passed, it PUTs it to the cloud of the first
remotedatapost transmit (`{base_url}/v1/edge-device/config/<device id>/`, see `wire`), with
secrets masked: passwords and keys never leave the box but to where they are used. The
outcome is `backup.config` of /v1/status: `last_success`, or an `error_code`
(`auth_error`, `checksum_error`, `connectivity_error`, `unexpected_error`, and
`not_configured` while no remotedatapost transmit is configured, or the backup is turned off
by an interval of 0) with its message. After a failure the next try comes after 30 s, doubling
up to the interval.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from edge.pipeline.config.secrets import mask_secrets
from edge.pipeline.runtime.services import configured_services
from edge.pipeline.transmits.remotedatapost.wire import UNEXPECTED_ERROR, CloudClient, CloudError

if TYPE_CHECKING:
    from edge.catalog.backup_status import BackupStatus
    from edge.pipeline.runtime.ports import ConfigurationSource

log = logging.getLogger("edge.pipeline.backup")

FEATURE = "config"
NOT_CONFIGURED = "not_configured"
FIRST_RETRY_SECONDS = 30.0


class ConfigBackup:
    def __init__(self, configuration: ConfigurationSource, status: BackupStatus, device_id: str,
                 interval_seconds: float, check_seconds: float = 2.0):
        self._configuration = configuration
        self._status = status
        self._device_id = device_id
        self._interval = interval_seconds
        self._check = check_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._done_digest: str | None = None  # what the last attempt was about
        self._next_try = 0.0
        self._failures = 0
        self._shown_code: str | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="config-backup", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def back_up_if_due(self) -> None:
        """One look: backs the configuration up when it changed or the interval has passed."""
        if self._interval <= 0:
            self._record(NOT_CONFIGURED, "Backup of the configuration is turned off (CONFIG_BACKUP_HOURS = 0)")
            return
        body = self._configuration.body()
        cloud = cloud_of(body)
        if cloud is None:
            self._done_digest = None
            self._record(NOT_CONFIGURED, "Backup of the configuration to the Sight Machine cloud is not configured: "
                                         "there is no remotedatapost data transmit")
            return
        document = json.dumps(mask_secrets(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        payload = document.encode("utf-8")
        digest = hashlib.sha256(payload + json.dumps(cloud, sort_keys=True).encode()).hexdigest()
        if digest == self._done_digest and time.monotonic() < self._next_try:
            return
        self._done_digest = digest
        try:
            client = CloudClient(cloud["base_url"], cloud["API_key_ID"], cloud["API_key"], self._device_id,
                                 float(cloud.get("timeout") or 120))
        except (KeyError, TypeError, ValueError) as exc:
            self._failed(UNEXPECTED_ERROR, f"the remotedatapost transmit cannot be used for backup: {exc}")
            return
        try:
            client.put_config(payload)
        except CloudError as exc:
            self._failed(exc.code, exc.text)
        else:
            self._failures = 0
            self._next_try = time.monotonic() + self._interval
            self._status.record_success(FEATURE)
            self._shown_code = None
            log.info("configuration backed up to %s", client.base_url)
        finally:
            client.close()

    def _failed(self, code: str, text: str) -> None:
        self._failures += 1
        self._next_try = time.monotonic() + min(self._interval, FIRST_RETRY_SECONDS * 2 ** (self._failures - 1))
        log.error("configuration backup failed (%s): %s", code, text)
        self._shown_code = None  # every failure is recorded: its message may differ
        self._record(code, text)

    def _record(self, code: str, text: str) -> None:
        if code == self._shown_code:
            return
        self._status.record_failure(FEATURE, code, text)
        self._shown_code = code

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.back_up_if_due()
            except Exception:
                log.exception("configuration backup")
            self._stop.wait(self._check)


def cloud_of(config: Any) -> dict[str, Any] | None:
    """The first remotedatapost transmit of `config`: the cloud the backup goes to."""
    for spec in configured_services(config):
        if spec.section == "data_transmit" and spec.type_name == "remotedatapost":
            return spec.config
    return None
