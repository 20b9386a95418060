"""The SQL receiver's own configuration rules, with json paths relative to the entry."""

from edge.pipeline import registry
from edge.pipeline.config.validation import validate_config
from edge.pipeline.receivers.sql.checks import sql_checks


def entry(connection=None, **stream):
    return {"data_receiver_name": "db", "protocol": "sql",
            "connections": [connection or {"database_type": "sqlite", "database_name": "/data/line.db"}],
            "streams": [{"asset": "a", "stream_type": "b", "query": "SELECT * FROM t WHERE id > :id",
                         "state_fields": [{"column_name": "id", "data_type": "integer"}], **stream}]}


def found(config):
    return [(list(v.json_path), v.description) for v in sql_checks(config)]


def test_a_sqlite_file_needs_no_host_and_a_server_does():
    assert found(entry()) == []
    assert found(entry({"database_type": "mysql", "database_name": "plant"})) == [
        (["connections", 0, "host"], "a mysql connection needs the database server's host")]


def test_state_fields_named_twice_and_timestamps_that_are_no_timestamps():
    config = entry(query="SELECT * FROM t WHERE at > :at",
                   state_fields=[{"column_name": "at", "data_type": "timestamp", "initial_value": "yesterday"},
                                 {"column_name": "at", "data_type": "timestamp"}])
    assert found(config) == [
        (["streams", 0, "state_fields", 0, "initial_value"],
         "initial_value 'yesterday' is not a valid timestamp: Invalid isoformat string: 'yesterday'"),
        (["streams", 0, "state_fields", 1, "column_name"], 'state field "at" is listed twice')]


def test_mysql_queries_are_read_in_mysql_lexical_rules():
    config = entry({"host": "db", "database_type": "mysql", "database_name": "plant"},
                   query="SELECT * FROM t WHERE note <> 'it\\'s :no' AND id > :id # :no")
    assert found(config) == []


def test_the_served_template_has_placeholder_warnings_only():
    template = registry.find(registry.DATA_RECEIVER, "sql").template["configuration"]
    assert {v.level for v in validate_config(template)} == {"warning"}
