"""The SQL receiver's own configuration rules, with json paths relative to the entry."""

import ssl

from edge.pipeline import registry
from edge.pipeline.config.validation import validate_config
from edge.pipeline.receivers.sql.checks import sql_checks
from edge.pipeline.receivers.sql.source import tls_context
from tests.integration.peers.certificates import authority


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


def test_ssl_ca_is_pem_certificates_and_needs_ssl():
    ca = authority().pem
    server = {"host": "10.0.0.5", "database_type": "postgresql", "database_name": "plant"}
    assert found(entry({**server, "ssl": True, "ssl_ca": ca})) == []
    assert found(entry({**server, "ssl": False, "ssl_ca": ca})) == [
        (["connections", 0, "ssl_ca"], 'ssl_ca is only used with "ssl": true; set it, or leave ssl_ca out')]
    assert found(entry({**server, "ssl": True, "ssl_ca": "/etc/ssl/plant-ca.pem"})) == [
        (["connections", 0, "ssl_ca"], "ssl_ca must hold PEM certificates (-----BEGIN CERTIFICATE----- ...)")]
    damaged = ca.replace(ca.splitlines()[3], "A" * len(ca.splitlines()[3]))
    [(where, text)] = found(entry({**server, "ssl": True, "ssl_ca": damaged}))
    assert where == ["connections", 0, "ssl_ca"] and text.startswith("ssl_ca is not a certificate this box can read")


def test_tls_context_trusts_ssl_ca_instead_of_the_system_and_checks_the_name():
    ca = authority("Line 4 CA")
    context = tls_context({"ssl": True, "ssl_ca": ca.pem})
    assert [dict(pair[0] for pair in c["subject"])["commonName"] for c in context.get_ca_certs()] == ["Line 4 CA"]
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    assert tls_context({"ssl": False, "ssl_ca": ca.pem}) is None
    assert tls_context({"ssl": True}).check_hostname  # the system's CAs
