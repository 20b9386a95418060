"""Fixtures of the web UI's browser tests: one server with a 200k-point tag, one headless
Chromium per module, and a screenshot of the page kept in the test's folder when a test fails."""

from __future__ import annotations

import pytest

from tests.conftest import EdgeServer
from tests.integration.ui.browser import append_tag, browser_available, start_browser

TREND_TAG = "ui-trend"
TREND_POINTS = 200_000


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory):
    server = EdgeServer(tmp_path_factory.mktemp("ui") / "data").start()
    server.trend_range = append_tag(server.client, TREND_TAG, TREND_POINTS)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def module_browser():
    if not browser_available():
        pytest.skip("chromium and chromedriver are not installed (tests/peers/install.sh installs them)")
    driver = start_browser()
    yield driver
    driver.quit()


@pytest.fixture
def browser(module_browser, request, tmp_path):
    """The module's browser, logged out; its screenshot and console kept when the test fails."""
    module_browser.delete_all_cookies()
    yield module_browser
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        module_browser.save_screenshot(str(tmp_path / "failure.png"))
        (tmp_path / "page.html").write_text(module_browser.page_source)
