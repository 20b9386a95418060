"""Per feature (e.g. `config`): when its file was last backed up to the cloud, or why not."""

from __future__ import annotations

from edge.catalog.database import Catalog, utc_timestamp

ERROR_CODES = ("auth_error", "checksum_error", "connectivity_error", "not_configured", "unexpected_error")


class BackupStatus:
    def __init__(self, catalog: Catalog):
        self._catalog = catalog

    def record_success(self, feature: str) -> None:
        self._catalog.connection().execute(
            """INSERT INTO backup_status (feature, last_success, error_code, error_message)
               VALUES (?, ?, NULL, NULL)
               ON CONFLICT (feature) DO UPDATE SET last_success = excluded.last_success,
                   error_code = NULL, error_message = NULL""", (feature, utc_timestamp()))

    def record_failure(self, feature: str, error_code: str, error_message: str) -> None:
        if error_code not in ERROR_CODES:
            raise ValueError(f"backup error_code must be one of {ERROR_CODES}")
        self._catalog.connection().execute(
            """INSERT INTO backup_status (feature, last_success, error_code, error_message)
               VALUES (?, NULL, ?, ?)
               ON CONFLICT (feature) DO UPDATE SET error_code = excluded.error_code,
                   error_message = excluded.error_message""", (feature, error_code, error_message))

    def get(self, feature: str) -> dict:
        row = self._catalog.connection().execute(
            "SELECT last_success, error_code, error_message FROM backup_status WHERE feature = ?",
            (feature,)).fetchone()
        last_success, error_code, error_message = row or (None, None, None)
        return {"last_success": last_success, "error_code": error_code, "error_message": error_message}
