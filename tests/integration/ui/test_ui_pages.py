"""The web UI in a real headless Chromium: log in, control the pipeline, see a configuration's
violation at its path, draw a trend whose series are what /machiot answers."""

from __future__ import annotations

import json
import math
import urllib.parse

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from tests.conftest import ADMIN_PASSWORD, EdgeServer
from tests.integration.ui.browser import log_in, wait_for
from tests.integration.ui.conftest import TREND_TAG

pytestmark = pytest.mark.usefixtures("ui_server")


def text_of(driver, css: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, css).text


def test_wrong_password_is_refused_on_the_login_form(browser, ui_server):
    browser.get(ui_server.url + "/")
    wait_for(lambda: browser.find_element(By.ID, "login").is_displayed(), what="the login form")
    browser.find_element(By.NAME, "user").send_keys("sys")
    browser.find_element(By.NAME, "password").send_keys("not-the-password")
    browser.find_element(By.CSS_SELECTOR, "#login button").click()
    assert wait_for(lambda: text_of(browser, "#login-error"), what="the error") == "Invalid user name or password."
    assert not browser.find_element(By.ID, "nav").is_displayed()


def test_login_sets_an_http_only_strict_cookie_and_the_pipeline_stops_and_starts(browser, ui_server):
    log_in(browser, ui_server.url, "sys", ADMIN_PASSWORD)
    cookie = browser.get_cookie("edge_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert browser.execute_script("return document.cookie") == ""  # scripts cannot read it
    wait_for(lambda: text_of(browser, "#pipeline-state") == "running", what="the running state")

    wait_for(lambda: browser.find_element(By.ID, "pipeline-stop").is_enabled(), what="the stop button")
    browser.find_element(By.ID, "pipeline-stop").click()
    wait_for(lambda: text_of(browser, "#pipeline-state") == "stopped", what="the stopped state")
    assert ui_server.client.get("/v1/status").json["response"]["factorytx"]["status"] == "stopped"

    wait_for(lambda: browser.find_element(By.ID, "pipeline-start").is_enabled(), what="the start button")
    browser.find_element(By.ID, "pipeline-start").click()
    wait_for(lambda: text_of(browser, "#pipeline-state") == "running", what="the running state again")
    assert ui_server.client.get("/v1/status").json["response"]["factorytx"]["status"] == "running"


def test_an_invalid_configuration_shows_its_violation_at_its_path_and_is_not_saved(browser, ui_server):
    before = ui_server.client.get("/v1/config").json
    log_in(browser, ui_server.url, "sys", ADMIN_PASSWORD)
    browser.get(ui_server.url + "/#config")
    wait_for(lambda: browser.find_element(By.ID, "config-editor").get_attribute("value"), what="the configuration")
    invalid = {"data_receiver": [{"data_receiver_name": "r0", "protocol": "localfile", "poll_interval": "often",
                                  "streams": [{"asset": "a", "stream_type": "s", "file_filter": ["*"]}],
                                  "connections": [{"root_path": "/tmp"}],
                                  "parsers": [{"parser_name": "p0", "parser_type": "spreadsheet",
                                               "filter_stream": ["*"], "file_format": "csv"}]}],
               "transforms": [], "data_transmit": []}
    browser.execute_script("const e = document.getElementById('config-editor'); e.value = arguments[0];"
                           "e.dispatchEvent(new Event('input'));", json.dumps(invalid, indent=2))
    selector = '#violations li[data-path="data_receiver[0].poll_interval"]'
    shown = wait_for(lambda: browser.find_element(By.CSS_SELECTOR, selector), what="the violation at its path")
    assert "number" in shown.text and shown.get_attribute("class") == "error"

    # Clicking it selects the offending value in the editor.
    shown.click()
    selected = browser.execute_script("const e = document.getElementById('config-editor');"
                                      "return e.value.slice(e.selectionStart, e.selectionEnd);")
    assert selected == '"often"'

    browser.find_element(By.ID, "config-save").click()
    wait_for(lambda: "Not saved" in text_of(browser, "#page > .message"), what="the refusal")
    assert browser.find_element(By.CSS_SELECTOR, selector)
    assert ui_server.client.get("/v1/config").json == before


def _machiot(client, path: str) -> dict:
    answer = client.get(path)
    assert answer.status == 200, answer.body[:300]
    return answer.json


def _seconds(text: str) -> float:
    """The tag API's "YYYY-MM-DD HH:MI:SS mmm:uuu:nnn" (UTC on this server) in seconds."""
    from datetime import datetime, timezone

    day, clock, fraction = text.split(" ")
    whole = datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=timezone.utc).timestamp()
    ms, us, ns = (int(p) for p in fraction.split(":"))
    return whole + ms / 1e3 + us / 1e6 + ns / 1e9


def _assert_series_equal(drawn: list, expected: list) -> None:
    assert len(drawn) == len(expected)
    for got, want in zip(drawn, expected):
        assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-9), (got, want)


def test_a_trend_draws_what_machiot_answers_zoomed_out_and_zoomed_in(browser, ui_server):
    log_in(browser, ui_server.url, "sys", ADMIN_PASSWORD)
    browser.get(ui_server.url + "/#historian")
    search = wait_for(lambda: browser.find_element(By.ID, "hist-search"), what="the tag search")
    search.send_keys(TREND_TAG)
    box = wait_for(lambda: browser.find_element(By.CSS_SELECTOR, f'#hist-tags input[value="{TREND_TAG}"]'),
                   what="the tag in the list")
    box.click()
    browser.find_element(By.ID, "hist-draw").click()
    trend = wait_for(lambda: browser.execute_script(
        "return window.edgeTrend.data && {mode: window.edgeTrend.mode, data: window.edgeTrend.data,"
        " requests: window.edgeTrend.requests}"), timeout=60, what="the trend")

    # 200,000 points over the whole range: drawn from rollup buckets, one per pixel column or so.
    assert trend["mode"] != "raw"
    calculated = [r for r in trend["requests"] if "/datapoints/calculated/" in r]
    assert len(calculated) == 1
    answer = _machiot(ui_server.client, calculated[0])
    rows = answer["data"]
    assert 100 <= len(rows) <= 2 * 1280
    times, minimum, maximum, average = trend["data"]
    _assert_series_equal(times, [_seconds(r[0]) for r in rows])
    _assert_series_equal(minimum, [r[1] for r in rows])
    _assert_series_equal(maximum, [r[2] for r in rows])
    _assert_series_equal(average, [r[3] for r in rows])
    # Every point is in some bucket: the rollups count all 200,000.
    counts = _machiot(ui_server.client, calculated[0].replace("min,max,avg", "count"))["data"]
    assert sum(r[1] for r in counts) == 200_000

    # Dragging across the middle third of the chart zooms to that part, read again.
    whole = browser.execute_script("return window.edgeTrend.range")
    over = browser.find_element(By.CSS_SELECTOR, "#hist-chart .u-over")
    width = over.size["width"]
    browser.execute_script("window.edgeTrend.data = null;")
    ActionChains(browser).move_to_element_with_offset(over, -width // 6, 0).click_and_hold() \
        .move_by_offset(width // 3, 0).release().perform()
    wait_for(lambda: browser.execute_script("return window.edgeTrend.data"), timeout=60, what="the zoomed chart")
    zoomed = browser.execute_script("return window.edgeTrend.range")
    span = whole[1] - whole[0]
    assert whole[0] + 0.2 * span < zoomed[0] < zoomed[1] < whole[1] - 0.2 * span
    # Pan right by half the shown span.
    browser.execute_script("window.edgeTrend.data = null;")
    browser.find_element(By.CSS_SELECTOR, "button[title='Pan right']").click()
    wait_for(lambda: browser.execute_script("return window.edgeTrend.data"), timeout=60, what="the panned chart")
    panned = browser.execute_script("return window.edgeTrend.range")
    assert math.isclose(panned[0] - zoomed[0], (zoomed[1] - zoomed[0]) / 2, rel_tol=1e-6)

    # Zoomed in to 10 minutes: raw points, exactly those /machiot gives for that range.
    first_s = ui_server.trend_range[0] / 1e9
    browser.execute_script("""
        document.getElementById('hist-from').value = arguments[0];
        document.getElementById('hist-to').value = arguments[1];
        window.edgeTrend.data = null;""", _shown(first_s + 3600), _shown(first_s + 4200))
    browser.find_element(By.XPATH, "//button[text()='Draw range']").click()
    trend = wait_for(lambda: browser.execute_script(
        "return window.edgeTrend.data && {mode: window.edgeTrend.mode, data: window.edgeTrend.data,"
        " requests: window.edgeTrend.requests}"), timeout=60, what="the zoomed trend")
    assert trend["mode"] == "raw"
    raw = [r for r in trend["requests"] if "/datapoints/raw/" in r]
    rows = _machiot(ui_server.client, raw[0])["data"]
    assert len(rows) == 601  # one a second, both ends included
    _assert_series_equal(trend["data"][0], [_seconds(r[1]) for r in rows])
    _assert_series_equal(trend["data"][1], [r[2] for r in rows])
    assert urllib.parse.unquote(raw[0]).count(TREND_TAG) == 1


def _shown(seconds: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.000")


def test_times_across_a_daylight_saving_change_are_drawn_and_shown_on_the_servers_clock(browser, tmp_path):
    from datetime import datetime, timezone

    # Every 10 minutes from 00:00 to 02:50 UTC on 2024-10-27: 02:00 summer time to 03:50 winter
    # time in Berlin, whose clock goes from 02:00 to 02:59 twice.
    first = int(datetime(2024, 10, 27, tzinfo=timezone.utc).timestamp())
    times = [first + 600 * k for k in range(18)]
    server = EdgeServer(tmp_path / "data", ["TIMEZONE = Europe/Berlin"]).start()
    try:
        rows = [["dst", t * 10**9, float(k)] for k, t in enumerate(times)]
        assert server.client.post("/machiot/datapoints/raw/tag", {"values": rows}).json["append_success"] == 18
        log_in(browser, server.url, "sys", ADMIN_PASSWORD)
        browser.get(server.url + "/#historian")
        wait_for(lambda: browser.find_element(By.ID, "hist-search"), what="the tag search").send_keys("dst")
        wait_for(lambda: browser.find_element(By.CSS_SELECTOR, '#hist-tags input[value="dst"]'),
                 what="the tag in the list").click()

        def drawn():
            return wait_for(lambda: browser.execute_script(
                "return window.edgeTrend.data && {mode: window.edgeTrend.mode, data: window.edgeTrend.data}"),
                timeout=60, what="the trend")

        browser.find_element(By.ID, "hist-draw").click()
        trend = drawn()
        assert trend["mode"] == "raw"
        assert trend["data"] == [times, [float(k) for k in range(18)]]  # each point at its own instant
        assert browser.find_element(By.ID, "hist-zone").text == "Europe/Berlin"
        assert browser.find_element(By.ID, "hist-from").get_attribute("value") == "2024-10-27 02:00:00.000"
        assert browser.find_element(By.ID, "hist-to").get_attribute("value") == "2024-10-27 03:50:00.000"

        # A range typed on Berlin's clock: 02:30 is its first occurrence (summer time, 00:30 UTC),
        # 03:00 is winter time (02:00 UTC).
        for typed, expected in [(("2024-10-27 03:00:00.000", "2024-10-27 03:50:00.000"), times[12:]),
                                (("2024-10-27 02:30:00.000", "2024-10-27 03:00:00.000"), times[3:13])]:
            browser.execute_script("""
                document.getElementById('hist-from').value = arguments[0];
                document.getElementById('hist-to').value = arguments[1];
                window.edgeTrend.data = null;""", *typed)
            browser.find_element(By.XPATH, "//button[text()='Draw range']").click()
            assert drawn()["data"][0] == expected

        # The CSV gives each time its offset: the hour that repeats cannot be misread.
        browser.find_element(By.ID, "hist-csv").click()
        csv = wait_for(lambda: browser.execute_script("return window.edgeTrend.csv"), what="the CSV")
        summer = [f"2024-10-27 02:{m}0:00.000+02:00,{k}" for k, m in zip(range(3, 6), range(3, 6))]
        winter = [f"2024-10-27 02:{m}0:00.000+01:00,{k}" for k, m in zip(range(6, 12), range(0, 6))]
        assert csv.splitlines() == ["time,dst", *summer, *winter, "2024-10-27 03:00:00.000+01:00,12"]
    finally:
        server.stop()


def test_the_api_description_renders_under_its_content_security_policy(browser, ui_server):
    log_in(browser, ui_server.url, "sys", ADMIN_PASSWORD)  # /openapi.json needs the session
    browser.get(ui_server.url + "/docs")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "details.op"), what="the operations")
    paths = {op.get_attribute("data-path") for op in browser.find_elements(By.CSS_SELECTOR, "details.op")}
    assert {"/v1/status", "/machbase", "/write"} <= paths
    blocked = [entry["message"] for entry in browser.get_log("browser") if "Content Security Policy" in entry["message"]]
    assert blocked == []
