"""FtxConfiguration over a real catalog: check, save, masking, revisions."""

import pytest

from edge.catalog import Catalog
from edge.catalog.config_history import ConfigHistory
from edge.pipeline.config.secrets import MASK
from edge.pipeline.config.configuration import MAX_NESTING, FtxConfiguration, check_configuration, nesting_depth


def config(api_key="key-1", name="cloud"):
    return {"data_receiver": [], "transforms": [],
            "data_transmit": [{"transmit_name": name, "base_url": "https://p.sightmachine.io", "API_key": api_key,
                               "API_key_ID": "id"}]}


@pytest.fixture
def configuration(tmp_path):
    catalog = Catalog(tmp_path / "catalog.db")
    yield FtxConfiguration(ConfigHistory(catalog), mask_secrets=True)
    catalog.close()


def test_nothing_saved_reads_as_the_empty_configuration(configuration):
    assert configuration.current() is None
    assert configuration.body() == {"data_receiver": [], "transforms": [], "data_transmit": []}


def test_empty_configuration_is_saved_with_every_section(configuration):
    checked = configuration.save({})
    assert checked.revision.body == {"data_receiver": [], "transforms": [], "data_transmit": []}
    assert configuration.body() == {"data_receiver": [], "transforms": [], "data_transmit": []}


def test_revision_stored_without_some_sections_reads_with_every_section(tmp_path):
    catalog = Catalog(tmp_path / "catalog.db")
    try:
        history = ConfigHistory(catalog)
        history.save({"transforms": []}, source="test")  # as saved before sections were filled in
        configuration = FtxConfiguration(history, mask_secrets=True)
        assert configuration.current().body == {"transforms": [], "data_receiver": [], "data_transmit": []}
        assert configuration.body() == {"transforms": [], "data_receiver": [], "data_transmit": []}
    finally:
        catalog.close()


def test_save_stores_clear_secrets_and_shows_them_masked(configuration):
    checked = configuration.save(config())
    assert checked.passed and checked.revision.revision == 1
    assert configuration.body() == config()
    assert configuration.shown(configuration.body())["data_transmit"][0]["API_key"] == MASK
    assert configuration.body() == config()  # showing does not mask the stored copy


def test_shown_is_clear_when_masking_is_off(tmp_path):
    catalog = Catalog(tmp_path / "catalog.db")
    try:
        configuration = FtxConfiguration(ConfigHistory(catalog), mask_secrets=False)
        assert configuration.shown(config()) == config()
    finally:
        catalog.close()


def test_refused_save_stores_nothing(configuration):
    configuration.save(config())
    checked = configuration.save({"data_transmit": "x"})
    assert not checked.passed and checked.revision is None
    assert checked.report() == {"violations": [{"description": "'data_transmit' section is not defined as a list.",
                                                "json_path": ["data_transmit"], "level": "error"}],
                                "status": "failed"}
    assert configuration.current().revision == 1


def test_mask_keeps_the_secret_of_the_revision_in_force(configuration):
    configuration.save(config(api_key="key-1"))
    configuration.save(config(api_key="key-2"))
    checked = configuration.save(configuration.shown(configuration.body()))
    assert checked.passed
    assert configuration.body()["data_transmit"][0]["API_key"] == "key-2"
    assert configuration.current().revision == 3


def test_check_passes_with_warnings_and_reports_them():
    checked = check_configuration(config(api_key="<Please input your API key>"), None)
    assert checked.passed
    assert checked.report()["status"] == "passed"
    # The placeholder left in the API key.
    assert [(v["level"], v["json_path"]) for v in checked.report()["violations"]] == [
        ("warning", ["data_transmit", 0, "API_key"])]


def test_too_deep_a_document_is_one_error_without_walking_it():
    deep = []
    for _ in range(MAX_NESTING + 10):
        deep = [deep]
    assert nesting_depth({"data_receiver": deep}) == MAX_NESTING + 12
    checked = check_configuration({"data_receiver": deep}, None)
    assert [(v.json_path, v.level) for v in checked.violations] == [((), "error")]
