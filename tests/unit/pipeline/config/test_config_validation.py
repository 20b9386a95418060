"""validate_config: the shape, each component's schema, the rules across entries, the warnings."""

import copy
import json
from pathlib import Path

import pytest

from edge.pipeline.config.templates import template_configuration
from edge.pipeline.config.validation import validate_config

SPEC = Path(__file__).resolve().parents[3] / "fixtures" / "factorytx_spec"
EXISTING_FOLDER = str(Path(__file__).resolve().parent)  # a localfile root_path that exists on every box


def spec_example(name: str) -> dict:
    document = json.loads((SPEC / name).read_text())
    return document.get("response", document) if "data_receiver" not in document else document


def full_config() -> dict:
    """A configuration using every component, with no violation at all."""
    return {
        "data_receiver": [
            {"data_receiver_name": "files", "protocol": "localfile", "poll_interval": 5, "delete_completed": False,
             "connections": [{"root_path": EXISTING_FOLDER}],
             "parsers": [{"parser_name": "csv", "parser_type": "spreadsheet", "filter_stream": ["press_*:cycle"],
                          "options": {"localtz": "Asia/Ho_Chi_Minh", "counter": True,
                                      "parse": {"separator": ";", "header": 0, "dayfirst": True,
                                                "bad_lines_action": "skip", "file_encoding": "latin-1",
                                                "parse_dates": ["date"],
                                                "parse_timestamps": [{"field_name": "ts",
                                                                      "format": "%Y-%m-%d %H:%M:%S"}]}}}],
             "streams": [{"asset": "press_1", "stream_type": "cycle", "file_filter": ["*.csv"]},
                         {"asset": "press_2", "stream_type": "cycle"}]},
            {"data_receiver_name": "share", "protocol": "smb",
             "connections": [{"host": "10.0.0.5", "port": 445, "username": "u", "password": "p", "domain": "PLANT",
                              "shared_folder": "data/line1"}],
             "parsers": [{"parser_name": "csv", "parser_type": "spreadsheet", "filter_stream": ["*"],
                          "options": {"parse": {"parse_dates": ["time"]}}}],
             "streams": [{"asset": "oven", "stream_type": "temperature", "file_filter": ["*.txt"]}]},
            {"data_receiver_name": "db", "protocol": "sql", "poll_interval": 10,
             "connections": [{"host": "db.local", "port": 5432, "username": "r", "password": "s",
                              "database_type": "postgresql", "database_name": "plant", "ssl": True}],
             "streams": [{"asset": "bolts", "stream_type": "torque",
                          "query": "SELECT * FROM t WHERE id > :id AND at::date > '2018-01-01 12:30' ORDER BY id",
                          "state_fields": [{"column_name": "id", "data_type": "integer"}]}]},
            {"data_receiver_name": "plc", "protocol": "opcua", "poll_interval": 2,
             "connections": [{"host": "plc.local", "port": 49320, "timeout": 3}],
             "streams": [{"asset": "paint", "stream_type": "fan",
                          "opcua_tags": [{"name": "ns=2;s=Fan.Speed", "exportname": "speed"}, {"name": "Fan.On"}]}]},
        ],
        "transforms": [
            {"transform_name": "times", "transform_type": "convert_timestamps", "filter_stream": ["*"],
             "field_names": ["ts", "end"], "timezone": "Europe/Berlin", "format": "%d/%m/%Y %H:%M"},
            {"transform_name": "epoch", "transform_type": "convert_timestamps", "filter_stream": ["bolts:torque"],
             "field_name": "at", "unit": "ms"},
            {"transform_name": "names", "transform_type": "rename", "filter_stream": ["press_?:*"],
             "renames": {"temp": "temperature", "a": "b", "b": "a"}},
            {"transform_name": "hot", "transform_type": "filter", "filter_stream": ["oven:*"],
             "conditions": [{"field": "temperature", "operator": ">=", "value": 20},
                            {"field": "state", "operator": "!=", "value": None}], "match": "any"},
            {"transform_name": "copies", "transform_type": "replicate", "filter_stream": ["*"],
             "copy_fields": {"raw_temperature": "temperature"}, "constant_fields": {"line": "L1", "shift": 2}},
            {"transform_name": "sum", "transform_type": "checksum_record", "filter_stream": ["*"],
             "field_name": "checksum", "algorithm": "sha1", "fields": ["ts", "temperature"]},
        ],
        "data_transmit": [
            {"transmit_name": "cloud", "transmit_type": "remotedatapost", "base_url": "https://plant.sightmachine.io",
             "API_key": "k", "API_key_ID": "id@sightmachine.com", "timeout": 60, "poll_interval": 30,
             "max_request_records": 500},
        ],
    }


def all_found(config) -> list[tuple[str, list, str]]:
    return [(v.level, list(v.json_path), v.description) for v in validate_config(config)]


def found(config) -> list[tuple[str, list, str]]:
    return all_found(config)


def paths(config, level="error") -> list[list]:
    return [path for lvl, path, _ in found(config) if lvl == level]


def test_a_configuration_using_every_component_passes_clean():
    config = full_config()
    assert all_found(config) == []
    del config["data_transmit"]
    assert all_found(config) == []


def test_a_receiver_entry_missing_its_parts_is_refused_at_each():
    config = {"data_receiver": [{"data_receiver_name": "db", "protocol": "sql"}]}
    assert [(lvl, path) for lvl, path, _ in all_found(config)] == [
        ("error", ["data_receiver", 0, "streams"]),
        ("error", ["data_receiver", 0, "connections"]),
    ]


def test_both_transmits_validate_against_their_schemas():
    config = full_config()
    del config["data_receiver"][2:]
    config["transforms"][1]["filter_stream"] = ["*"]
    config["data_transmit"].append({"transmit_name": "implied", "base_url": "https://p.sightmachine.io",
                                    "API_key": "k", "API_key_ID": "id", "filter_stream": ["press:*"],
                                    "max_request_size_bytes": 4194304})
    config["data_transmit"].append({"transmit_name": "broker", "transmit_type": "mqtt", "host": "127.0.0.1",
                                    "password": "p", "topic": "{asset}/{stream_type}"})
    assert all_found(config) == []
    config["data_transmit"][1]["max_request_size_bytes"] = 5_000_000  # past FactoryTX's 4 MB cap
    del config["data_transmit"][2]["host"]
    assert [(lvl, path) for lvl, path, _ in all_found(config)] == [
        ("error", ["data_transmit", 1, "max_request_size_bytes"]), ("error", ["data_transmit", 2, "host"])]


def test_spec_get_config_example_passes_warned_only_that_its_folder_is_missing():
    assert found(spec_example("get_config_response.json")) == [
        ("warning", ["data_receiver", 0, "connections", 0, "root_path"],
         '"/data/demorobotdata" does not exist on this appliance: the receiver will find no files there '
         "(a connection error at every poll) until it is created.")]


def test_spec_post_example_passes_with_warnings_only():
    result = found(spec_example("post_config_request.json"))
    assert {level for level, _, _ in result} == {"warning"}
    assert [path for _, path, _ in result] == [
        ["data_receiver", 0, "parsers", 0, "options", "parse", "parse_dates", 0],
        ["data_transmit", 0, "base_url"],
        ["data_transmit", 0, "API_key"],
        ["data_transmit", 0, "API_key_ID"],
        ["transforms", 0, "field_names"],
        ["data_receiver", 0, "connections", 0, "root_path"],  # /data/folder_with_data_files is not here
        ["data_receiver", 0, "streams", 0],  # parse_dates and field_names are placeholders: no time
    ]


def test_placeholder_warning_never_quotes_a_secret():
    config = full_config()
    config["data_transmit"][0]["API_key"] = "<Please input your API key>hunter2"
    [(level, path, text)] = found(config)
    assert (level, path) == ("warning", ["data_transmit", 0, "API_key"])
    assert "hunter2" not in text


def test_configuration_that_is_not_an_object_is_one_root_error():
    assert paths([1, 2]) == [[]]
    assert "must be a JSON object" in found("text")[0][2]


@pytest.mark.parametrize("section", ["data_receiver", "transforms", "data_transmit"])
def test_section_that_is_not_a_list_is_reported_as_in_the_spec(section):
    config = full_config()
    config[section] = {}
    assert (("error", [section], f"'{section}' section is not defined as a list.") in found(config))


def test_missing_sections_count_as_empty():
    assert found({}) == []
    assert found({"data_transmit": []}) == []


def test_unknown_section_is_an_error():
    config = full_config()
    config["data_receivers"] = []
    assert paths(config) == [["data_receivers"]]


def test_entry_that_is_not_an_object_is_an_error():
    config = full_config()
    config["transforms"][2] = "rename"
    assert found(config)[0] == ("error", ["transforms", 2], "Entry 2 of 'transforms' must be an object, not string.")


def test_unknown_component_types_are_named():
    config = full_config()
    config["data_receiver"][0]["parsers"][0]["parser_type"] = "spreadsheets"
    config["data_receiver"][2]["protocol"] = "odbc"
    config["transforms"][0]["transform_type"] = "pandas"
    config["data_transmit"][0]["transmit_type"] = "kafka"
    errors = [(p, d) for lvl, p, d in found(config) if lvl == "error"]
    assert errors == [
        (["data_receiver", 0, "parsers", 0, "parser_type"], 'No parser named "spreadsheets".'),
        (["data_receiver", 2, "protocol"], 'No protocol named "odbc".'),
        (["transforms", 0, "transform_type"], 'No transform named "pandas".'),
        (["data_transmit", 0, "transmit_type"], 'No transmit named "kafka".'),
    ]


def test_missing_protocol_and_transform_type_are_required():
    config = full_config()
    del config["data_receiver"][1]["protocol"]
    del config["transforms"][1]["transform_type"]
    assert paths(config) == [["data_receiver", 1, "protocol"], ["transforms", 1, "transform_type"]]


def test_transmit_type_defaults_to_remotedatapost():
    config = full_config()
    del config["data_transmit"][0]["transmit_type"]
    assert found(config) == []


def test_missing_required_property_points_at_the_property():
    config = full_config()
    del config["data_receiver"][1]["connections"][0]["shared_folder"]
    assert found(config) == [("error", ["data_receiver", 1, "connections", 0, "shared_folder"],
                              "'shared_folder' is required.")]


def test_localfile_connection_needs_root_path_or_data_directory():
    config = full_config()
    config["data_receiver"][0]["connections"] = [{"root_path": EXISTING_FOLDER}, {"data_directory": EXISTING_FOLDER},
                                                 {}]
    assert found(config) == [("error", ["data_receiver", 0, "connections", 2, "root_path"],
                              "'root_path' or 'data_directory' is required.")]


def test_wrong_type_names_field_and_types():
    config = full_config()
    config["data_receiver"][0]["connections"][0]["root_path"] = 7
    config["data_receiver"][0]["poll_interval"] = "5"
    assert found(config) == [
        ("error", ["data_receiver", 0, "poll_interval"], "'poll_interval' must be a number, not string."),
        ("error", ["data_receiver", 0, "connections", 0, "root_path"], "'root_path' must be a string, not integer."),
    ]


def test_unknown_property_is_reported_with_a_suggestion():
    config = full_config()
    config["data_receiver"][0]["connections"][0]["root_pth"] = "/x"
    assert found(config) == [("error", ["data_receiver", 0, "connections", 0, "root_pth"],
                              "Unknown property 'root_pth'. Did you mean 'root_path'?")]


def test_enum_and_bounds_are_checked():
    config = full_config()
    config["data_receiver"][0]["parsers"][0]["options"]["parse"]["bad_lines_action"] = "ignore"
    config["data_receiver"][1]["connections"][0]["port"] = 70000
    config["data_receiver"][3]["poll_interval"] = 0
    config["data_transmit"][0]["max_request_records"] = 0
    assert paths(config) == [
        ["data_receiver", 0, "parsers", 0, "options", "parse", "bad_lines_action"],
        ["data_receiver", 1, "connections", 0, "port"],
        ["data_receiver", 3, "poll_interval"],
        ["data_transmit", 0, "max_request_records"],
    ]
    assert found(config)[0][2] == ("'bad_lines_action' must be one of \"warn\", \"skip\", \"error\"; "
                                   "got \"ignore\".")


def test_sql_and_opcua_take_a_single_connection():
    config = full_config()
    config["data_receiver"][2]["connections"].append(copy.deepcopy(config["data_receiver"][2]["connections"][0]))
    assert found(config) == [("error", ["data_receiver", 2, "connections"],
                              "'connections' takes at most 1 entry.")]


def test_empty_streams_and_asset_with_colon_are_refused():
    config = full_config()
    config["data_receiver"][3]["streams"] = []
    config["data_receiver"][0]["streams"][1]["asset"] = "press:2"
    assert found(config) == [
        ("error", ["data_receiver", 0, "streams", 1, "asset"], "'asset' must not contain ':'."),
        ("error", ["data_receiver", 3, "streams"], "'streams' needs at least 1 entry."),
    ]


def test_unknown_time_zones_are_errors():
    config = full_config()
    config["data_receiver"][0]["parsers"][0]["options"]["localtz"] = "Asia/Atlantis"
    config["transforms"][0]["timezone"] = "EST5"
    assert found(config) == [
        ("error", ["data_receiver", 0, "parsers", 0, "options", "localtz"],
         "'localtz' must be a known IANA time zone (e.g. 'America/New_York'); got \"Asia/Atlantis\"."),
        ("error", ["transforms", 0, "timezone"],
         "'timezone' must be a known IANA time zone (e.g. 'America/New_York'); got \"EST5\"."),
    ]


def test_unknown_text_encoding_is_an_error():
    config = full_config()
    config["data_receiver"][0]["parsers"][0]["options"]["parse"]["file_encoding"] = "base64"
    assert paths(config) == [["data_receiver", 0, "parsers", 0, "options", "parse", "file_encoding"]]


def test_convert_timestamps_field_names_string_or_list():
    config = full_config()
    config["transforms"][0]["field_names"] = "ts"
    assert found(config) == []
    config["transforms"][0]["field_names"] = 5
    assert found(config) == [("error", ["transforms", 0, "field_names"],
                              "'field_names' must be a string or a list, not integer.")]
    config["transforms"][0]["field_names"] = ["ts", ""]
    assert found(config) == [("error", ["transforms", 0, "field_names", 1], "Entry 1 of 'field_names' must not be empty.")]


def test_convert_timestamps_needs_one_field_form_and_not_both_format_and_unit():
    config = full_config()
    del config["transforms"][0]["field_names"]
    config["transforms"][1]["field_names"] = "x"
    config["transforms"][1]["format"] = "%d"
    assert found(config) == [
        ("error", ["transforms", 0, "field_names"], "'field_names' or 'field_name' is required."),
        ("error", ["transforms", 1], "'field_names' and 'field_name' cannot be used together."),
        ("error", ["transforms", 1], "'format' and 'unit' cannot be used together."),
    ]


def test_filter_ordering_operator_needs_number_or_string():
    config = full_config()
    config["transforms"][3]["conditions"][0]["value"] = True
    config["transforms"][3]["conditions"][1]["operator"] = "=~"
    assert paths(config) == [["transforms", 3, "conditions", 0, "value"], ["transforms", 3, "conditions", 1, "operator"]]


def test_rename_and_replicate_shapes():
    config = full_config()
    config["transforms"][2]["renames"] = {"": "x", "y": ""}
    config["transforms"][4] = {"transform_name": "copies", "transform_type": "replicate", "filter_stream": ["*"]}
    assert found(config) == [
        ("error", ["transforms", 2, "renames"], "'renames' has an invalid field name \"\": names must not be empty."),
        ("error", ["transforms", 2, "renames", "y"], "'y' must not be empty."),
        ("error", ["transforms", 4, "copy_fields"], "'copy_fields' or 'constant_fields' is required."),
    ]


def test_duplicate_names_are_errors_at_the_second_name():
    config = full_config()
    config["data_receiver"][3]["data_receiver_name"] = "files"
    config["data_receiver"][0]["parsers"].append({"parser_name": "csv", "parser_type": "spreadsheet",
                                                  "filter_stream": ["*"]})
    config["transforms"][5]["transform_name"] = "times"
    config["data_transmit"].append(dict(config["data_transmit"][0]))
    assert found(config) == [
        ("error", ["data_receiver", 3, "data_receiver_name"],
         'Duplicate data_receiver_name "files": names must be unique (first used at data_receiver[0]).'),
        ("error", ["transforms", 5, "transform_name"],
         'Duplicate transform_name "times": names must be unique (first used at transforms[0]).'),
        ("error", ["data_transmit", 1, "transmit_name"],
         'Duplicate transmit_name "cloud": names must be unique (first used at data_transmit[0]).'),
        ("error", ["data_receiver", 0, "parsers", 1, "parser_name"],
         'Duplicate parser_name "csv": names must be unique (first used at data_receiver[0].parsers[0]).'),
    ]


def test_parser_names_may_repeat_across_receivers():
    assert [p["parser_name"] for r in full_config()["data_receiver"][:2] for p in r["parsers"]] == ["csv", "csv"]
    assert found(full_config()) == []


def test_same_stream_in_two_receivers_is_an_error():
    config = full_config()
    config["data_receiver"][3]["streams"][0].update(asset="press_2", stream_type="cycle")
    assert found(config) == [
        ("error", ["data_receiver", 3, "streams", 0],
         'Stream "press_2:cycle" (asset:stream_type) is defined more than once (first at data_receiver[0].streams[1]).'),
    ]


def test_filter_stream_pattern_matching_nothing_is_an_error():
    config = full_config()
    config["data_receiver"][0]["parsers"][0]["filter_stream"] = ["press_*:cycle", "oven:*"]
    config["transforms"][2]["filter_stream"] = ["Press_1:cycle"]  # case matters
    assert found(config) == [
        ("error", ["data_receiver", 0, "parsers", 0, "filter_stream", 1],
         'filter_stream pattern "oven:*" matches no stream (streams are "press_1:cycle", "press_2:cycle").'),
        ("error", ["transforms", 2, "filter_stream", 0],
         'filter_stream pattern "Press_1:cycle" matches no stream (streams are "press_1:cycle", "press_2:cycle", '
         '"oven:temperature", "bolts:torque", "paint:fan").'),
    ]


def test_star_matches_even_when_there_are_no_streams():
    config = {"data_receiver": [], "transforms": [full_config()["transforms"][0]]}
    assert found(config) == []
    config["transforms"][0]["filter_stream"] = ["a:b"]
    assert found(config) == [("error", ["transforms", 0, "filter_stream", 0],
                              'filter_stream pattern "a:b" matches no stream (no streams are defined).')]


def test_stream_no_parser_reads_is_a_warning():
    config = full_config()
    config["data_receiver"][0]["parsers"][0]["filter_stream"] = ["press_1:*"]
    assert found(config) == [("warning", ["data_receiver", 0, "streams", 1],
                              "No parser's filter_stream matches stream \"press_2:cycle\": its files will not be read.")]


def test_localfile_template_with_only_its_folder_filled_warns_that_no_record_has_a_time(tmp_path):
    config = template_configuration("localfile")
    config["data_receiver"][0]["connections"][0]["data_directory"] = str(tmp_path)
    config["transforms"][0]["timezone"] = "UTC"  # a placeholder there is an error, not a warning
    result = found(config)
    assert {level for level, _, _ in result} == {"warning"}  # it still passes, and says why it stores nothing
    assert ("warning", ["data_receiver", 0, "streams", 0],
            'Records of stream "asset_0:cycle" have no time, so the historian cannot store any of them: parser '
            '"parser_0" names no parse_timestamps or parse_dates field, and no convert_timestamps transform names '
            "a field of this stream.") in result
    # Naming the time field in the transform the template offers is enough.
    config["transforms"][1]["field_name"] = "datetime"
    assert [path for _, path, _ in found(config) if path == ["data_receiver", 0, "streams", 0]] == []


@pytest.mark.parametrize("parse, transforms, warned", [
    ({"parse_timestamps": [{"field_name": "ts", "format": "%Y"}]}, [], False),
    ({"parse_dates": ["date"]}, [], False),
    ({"parse_dates": ["<Please input the field name>"]}, [], True),
    ({}, [{"transform_name": "t", "transform_type": "convert_timestamps", "filter_stream": ["press_*:cycle"],
           "field_names": ["ts"]}], False),
    ({}, [{"transform_name": "t", "transform_type": "convert_timestamps", "filter_stream": ["oven:*"],
           "field_names": ["ts"]}], True),  # the transform converts another stream's field
    ({}, [{"transform_name": "t", "transform_type": "rename", "filter_stream": ["*"],
           "renames": {"a": "b"}}], True),
], ids=["parse_timestamps", "parse_dates", "placeholder", "transform", "transform-elsewhere", "other-transform"])
def test_stream_warned_only_when_nothing_names_its_time(parse, transforms, warned):
    config = full_config()
    del config["data_receiver"][1:]
    config["data_receiver"][0]["parsers"][0]["options"]["parse"] = parse
    config["transforms"] = transforms
    no_time = [path for _, path, text in found(config) if "have no time" in text]
    expected = [["data_receiver", 0, "streams", 0], ["data_receiver", 0, "streams", 1]]
    assert no_time == (expected if warned else [])


def test_localfile_folder_not_on_this_box_is_a_warning(tmp_path):
    config = full_config()
    a_file = tmp_path / "not-a-folder.csv"
    a_file.write_text("a,b\n")
    config["data_receiver"][0]["connections"] = [{"root_path": str(tmp_path / "missing")},
                                                 {"data_directory": str(a_file)},
                                                 {"root_path": str(tmp_path)}]
    assert found(config) == [
        ("warning", ["data_receiver", 0, "connections", 0, "root_path"],
         f'"{tmp_path / "missing"}" does not exist on this appliance: the receiver will find no files there '
         "(a connection error at every poll) until it is created."),
        ("warning", ["data_receiver", 0, "connections", 1, "data_directory"],
         f'"{a_file}" is not a folder on this appliance: the receiver will find no files there '
         "(a connection error at every poll) until it is created."),
    ]
    # An SMB shared_folder lives on another machine: not checked here.
    config["data_receiver"][1]["connections"][0]["shared_folder"] = str(tmp_path / "missing")
    assert len(found(config)) == 2


@pytest.mark.parametrize("seconds, word", [(0.2, "very short"), (90_000, "very long")])
def test_extreme_poll_interval_is_a_warning(seconds, word):
    config = full_config()
    config["data_transmit"][0]["poll_interval"] = seconds
    [(level, path, text)] = found(config)
    assert (level, path) == ("warning", ["data_transmit", 0, "poll_interval"])
    assert word in text


def test_plain_http_base_url_and_delete_completed_are_warnings():
    config = full_config()
    config["data_transmit"][0]["base_url"] = "http://plant.sightmachine.io"
    config["data_receiver"][1]["delete_completed"] = True
    assert [(lvl, p) for lvl, p, _ in found(config)] == [
        ("warning", ["data_transmit", 0, "base_url"]),
        ("warning", ["data_receiver", 1, "delete_completed"]),
    ]


def test_base_url_must_be_http_or_https():
    config = full_config()
    config["data_transmit"][0]["base_url"] = "plant.sightmachine.io"
    assert found(config) == [("error", ["data_transmit", 0, "base_url"],
                              "'base_url' must start with https:// (or http://) and a host name.")]


def test_placeholder_that_is_also_invalid_is_reported_once_as_error():
    config = full_config()
    config["transforms"][0]["timezone"] = "<Please enter the asset timezone>"
    assert [(lvl, p) for lvl, p, _ in found(config)] == [("error", ["transforms", 0, "timezone"])]


def test_receiver_schema_errors_do_not_hide_parser_errors():
    config = full_config()
    config["data_receiver"][0]["poll_interval"] = -1
    config["data_receiver"][0]["parsers"][0]["options"]["parse"]["separator"] = ",,"
    assert paths(config) == [["data_receiver", 0, "poll_interval"],
                             ["data_receiver", 0, "parsers", 0, "options", "parse", "separator"]]


def test_sql_receiver_refuses_parsers():
    config = full_config()
    config["data_receiver"][2]["parsers"] = []
    assert found(config)[0] == ("error", ["data_receiver", 2, "parsers"], "Unknown property 'parsers'.")


def test_timestamp_layouts_must_be_strptime_layouts():
    config = full_config()
    config["data_receiver"][0]["parsers"][0]["options"]["parse"]["parse_timestamps"][0]["format"] = "%Y-%Q"
    config["transforms"][0]["format"] = "%d/%m/%Y %H:%M %"
    assert found(config) == [
        ("error", ["data_receiver", 0, "parsers", 0, "options", "parse", "parse_timestamps", 0, "format"],
         "'format' must be a strptime layout (e.g. '%Y-%m-%d %H:%M:%S'); got \"%Y-%Q\"."),
        ("error", ["transforms", 0, "format"],
         "'format' must be a strptime layout (e.g. '%Y-%m-%d %H:%M:%S'); got \"%d/%m/%Y %H:%M %\"."),
    ]


@pytest.mark.parametrize("separator, ok", [(",", True), ("\t", True), ("\\t", True), ("|", True), ('"', False),
                                           ("\n", False), (",\n", False), (";;", False), ("é", False)])
def test_separator_is_one_ascii_character_or_backslash_t(separator, ok):
    config = full_config()
    config["data_receiver"][0]["parsers"][0]["options"]["parse"]["separator"] = separator
    assert found(config) == ([] if ok else [
        ("error", ["data_receiver", 0, "parsers", 0, "options", "parse", "separator"],
         "'separator' must be one ASCII character other than '\"' and a line break, or \\t for tab.")])
