import base64

import pytest

from edge.catalog import Catalog
from edge.catalog.users import Users
from edge.web.auth import Authenticator, AuthResult, parse_basic


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
    users.create("sys", "manager")
    yield users
    catalog.close()


def test_authenticator_verdicts(users):
    auth = Authenticator(users, enabled=True)
    assert auth.check(None) == AuthResult.MISSING
    assert auth.check(basic("sys:wrong")) == AuthResult.BAD
    assert auth.check(basic("sys@host:manager")) == AuthResult.OK
    assert auth.check(basic("sys@host:manager")) == AuthResult.OK  # remembered


def test_disabled_auth_lets_everyone_in(users):
    assert Authenticator(users, enabled=False).check(None) == AuthResult.OK
