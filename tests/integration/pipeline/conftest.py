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


@pytest.fixture
def parts(tmp_path):
    """The real catalog and tag store a receiver runtime works on, in this test's temp folder."""
    from tests.unit.pipeline.receivers.pipeline_parts import PipelineParts

    made = []

    def make(**settings):
        made.append(PipelineParts(tmp_path / "data", **settings))
        return made[-1]

    yield make
    for item in made:
        item.close()
