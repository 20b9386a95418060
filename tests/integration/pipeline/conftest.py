"""Fixtures of the pipeline's integration tests: a real Samba server on loopback."""

from __future__ import annotations

import pytest

from tests.integration.peers import samba


@pytest.fixture(scope="module")
def samba_server(tmp_path_factory):
    """One smbd per test module; each test uses its own folder inside the share."""
    reason = samba.available()
    if reason:
        pytest.skip(reason)
    server = samba.SambaServer(tmp_path_factory.mktemp("samba")).start()
    yield server
    server.stop()

