import base64

import pytest

from edge.catalog import Catalog
from edge.catalog.users import ADMIN, READER, Users
from edge.web import access
from edge.web.auth import Authenticator, AuthResult, Verdict, parse_basic


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("header, expected", [
    (basic("sys:manager"), ("sys", "manager")),
    (basic("sys@localhost:manager"), ("sys", "manager")),
    (basic("sys@anyhost:pass:with:colons"), ("sys", "pass:with:colons")),
    (basic("no-colon"), None),
    ("Bearer abc", None),
    ("Basic !!!notbase64", None),
    ("Basic", None),
])
def test_parse_basic(header, expected):
    assert parse_basic(header) == expected


@pytest.fixture
def users(tmp_path):
    catalog = Catalog(tmp_path / "c.db")
    users = Users(catalog)
    users.create("sys", "manager", ADMIN)
    yield users
    catalog.close()


def test_authenticator_verdicts_name_the_user_and_role(users):
    users.create("scada", "hmi-pw", READER)
    auth = Authenticator(users, enabled=True)
    assert auth.check(None).outcome == AuthResult.MISSING
    assert auth.check(basic("sys:wrong")).outcome == AuthResult.BAD
    assert auth.check(basic("nobody:manager")).outcome == AuthResult.BAD
    assert auth.check(basic("sys@host:manager")) == Verdict(AuthResult.OK, "sys", ADMIN)
    assert auth.check(basic("sys@host:manager")) == Verdict(AuthResult.OK, "sys", ADMIN)  # remembered
    # Names are case-insensitive, as Machbase's SYS@host.
    assert auth.check(basic("SCADA@host:hmi-pw")) == Verdict(AuthResult.OK, "scada", READER)


def test_a_remembered_login_follows_password_role_and_removal(users):
    users.create("ops", "first", ADMIN)
    auth = Authenticator(users, enabled=True)
    old = basic("ops:first")
    assert auth.check(old) == Verdict(AuthResult.OK, "ops", ADMIN)
    users.set_role("ops", READER)
    assert auth.check(old) == Verdict(AuthResult.OK, "ops", READER)
    users.set_password("ops", "second")
    assert auth.check(old).outcome == AuthResult.BAD
    assert auth.check(basic("ops:second")) == Verdict(AuthResult.OK, "ops", READER)
    users.remove("ops")
    assert auth.check(basic("ops:second")).outcome == AuthResult.BAD


def test_disabled_auth_lets_everyone_in_as_admin(users):
    assert Authenticator(users, enabled=False).check(None) == Verdict(AuthResult.OK, None, ADMIN)


@pytest.mark.parametrize("method, path, expected", [
    ("GET", "/v1/status", access.ALLOWED),
    ("GET", "/v1/config", access.ALLOWED),
    ("GET", "/v1/streams", access.ALLOWED),
    ("GET", "/v1/log/stream/factorytx_core.log", access.ALLOWED),
    ("POST", "/v1/config/validate", access.ALLOWED),
    ("POST", "/v1/config", access.DENIED),
    ("POST", "/v1/ftx/start", access.DENIED),
    ("POST", "/v1/ftx/stop", access.DENIED),
    ("POST", "/v1/ftx/restart", access.DENIED),
    ("POST", "/v1/restream", access.DENIED),
    ("GET", "/machiot/datapoints/raw/TAG/t1", access.ALLOWED),
    ("HEAD", "/machiot/datapoints/raw/TAG/t1", access.ALLOWED),
    ("POST", "/machiot/datapoints/raw/TAG", access.DENIED),
    ("DELETE", "/machiot/datapoints/raw/TAG/t1", access.DENIED),
    ("POST", "/machiot-rest-api/v1/list/TAG", access.DENIED),
    ("PUT", "/machiot/list/TAG/t1", access.DENIED),
    ("patch", "/machiot/list/TAG/t1", access.DENIED),
    ("GET", "/machbase", access.BY_STATEMENT),
    ("POST", "/machbase", access.BY_STATEMENT),
    ("PUT", "/machbase", access.DENIED),
    ("POST", "/machbase_other", access.DENIED),
])
def test_reader_access_by_route_class(method, path, expected):
    assert access.reader_access(method, path) == expected
    assert access.permits(READER, method, path) == (expected != access.DENIED)
    assert access.permits(ADMIN, method, path)


def test_a_request_without_a_role_may_not_write():
    assert not access.may_write({})
    assert not access.may_write({access.ROLE_KEY: READER})
    assert access.may_write({access.ROLE_KEY: ADMIN})
