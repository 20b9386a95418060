"""Wrong passwords per client address: a leaky bucket, and the authenticator refusing a check
unchecked once an address's bucket is full."""

from __future__ import annotations

import base64

import pytest

from edge.catalog import Catalog
from edge.catalog.users import ADMIN, Users
from edge.web.auth import Authenticator, AuthResult, Verdict
from edge.web.login_throttle import MAX_ADDRESSES, LoginThrottle


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def test_an_address_may_fail_limit_times_then_one_more_each_drain_period():
    clock = Clock()
    throttle = LoginThrottle(3, drain_seconds=6.0, clock=clock)
    for _ in range(3):
        assert throttle.retry_after("10.0.0.5") == 0
        throttle.failed("10.0.0.5")
    assert throttle.retry_after("10.0.0.5") == 6
    clock.now += 4.5
    assert throttle.retry_after("10.0.0.5") == 2  # 1.5 s left, rounded up
    clock.now += 1.5
    assert throttle.retry_after("10.0.0.5") == 0
    throttle.failed("10.0.0.5")
    assert throttle.retry_after("10.0.0.5") == 6
    clock.now += 3 * 6.0  # drained whole: the limit at once again
    for _ in range(3):
        assert throttle.retry_after("10.0.0.5") == 0
        throttle.failed("10.0.0.5")
    assert throttle.retry_after("10.0.0.5") == 6


def test_addresses_are_counted_apart_and_a_limit_of_zero_never_refuses():
    throttle = LoginThrottle(1, clock=Clock())
    throttle.failed("10.0.0.5")
    assert throttle.retry_after("10.0.0.5") > 0
    assert throttle.retry_after("10.0.0.6") == 0
    unlimited = LoginThrottle(0, clock=Clock())
    for _ in range(100):
        unlimited.failed("10.0.0.5")
    assert unlimited.retry_after("10.0.0.5") == 0


def test_memory_stays_bounded_and_the_least_recently_failed_go_first():
    throttle = LoginThrottle(1, clock=Clock())
    for i in range(MAX_ADDRESSES + 10):
        throttle.failed(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")
    assert len(throttle._buckets) == MAX_ADDRESSES
    assert throttle.retry_after("10.0.0.0") == 0  # forgotten
    assert throttle.retry_after(f"10.0.{(MAX_ADDRESSES + 9) // 256 % 256}.{(MAX_ADDRESSES + 9) % 256}") > 0


class CountingUsers(Users):
    def __init__(self, catalog):
        super().__init__(catalog)
        self.verified = 0

    def verify(self, name, password):
        self.verified += 1
        return super().verify(name, password)


@pytest.fixture
def users(tmp_path):
    catalog = Catalog(tmp_path / "c.db")
    users = CountingUsers(catalog)
    users.create("sys", "manager", ADMIN)
    yield users
    catalog.close()


def test_a_throttled_address_gets_no_password_check_but_a_verified_client_goes_on(users):
    auth = Authenticator(users, enabled=True, throttle=LoginThrottle(2, clock=Clock()))
    good = basic("sys:manager")
    assert auth.check(good, "10.0.0.5") == Verdict(AuthResult.OK, "sys", ADMIN)
    assert auth.check(basic("sys:guess1"), "10.0.0.5").outcome == AuthResult.BAD
    assert auth.check(basic("sys:guess2"), "10.0.0.5").outcome == AuthResult.BAD
    checks = users.verified
    refused = auth.check(basic("sys:guess3"), "10.0.0.5")
    assert refused.outcome == AuthResult.THROTTLED and refused.retry_after == 6
    # Even the right password is not checked from there now: a guesser learns nothing.
    assert auth.check(basic("sys@other:manager"), "10.0.0.5").outcome == AuthResult.THROTTLED
    assert users.verified == checks
    # The header that verified before is remembered: that client is not stopped.
    assert auth.check(good, "10.0.0.5") == Verdict(AuthResult.OK, "sys", ADMIN)
    # Another address is checked as usual.
    assert auth.check(basic("sys@other:manager"), "10.0.0.6") == Verdict(AuthResult.OK, "sys", ADMIN)
