"""validate_config refuses a stream whose asset and stream_type leave no room in the
historian's tag names ('<asset>:<stream_type>:<field>', NAME_LENGTH bytes) for a field."""

import pytest

from edge.pipeline.config.validation import validate_config
from edge.pipeline.runtime.ports import NAME_LENGTH


def config(asset: str, stream_type: str = "cycle") -> dict:
    return {
        "data_receiver": [
            {"data_receiver_name": "files", "protocol": "localfile", "poll_interval": 5,
             "connections": [{"root_path": "/data/in"}],
             "parsers": [{"parser_name": "csv", "parser_type": "spreadsheet", "filter_stream": ["*"],
                          "options": {"parse": {"parse_timestamps": [{"field_name": "ts",
                                                                      "format": "%Y-%m-%d %H:%M:%S"}]}}}],
             "streams": [{"asset": "press", "stream_type": "cycle", "file_filter": ["*.csv"]},
                         {"asset": asset, "stream_type": stream_type, "file_filter": ["*.txt"]}]}],
        "transforms": [], "data_transmit": []}


def at_asset(violations) -> list[tuple[str, str]]:
    return [(v.level, v.description) for v in violations
            if v.json_path == ("data_receiver", 0, "streams", 1, "asset")]


@pytest.mark.parametrize("asset_length", [NAME_LENGTH - 7, 250, 1000])
def test_an_asset_that_leaves_no_room_for_field_names_is_an_error_at_its_path(asset_length):
    asset = "a" * asset_length
    prefix = asset_length + len("cycle") + 2
    assert at_asset(validate_config(config(asset))) == [(
        "error", f"Tag names '<asset>:<stream_type>:<field>' may be at most 255 bytes; asset ({asset_length} "
                 f"bytes) and stream_type (5 bytes) with their separators take {prefix}, which leaves 0 for field "
                 f"names: shorten the asset.")]


def test_an_asset_that_leaves_a_byte_passes_and_bytes_are_counted_in_utf8():
    assert at_asset(validate_config(config("a" * (NAME_LENGTH - 8)))) == []  # 'a...a:cycle:x' fits
    assert at_asset(validate_config(config("a" * 200))) == []
    assert at_asset(validate_config(config("온" * 83)))[0][1].startswith(
        "Tag names '<asset>:<stream_type>:<field>' may be at most 255 bytes; asset (249 bytes)")


def test_the_limit_is_the_historian_tables_name_length(tmp_path):
    # The built-in TAG table's NAME is 80 bytes: an asset of 200 characters cannot fit there.
    from edge.catalog import Catalog
    from edge.catalog.config_history import ConfigHistory
    from edge.pipeline.config.configuration import FtxConfiguration
    from edge.pipeline.runtime.ports import Historian
    from edge.store import TagStore

    catalog = Catalog(tmp_path / "catalog.db")
    store = TagStore(catalog, tmp_path / "tags")
    try:
        historian = Historian(store)
        assert historian.name_length("TAG") == 80
        assert historian.name_length("NOT_YET_MADE") == NAME_LENGTH
        configuration = FtxConfiguration(ConfigHistory(catalog), mask_secrets=True,
                                         tag_name_bytes=lambda: historian.name_length("TAG"))
        checked = configuration.save(config("a" * 200))
        assert not checked.passed and configuration.current() is None
        assert at_asset(checked.violations) == [(
            "error", "Tag names '<asset>:<stream_type>:<field>' may be at most 80 bytes; asset (200 bytes) and "
                     "stream_type (5 bytes) with their separators take 207, which leaves 0 for field names: "
                     "shorten the asset.")]
    finally:
        store.close()
        catalog.close()
