"""./build.sh bench ui: time to first chart of 1 tag x 10M points over its whole range, in the
browser, next to reading the same range raw through /machiot.

One tag, one point a second (10M points: 116 days), appended through /machiot. Then, on the
same server:
  browser chart   headless Chromium (Debian's chromium, Selenium) on the Historian page: from
                  "Draw whole range" to the uPlot chart drawn (the page's own clock: range from
                  the tag stats, one raw probe, the calculated min/max/avg buckets, the chart),
                  median of several draws; and the wall time seen from outside
  raw /machiot    GET /datapoints/raw/{Table}/{Tag}/{Start}/{End} of the whole range: every point,
                  timed until the whole answer is read (once: it is the slow one)
Options: --points N (default 10,000,000) --runs N (default 5).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import urllib.parse
from pathlib import Path

from tests.conftest import ADMIN_PASSWORD, EdgeServer
from tests.integration.ui.browser import append_tag, log_in, start_browser, wait_for

TAG = "big"
# The raw read of every point must be allowed to build its whole answer and take its time.
CONF = ["TIMEZONE = UTC", "HTTP_MAX_MEM = 8589934592", "REQUEST_TIMEOUT_MS = 3600000"]


def draw_in_browser(driver, server: EdgeServer, runs: int) -> tuple[list[float], list[float], str, int]:
    from selenium.webdriver.common.by import By

    log_in(driver, server.url, "sys", ADMIN_PASSWORD)
    driver.get(server.url + "/#historian")
    wait_for(lambda: driver.find_element(By.ID, "hist-search"), what="the Historian page").send_keys(TAG)
    wait_for(lambda: driver.find_element(By.CSS_SELECTOR, f'#hist-tags input[value="{TAG}"]'),
             what="the tag").click()
    page_ms, wall_ms = [], []
    mode, drawn = "", 0
    for _ in range(runs):
        driver.execute_script("window.edgeTrend.data = null;")
        began = time.perf_counter()
        driver.find_element(By.ID, "hist-draw").click()
        trend = wait_for(lambda: driver.execute_script(
            "return window.edgeTrend.data && {ms: window.edgeTrend.drawnMs, mode: window.edgeTrend.mode,"
            " n: window.edgeTrend.data[0].length}"), timeout=120, what="the chart")
        wall_ms.append((time.perf_counter() - began) * 1e3)
        page_ms.append(trend["ms"])
        mode, drawn = trend["mode"], trend["n"]
    return page_ms, wall_ms, mode, drawn


def read_raw(server: EdgeServer, first_ns: int, last_ns: int) -> tuple[float, int, int]:
    def text(ns: int) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + f",{ns // 10**6 % 1000:03d}"

    path = (f"/machiot/datapoints/raw/tag/{TAG}/{urllib.parse.quote(text(first_ns))}/"
            f"{urllib.parse.quote(text(last_ns))}/0/0/0?m=1")
    began = time.perf_counter()
    answer = server.client.get(path, timeout=3600)
    elapsed = (time.perf_counter() - began) * 1e3
    assert answer.status == 200, answer.body[:300]
    rows = answer.body.count(b"],[") + 1
    return elapsed, len(answer.body), rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./build.sh bench ui", description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="edge-bench-ui-") as folder:
        server = EdgeServer(Path(folder) / "data", CONF).start()
        driver = None
        try:
            began = time.perf_counter()
            first_ns, last_ns = append_tag(server.client, TAG, args.points)
            print(f"appended {args.points:,} points in {time.perf_counter() - began:.1f} s")
            driver = start_browser()
            page_ms, wall_ms, mode, drawn = draw_in_browser(driver, server, args.runs)
            raw_ms, raw_bytes, raw_rows = read_raw(server, first_ns, last_ns)
        finally:
            if driver is not None:
                driver.quit()
            server.stop()
    print(f"\n1 tag x {args.points:,} points over its whole range ({(last_ns - first_ns) / 86400e9:.0f} days)\n")
    print(f"{'':34} {'ms':>10}  notes")
    print(f"{'browser: first chart (page clock)':34} {statistics.median(page_ms):10.0f}  median of {args.runs}; "
          f"{drawn} buckets of {mode}; min {min(page_ms):.0f}, max {max(page_ms):.0f}")
    print(f"{'browser: click to chart (wall)':34} {statistics.median(wall_ms):10.0f}  "
          f"as seen by the driver, polling every 0.1 s")
    print(f"{'raw /machiot read of the range':34} {raw_ms:10.0f}  {raw_rows:,} points, {raw_bytes / 1e6:.0f} MB of JSON")
    print(f"\nthe chart is {raw_ms / statistics.median(page_ms):.0f}x faster than reading the range raw")
    return 0
