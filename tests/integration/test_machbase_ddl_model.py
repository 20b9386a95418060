"""DDL under concurrency: many clients create, drop, append, insert, delete and select on log
and tag tables through /machbase of a server with HTTP_THREADS = 8, a new connection per
request, and every answer is checked against a model of what should exist.

Clients share a few table names. A client holds the test's lock of a name while its request on
that name runs, so the model knows each answer exactly, while requests on other names run at
the same moment on other server threads: which server thread (and so which SQLite connection)
serves a request is up to the server. The run is seeded; a failure names its seed (rerun with
EDGE_DDL_MODEL_SEED=<seed>).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import os
import random
import threading
import urllib.parse

import pytest

from tests.conftest import ADMIN_PASSWORD

CLIENTS = 6
OPERATIONS_PER_CLIENT = 60
NAMES = ("M0", "M1", "M2", "M3")
TAGS = ("a", "b")
BASE_S = 1_000_000_000  # 2001-09-09 01:46:40 UTC
LOG_COLUMNS = "(name varchar(20), time datetime, value double)"
TAG_COLUMNS = "(name varchar(20) primary key, time datetime basetime, value double summarized)"
AUTH = "Basic " + base64.b64encode(f"sys:{ADMIN_PASSWORD}".encode()).decode()


@dataclasses.dataclass
class ModelTable:
    kind: str  # "log" or "tag"
    rows: list[tuple[str, int, float]] = dataclasses.field(default_factory=list)  # (tag, seconds, value)


class Model:
    """What should exist: tables by name, each with its rows; one lock per name."""

    def __init__(self):
        self.tables: dict[str, ModelTable] = {}
        self.locks = {name: threading.Lock() for name in NAMES}
        self._clock = iter(range(10**9))
        self._clock_lock = threading.Lock()

    def next_second(self) -> int:
        """A time no row has yet, so that `order by name, time` has one answer."""
        with self._clock_lock:
            return next(self._clock)


def _time_text(second: int) -> str:
    moment = datetime.datetime.fromtimestamp(BASE_S + second, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + " 000:000:000"


class Checker:
    def __init__(self, client, model: Model, rng: random.Random, seed: int, who: int):
        self.client = client
        self.model = model
        self.rng = rng
        self.seed = seed
        self.who = who
        self.trail: list[str] = []

    def fail(self, what: str, body) -> None:
        pytest.fail(f"EDGE_DDL_MODEL_SEED={self.seed}, client {self.who}: {what}: got {body}\nlast requests:\n"
                    + "\n".join(self.trail[-8:]))

    def sql(self, statement: str) -> dict:
        self.trail.append(statement)
        query = urllib.parse.urlencode({"q": statement, "m": "1"})
        return self.client.get(f"/machbase?{query}", auth=AUTH).json

    def expect_ok(self, what: str, body: dict) -> None:
        if body.get("error_code") != 0:
            self.fail(f"{what} should succeed", body)

    def expect_error(self, what: str, body: dict, code: int, words: str) -> None:
        if body.get("error_code") != code or words not in body.get("error_message", ""):
            self.fail(f"{what} should answer {code} ({words})", body)

    # One operation on one name, its answer checked against the model ----------------------

    def step(self) -> None:
        name = self.rng.choice(NAMES)
        with self.model.locks[name]:
            table = self.model.tables.get(name)
            weights = {"create_log": 2, "create_tag": 2, "drop": 2, "append": 4, "insert": 3,
                       "delete": 1, "select": 4} if table else {"create_log": 4, "create_tag": 4, "drop": 1,
                                                                "append": 1, "select": 1}
            operation = self.rng.choices(list(weights), list(weights.values()))[0]
            getattr(self, operation)(name, table)

    def create_log(self, name: str, table: ModelTable | None) -> None:
        self._create(name, table, "log", f"create table {name} {LOG_COLUMNS}")

    def create_tag(self, name: str, table: ModelTable | None) -> None:
        self._create(name, table, "tag", f"create tag table {name} {TAG_COLUMNS}")

    def _create(self, name: str, table: ModelTable | None, kind: str, statement: str) -> None:
        body = self.sql(statement)
        if table is None:
            self.expect_ok(statement, body)
            self.model.tables[name] = ModelTable(kind)
        else:
            self.expect_error(statement, body, 2026, f"Table {name} already exists.")

    def drop(self, name: str, table: ModelTable | None) -> None:
        body = self.sql(f"drop table {name}")
        if table is None:
            self.expect_error(f"drop table {name}", body, 2025, f"Table {name} does not exist.")
        else:
            self.expect_ok(f"drop table {name}", body)
            del self.model.tables[name]

    def append(self, name: str, table: ModelTable | None) -> None:
        rows = [(self.rng.choice(TAGS), self.model.next_second(), float(self.rng.randint(-99, 99)))
                for _ in range(self.rng.randint(1, 4))]
        body = self.client_append(name, rows)
        if table is None:
            self.expect_error(f"append to {name}", body, 2025, f"Table {name} does not exist.")
            return
        self.expect_ok(f"append to {name}", body)
        if (body.get("append_success"), body.get("append_failure")) != (len(rows), 0):
            self.fail(f"append of {len(rows)} rows to {name}", body)
        table.rows.extend(rows)

    def client_append(self, name: str, rows: list[tuple[str, int, float]]) -> dict:
        values = [[tag, _time_text(second)[:19], value] for tag, second, value in rows]
        self.trail.append(f"append {name} {values}")
        return self.client.post("/machbase", {"name": name, "date_format": "YYYY-MM-DD HH24:MI:SS",
                                              "values": values}, auth=AUTH).json

    def insert(self, name: str, table: ModelTable) -> None:
        row = (self.rng.choice(TAGS), self.model.next_second(), float(self.rng.randint(-99, 99)))
        statement = f"insert into {name} values ('{row[0]}', '{_time_text(row[1])[:19]}', {row[2]})"
        self.expect_ok(statement, self.sql(statement))
        table.rows.append(row)

    def delete(self, name: str, table: ModelTable) -> None:
        tag = self.rng.choice(TAGS)
        # Before a time some rows of the tag have: the oldest ones go.
        times = sorted(second for t, second, _ in table.rows if t == tag)
        before = self.rng.choice(times) if times else self.model.next_second()
        statement = f"delete from {name} where name = '{tag}' and time < '{_time_text(before)[:19]}'"
        body = self.sql(statement)
        self.expect_ok(statement, body)
        table.rows[:] = [r for r in table.rows if r[0] != tag or r[1] >= before]

    def select(self, name: str, table: ModelTable | None) -> None:
        statement = f"select name, time, value from {name} order by name, time"
        body = self.sql(statement)
        if table is None:
            self.expect_error(statement, body, 2025, f"Table {name} does not exist.")
            return
        self.expect_ok(statement, body)
        expected = [[tag, _time_text(second), value] for tag, second, value in sorted(table.rows)]
        if body["data"] != expected:
            self.fail(f"{statement} on the {table.kind} table should give {expected}", body["data"])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.conftest import EdgeServer

    edge = EdgeServer(tmp_path_factory.mktemp("ddl-model") / "data",
                      ["HTTP_THREADS = 8", "TIMEZONE = UTC"]).start()
    yield edge
    edge.stop()


def test_issue_sequence_then_drop_and_create_tag_table(server):
    """The request sequence of the report, repeated so that its requests land on different
    server threads: a tag table dropped and created again always answers success."""
    client = server.client
    checker = Checker(client, Model(), random.Random(0), 0, 0)
    for round_ in range(12):
        log = f"LOGT{round_}"
        checker.expect_ok("create", checker.sql(f"create table {log} (name varchar(20), time datetime, "
                                                f"value double, data binary)"))
        checker.expect_ok("insert", checker.sql(f"insert into {log} values ('x', '2001-09-09 01:00:00', 1, null)"))
        checker.expect_ok("select", checker.sql(f"select * from {log}"))
        checker.trail.append(f"appends to {log}")
        for values in ([["y", "2001-09-09 01:00:01", 2.0, None]], [[None, None, None, "AAEC"]]):
            answer = client.post("/machbase", {"name": log, "values": values}, auth=AUTH).json
            checker.expect_ok("append", answer)
        checker.expect_ok("select tag", checker.sql("select count(*) from tag"))
        checker.expect_ok("drop tag", checker.sql("drop table tag"))
        checker.expect_ok("create tag", checker.sql(f"create tag table tag {TAG_COLUMNS}"))
        checker.expect_ok("drop log", checker.sql(f"drop table {log}"))


def test_concurrent_ddl_and_data_match_the_model(server):
    seed = int(os.environ.get("EDGE_DDL_MODEL_SEED", random.randrange(1 << 30)))
    model = Model()
    failures: list[BaseException] = []
    checkers = [Checker(server.client, model, random.Random(seed * 1000 + who), seed, who) for who in range(CLIENTS)]

    def run(checker: Checker) -> None:
        try:
            for _ in range(OPERATIONS_PER_CLIENT):
                checker.step()
        except BaseException as exc:  # noqa: BLE001 - reported below with the seed
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(checker,)) for checker in checkers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), f"EDGE_DDL_MODEL_SEED={seed}: a client did not finish"
    if failures:
        raise failures[0]
    # At the end, every table the model holds is there with its rows, and no other.
    final = Checker(server.client, model, random.Random(seed), seed, -1)
    for name in NAMES:
        final.select(name, model.tables.get(name))
