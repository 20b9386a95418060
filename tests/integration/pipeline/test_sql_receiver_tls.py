"""The SQL receiver over TLS against real PostgreSQL and MariaDB servers whose certificates a
plant's own CA signed (no public CA knows it): trusted through `ssl_ca`, refused without it or
with another CA, and the session really encrypted (the server says so)."""

from __future__ import annotations

import pytest

from tests.integration.peers import certificates, mariadb, postgres
from tests.integration.pipeline.test_sql_receiver import T0_NS, S, receiver
from tests.unit.pipeline.receivers.pipeline_parts import PipelineParts


@pytest.fixture
def parts(tmp_path):
    parts = PipelineParts(tmp_path / "edge")
    yield parts
    parts.close()


@pytest.fixture(scope="module")
def plant_ca():
    return certificates.authority()


@pytest.fixture(scope="module")
def pg_tls(plant_ca, tmp_path_factory):
    reason = postgres.available()
    if reason:
        pytest.skip(reason)
    server = postgres.PostgresServer(tls=certificates.server_certificate(plant_ca, tmp_path_factory.mktemp("pg"))).start()
    yield server
    server.remove()


@pytest.fixture(scope="module")
def maria_tls(plant_ca, tmp_path_factory):
    reason = mariadb.available()
    if reason:
        pytest.skip(reason)
    server = mariadb.MariaDbServer(tls=certificates.server_certificate(plant_ca, tmp_path_factory.mktemp("maria")))
    server.start()
    yield server
    server.remove()


def encrypted_stream(query: str, asset: str = "tls") -> dict:
    return {"asset": asset, "stream_type": "check", "query": query,
            "state_fields": [{"column_name": "id", "data_type": "integer"}]}


PG_QUERY = ("SELECT g AS id, TIMESTAMP '2024-03-01 12:00:00' + g * INTERVAL '1 second' AS at, "
            "(SELECT ssl::int FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS encrypted "
            "FROM generate_series(1, 3) g WHERE g > :id ORDER BY g")
MARIA_QUERY = ("SELECT seq AS id, TIMESTAMP '2024-03-01 12:00:00' + INTERVAL seq SECOND AS at, "
               "(SELECT VARIABLE_VALUE <> '' FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher') "
               "AS encrypted FROM seq_1_to_3 WHERE seq > :id ORDER BY seq")


@pytest.mark.parametrize("server_fixture, query", [("pg_tls", PG_QUERY), ("maria_tls", MARIA_QUERY)])
def test_the_plants_own_ca_is_trusted_through_ssl_ca(request, server_fixture, query, plant_ca, parts):
    server = request.getfixturevalue(server_fixture)
    runtime = receiver(parts, {**server.connection, "ssl": True, "ssl_ca": plant_ca.pem}, [encrypted_stream(query)])
    result = runtime.poll()
    assert (result.records_in, result.records_out) == (3, 3)
    assert parts.points("tls:check:encrypted") == [(T0_NS + i * S, 1.0) for i in (1, 2, 3)]  # the server saw TLS
    assert parts.markers_of("tls", "check") == {}
    runtime.close()
    # Without ssl both drivers still ask for TLS and take it unchecked (the databases' own
    # default, "prefer"): encrypted, but no proof against an impostor.
    runtime = receiver(parts, server.connection, [encrypted_stream(query, "unchecked")], name="unchecked_db")
    runtime.poll()
    assert parts.points("unchecked:check:encrypted") == [(T0_NS + i * S, 1.0) for i in (1, 2, 3)]
    runtime.close()


@pytest.mark.parametrize("server_fixture, query", [("pg_tls", PG_QUERY), ("maria_tls", MARIA_QUERY)])
def test_without_ssl_ca_or_with_another_ca_the_server_is_refused(request, server_fixture, query, parts):
    server = request.getfixturevalue(server_fixture)
    stranger = certificates.authority("Some Other CA")
    for connection in ({**server.connection, "ssl": True},  # the system's CAs do not know the plant's
                       {**server.connection, "ssl": True, "ssl_ca": stranger.pem}):
        runtime = receiver(parts, connection, [encrypted_stream(query)])
        result = runtime.poll()
        assert result.records_in == 0
        level, message = parts.markers_of("tls", "check")["connection"]
        assert level == "error" and "certificate verify failed" in message, message
        runtime.close()
    assert parts.tags() == []
