"""Headless Chromium (Debian's chromium and chromedriver) driven by Selenium, and one edge
server with a tag of points for the web UI's tests and benchmark."""

from __future__ import annotations

import shutil
import time

import numpy as np

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
TAG_START_NS = 1_700_000_000 * 10**9
APPEND_BATCH = 100_000


def browser_available() -> bool:
    return shutil.which(CHROMIUM) is not None and shutil.which(CHROMEDRIVER) is not None


def start_browser(width: int = 1280, height: int = 900):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 f"--window-size={width},{height}", "--disable-extensions", "--no-first-run"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def append_tag(client, tag: str, points: int, step_ns: int = 10**9, table: str = "tag") -> tuple[int, int]:
    """`points` points of a sine with noise, one per `step_ns` from TAG_START_NS; (first, last) ns."""
    rng = np.random.default_rng(7)
    for first in range(0, points, APPEND_BATCH):
        index = np.arange(first, min(points, first + APPEND_BATCH))
        times = TAG_START_NS + index * step_ns
        values = np.round(100 * np.sin(index / 5000.0) + rng.normal(0, 5, index.size), 3)
        body = '{"values":[' + ",".join(f'["{tag}",{t},{v!r}]' for t, v in zip(times.tolist(), values.tolist())) + "]}"
        answer = client.post(f"/machiot/datapoints/raw/{table}", body, timeout=120)
        assert answer.status == 200 and answer.json["append_failure"] == 0, answer.body[:300]
    return TAG_START_NS, TAG_START_NS + (points - 1) * step_ns


def wait_for(condition, timeout: float = 30, what: str = "condition"):
    """Polls until `condition()` is truthy; its value, or AssertionError naming `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = condition()
        except Exception as exc:  # a page not there yet
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def log_in(driver, url: str, user: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(url + "/")
    wait_for(lambda: driver.find_element(By.ID, "login").is_displayed(), what="the login form")
    form = driver.find_element(By.ID, "login")
    form.find_element(By.NAME, "user").send_keys(user)
    form.find_element(By.NAME, "password").send_keys(password)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(lambda: driver.find_element(By.ID, "nav").is_displayed(), what="the page after login")
