"""Fixtures for the file receivers: real pipeline parts in this test's temp folder."""

from __future__ import annotations

import pytest

from tests.unit.pipeline.receivers.pipeline_parts import PipelineParts


@pytest.fixture
def parts(tmp_path):
    made = []

    def make(**settings):
        made.append(PipelineParts(tmp_path / "data", **settings))
        return made[-1]

    yield make
    for item in made:
        item.close()
