"""./build.sh bench ui: time to first chart of 1 tag x 10M points over its whole range, in the
browser, next to reading the same range raw through /machiot.

One tag, one point a second (10M points: 116 days), appended through /machiot. Then, on the
same server:
  browser chart   headless Chromium (Debian's chromium, Selenium) on the Historian page, timed
                  by the page's clock: from "Draw whole range" to the uPlot chart built (range
                  from the tag stats, one raw probe, the calculated min/max/avg buckets, the
                  chart), and from the click to the chart painted; median of several draws
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
    """(ms from draw to chart built, ms from click to the chart painted, bucket, times drawn)."""
    from selenium.webdriver.common.by import By

    log_in(driver, server.url, "sys", ADMIN_PASSWORD)
    driver.get(server.url + "/#historian")
    wait_for(lambda: driver.find_element(By.ID, "hist-search"), what="the Historian page").send_keys(TAG)
    wait_for(lambda: driver.find_element(By.CSS_SELECTOR, f'#hist-tags input[value="{TAG}"]'),
             what="the tag").click()
    page_ms, paint_ms = [], []
    mode, drawn = "", 0
    for _ in range(runs):
        # Clicked and waited for inside the page: WebDriver's own round trips (tens to hundreds
        # of ms each on a busy box) stay out of the figure. Done when the frame after the chart
        # was built has been painted.
        result = driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            window.edgeTrend.data = null;
            const began = performance.now();
            document.getElementById('hist-draw').click();
            const poll = () => {
              if (!window.edgeTrend.data) { setTimeout(poll, 2); return; }
              requestAnimationFrame(() => requestAnimationFrame(() => done({
                painted: performance.now() - began, ms: window.edgeTrend.drawnMs,
                mode: window.edgeTrend.mode, n: window.edgeTrend.data[0].length})));
            };
            poll();""")
        paint_ms.append(result["painted"])
        page_ms.append(result["ms"])
        mode, drawn = result["mode"], result["n"]
    return page_ms, paint_ms, mode, drawn


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
            driver.set_script_timeout(300)
            page_ms, paint_ms, mode, drawn = draw_in_browser(driver, server, args.runs)
            raw_ms, raw_bytes, raw_rows = read_raw(server, first_ns, last_ns)
        finally:
            if driver is not None:
                driver.quit()
            server.stop()
    print(f"\n1 tag x {args.points:,} points over its whole range ({(last_ns - first_ns) / 86400e9:.0f} days)\n")
    print(f"{'':34} {'ms':>10}  notes")
    print(f"{'browser: first chart (page clock)':34} {statistics.median(page_ms):10.0f}  median of {args.runs}; "
          f"{drawn} buckets of {mode}; min {min(page_ms):.0f}, max {max(page_ms):.0f}")
    print(f"{'browser: click to chart painted':34} {statistics.median(paint_ms):10.0f}  "
          f"median of {args.runs}, to the second frame after it was built")
    print(f"{'raw /machiot read of the range':34} {raw_ms:10.0f}  {raw_rows:,} points, {raw_bytes / 1e6:.0f} MB of JSON")
    print(f"\nthe chart is {raw_ms / statistics.median(page_ms):.0f}x faster than reading the range raw")
    return 0
