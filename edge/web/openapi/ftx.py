"""/v1: the FactoryTX REST API (configuration, templates, meta, control, status, streams, logs)."""

from __future__ import annotations

from edge.system.logs import DEFAULT_TAIL_LINES, MAX_TAIL_LINES
from edge.web.openapi.common import FTX_REF, operation, path_parameter, query_parameter

TAG = "FactoryTX /v1"
CONFIGURATION = {
    "type": "object",
    "description": "A FactoryTX configuration: data_receiver, transforms and data_transmit sections",
    "properties": {"data_receiver": {"type": "array", "items": {"type": "object"}},
                   "transforms": {"type": "array", "items": {"type": "object"}},
                   "data_transmit": {"type": "array", "items": {"type": "object"}}},
}
CONFIG_EXAMPLE = {
    "data_receiver": [{"data_receiver_name": "receiver_0", "protocol": "localfile", "poll_interval": 5,
                       "streams": [{"asset": "asset_0", "stream_type": "cycle", "file_filter": ["*.csv"]}],
                       "connections": [{"root_path": "/data/folder_with_data_files"}],
                       "parsers": [{"parser_name": "parser_0", "parser_type": "spreadsheet",
                                    "filter_stream": ["*"], "file_format": "csv"}]}],
    "transforms": [],
    "data_transmit": [],
}
VALIDATION_EXAMPLE = {"response": {"violations": [], "status": "passed"}, "success": True}
RESTREAM = {"type": "object", "description": "Data receiver name -> the streams of it to restream",
            "additionalProperties": {"type": "array", "items": {
                "type": "object", "required": ["asset", "stream_type"],
                "properties": {"asset": {"type": "string"}, "stream_type": {"type": "string"}}}}}
LINES = query_parameter("lines", f"How many of the last lines (1 to {MAX_TAIL_LINES}; default {DEFAULT_TAIL_LINES})",
                        {"type": "integer", "minimum": 1, "maximum": MAX_TAIL_LINES})


def paths() -> dict:
    control = {
        f"/v1/ftx/{action}": {"post": operation(
            f"{action.capitalize()} the pipeline", FTX_REF, f"The pipeline's state after {action}", tag=TAG,
            example={"success": True, "response": "running" if action != "stop" else "stopped"})}
        for action in ("start", "stop", "restart")
    }
    return {
        "/v1/config": {
            "get": operation("The configuration in force (secrets masked)", FTX_REF, "The configuration", tag=TAG,
                             example={"success": True, "response": CONFIG_EXAMPLE,
                                      "meta": {"last_modified": "2017-12-15 20:51:06.135094"}}),
            "post": operation("Validate and save a configuration, then reload the pipeline", FTX_REF,
                              "The saved configuration", tag=TAG, body=CONFIGURATION, body_example=CONFIG_EXAMPLE,
                              description="A configuration with violations is refused (400) with them and nothing "
                                          "is saved."),
        },
        "/v1/config/validate": {"post": operation(
            "Validate a configuration without saving it", FTX_REF,
            "The violations, each with its json_path; success false when any is an error", tag=TAG,
            # Any JSON: finding what is wrong with it is this endpoint's answer, not a refusal.
            body={"description": "A configuration, or any JSON to be told what is wrong with it"},
            body_example=CONFIG_EXAMPLE, example=VALIDATION_EXAMPLE)},
        "/v1/config/templates": {"get": operation("Configuration templates", FTX_REF,
                                                  "A list of {name, description, configuration}", tag=TAG)},
        "/v1/config/templates/{protocol}": {"get": operation(
            "The template of one protocol", FTX_REF, "Its configuration", tag=TAG,
            parameters=[path_parameter("protocol", "A receiver protocol", "localfile")])},
        "/v1/meta": {"get": operation("The objects that have a schema", FTX_REF, "The meta objects", tag=TAG)},
        "/v1/meta/{object_id}": {"get": operation(
            "The JSON schema of one object", FTX_REF, "Its schema", tag=TAG,
            parameters=[path_parameter("object_id", "data_receiver, transforms, data_transmit ...", "data_receiver"),
                        query_parameter("subtype", "The protocol or type within the object", example="localfile")])},
        **control,
        "/v1/status": {"get": operation("Machine info, pipeline and services state, last transmit, backup",
                                        FTX_REF, "The status", tag=TAG)},
        "/v1/streams": {"get": operation("The configured streams with their markers", FTX_REF, "The streams",
                                         tag=TAG)},
        "/v1/restream": {"post": operation(
            "Restream streams of data receivers", FTX_REF, "Restream has completed successfully", tag=TAG,
            body=RESTREAM, body_example={"receiver_1": [{"asset": "asset_38", "stream_type": "quality"}]})},
        "/v1/log/stream": {"get": operation("The tail of factorytx_core.log", FTX_REF, "The lines", tag=TAG,
                                            parameters=[LINES])},
        "/v1/log/stream/{log_filename}": {"get": operation(
            "The tail of one log", FTX_REF, "The lines", tag=TAG,
            parameters=[path_parameter("log_filename", "factorytx_core.log or factorytx_web.log",
                                       "factorytx_web.log"), LINES])},
    }
