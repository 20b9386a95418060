"""The remotedatapost runtime: drains the transmit's outbox to the Sight Machine cloud."""

from __future__ import annotations

from edge.pipeline.outbox.outbox import Take
from edge.pipeline.outbox.sender import OutboxSender, TransmitFailure
from edge.pipeline.runtime.context import ComponentContext
from edge.pipeline.transmits.remotedatapost.wire import AUTH_ERROR, CloudClient, CloudError

MAX_REQUEST_BYTES = 4 * 1024 * 1024  # FactoryTX caps a request at 4 MB whatever is configured
DEFAULT_TIMEOUT = 120.0
DEFAULT_MAX_RECORDS = 2000


class RemoteDataPostTransmit(OutboxSender):
    # The next request's body (its JSON and gzip: most of the transmit's CPU) is made while the
    # current one is on the wire and the cloud reads it. Requests still go one at a time, in
    # order, on one connection.
    read_ahead = True

    def __init__(self, context: ComponentContext):
        super().__init__(context)
        config = context.config
        self.max_records = int(config.get("max_request_records") or DEFAULT_MAX_RECORDS)
        self.max_bytes = min(int(config.get("max_request_size_bytes") or MAX_REQUEST_BYTES), MAX_REQUEST_BYTES)
        self.client = CloudClient(config["base_url"], config["API_key_ID"], config["API_key"],
                                  context.outboxes.device_id, float(config.get("timeout") or DEFAULT_TIMEOUT))
        self.bytes_sent = 0

    def prepare(self, take: Take) -> bytes:
        return self.client.records_body(self.context.name, take.pieces)

    def send(self, take: Take) -> None:
        try:
            self.bytes_sent += self.client.post_records(take.payload)
        except CloudError as exc:
            raise TransmitFailure(exc.text, auth=exc.code == AUTH_ERROR) from None

    def close(self) -> None:
        super().close()
        self.client.close()
