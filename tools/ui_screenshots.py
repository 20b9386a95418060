"""Screenshots of each page of the web UI for README.d/web-ui.md, taken with headless Chromium
against a fresh server holding a small configuration and a tag of data.

    PYTHONPATH=. .venv/bin/python tools/ui_screenshots.py   # writes README.d/img/ui-*.png
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import ADMIN_PASSWORD, REPO, EdgeServer
from tests.integration.ui.browser import append_tag, log_in, start_browser, wait_for

OUT = REPO / "README.d" / "img"


def configure(server: EdgeServer, folder: Path) -> None:
    incoming = folder / "incoming"
    incoming.mkdir()
    (incoming / "cycle.csv").write_text("timestamp,temperature,pressure\n2024-01-01 00:00:00,21.5,1.01\n")
    config = {
        "data_receiver": [{"data_receiver_name": "press_line", "protocol": "localfile", "poll_interval": 5,
                           "streams": [{"asset": "press_1", "stream_type": "cycle", "file_filter": ["*.csv"]}],
                           "connections": [{"root_path": str(incoming)}],
                           "parsers": [{"parser_name": "csv", "parser_type": "spreadsheet", "filter_stream": ["*"],
                                        "file_format": "csv"}]}],
        "transforms": [], "data_transmit": []}
    answer = server.client.post("/v1/config", config)
    assert answer.status == 200, answer.body
    config["data_receiver"][0]["poll_interval"] = 10
    assert server.client.post("/v1/config", config).status == 200


def main() -> int:
    from selenium.webdriver.common.by import By

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="edge-shots-") as folder:
        server = EdgeServer(Path(folder) / "data", ["TIMEZONE = UTC"]).start()
        driver = start_browser(1280, 860)
        try:
            configure(server, Path(folder))
            append_tag(server.client, "press_1:cycle:temperature", 300_000)
            append_tag(server.client, "press_1:cycle:pressure", 300_000)
            driver.get(server.url + "/")
            wait_for(lambda: driver.find_element(By.ID, "login").is_displayed(), what="login")
            driver.find_element(By.NAME, "user").send_keys("sys")
            driver.save_screenshot(str(OUT / "ui-login.png"))
            log_in(driver, server.url, "sys", ADMIN_PASSWORD)
            for page, ready in (("status", "#services table"), ("config", "#violations li"),
                                ("streams", "#streams table"), ("logs", "#log-text"), ("sql", "#sql-run")):
                driver.get(f"{server.url}/#{page}")
                driver.refresh()
                wait_for(lambda: driver.find_element(By.CSS_SELECTOR, ready), what=page)
                if page == "sql":
                    driver.find_element(By.ID, "sql-run").click()
                    wait_for(lambda: driver.find_element(By.CSS_SELECTOR, "#sql-result table"), what="result")
                if page == "config":
                    driver.find_element(By.XPATH, "//button[text()='Diff']").click()
                time.sleep(0.5)
                driver.save_screenshot(str(OUT / f"ui-{page}.png"))
            driver.get(f"{server.url}/#historian")
            driver.refresh()
            wait_for(lambda: driver.find_element(By.ID, "hist-search"), what="historian").send_keys("press_1")
            for tag in ("press_1:cycle:temperature", "press_1:cycle:pressure"):
                wait_for(lambda: driver.find_element(By.CSS_SELECTOR, f'#hist-tags input[value="{tag}"]'),
                         what=tag).click()
            driver.find_element(By.ID, "hist-draw").click()
            wait_for(lambda: driver.execute_script("return window.edgeTrend.data"), what="chart")
            time.sleep(0.5)
            driver.save_screenshot(str(OUT / "ui-historian.png"))
            driver.get(f"{server.url}/docs")
            wait_for(lambda: driver.find_element(By.CSS_SELECTOR, "details.op"), what="docs")
            driver.find_element(By.CSS_SELECTOR, "details.op").click()
            driver.save_screenshot(str(OUT / "ui-docs.png"))
        finally:
            driver.quit()
            server.stop()
    print("\n".join(str(p.relative_to(REPO)) for p in sorted(OUT.glob("ui-*.png"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
