import logging

import pytest

from edge.errors import EdgeError
from edge.system.logs import CORE_LOG, WEB_LOG, setup_logging, stop_logging, tail_lines, tail_log


def write_lines(path, count, prefix="line"):
    path.write_text("".join(f"{prefix} {i}\n" for i in range(count)), encoding="utf-8")


def test_tail_reads_the_last_lines_across_block_boundaries(tmp_path):
    path = tmp_path / "big.log"
    write_lines(path, 5000)
    assert tail_lines(path, 3, block_size=7) == ["line 4997", "line 4998", "line 4999"]
    assert tail_lines(path, 1000, block_size=64) == [f"line {i}" for i in range(4000, 5000)]
    assert tail_lines(path, 10_000) == [f"line {i}" for i in range(5000)]
    assert tail_lines(path, 0) == []
    assert tail_lines(tmp_path / "missing.log", 5) == []


def test_tail_splits_on_newlines_only_and_keeps_a_last_unterminated_line(tmp_path):
    path = tmp_path / "odd.log"
    path.write_bytes(b"one\x0cstill one\r\ntwo \xe2\x80\xa8 same\nthree")
    assert tail_lines(path, 5) == ["one\x0cstill one", "two \u2028 same", "three"]


def test_tail_log_continues_into_the_rotated_file_when_the_current_one_is_short(tmp_path):
    write_lines(tmp_path / f"{CORE_LOG}.1", 50, "old")
    write_lines(tmp_path / CORE_LOG, 2, "new")
    assert tail_log(tmp_path, CORE_LOG, 4) == ["old 48", "old 49", "new 0", "new 1"]
    assert tail_log(tmp_path, CORE_LOG, 2) == ["new 0", "new 1"]
    assert tail_log(tmp_path, WEB_LOG, 10) == []


@pytest.mark.parametrize("name", ["../catalog.db", "/etc/passwd", "factorytx_core.log.1", "catalog.db",
                                  "factorytx_core.log/", "FACTORYTX_CORE.LOG", "factorytx_core.log\0", ""])
def test_tail_log_refuses_every_other_name_without_reading(tmp_path, name):
    (tmp_path / "catalog.db").write_text("secret\n")
    write_lines(tmp_path / f"{CORE_LOG}.1", 3)
    with pytest.raises(EdgeError) as raised:
        tail_log(tmp_path, name, 10)
    assert raised.value.status == 404
    assert "factorytx_core.log, factorytx_web.log" in raised.value.text


def test_logs_rotate_by_size_and_route_web_and_core_records_apart(tmp_path):
    setup_logging(tmp_path, max_bytes=4096, backup_count=2, also_stderr=False)
    try:
        for i in range(200):
            logging.getLogger("edge.web").info("request %d", i)
        logging.getLogger("edge.pipeline.line_1").warning("cannot read %s", "a.csv")
    finally:
        stop_logging()
    # The current file holds what came after the last rotation; the rest is read from .1.
    web = tail_log(tmp_path, WEB_LOG, 60)
    assert [line.rsplit(" ", 1)[1] for line in web] == [str(i) for i in range(140, 200)]
    assert web[-1].split(" ")[2:] == ["MainThread", "edge.web", "INFO", "request", "199"]
    assert (tmp_path / f"{WEB_LOG}.1").stat().st_size <= 4096
    assert (tmp_path / f"{WEB_LOG}.2").exists() and not (tmp_path / f"{WEB_LOG}.3").exists()
    core = tail_log(tmp_path, CORE_LOG, 10)
    assert len(core) == 1 and core[0].endswith("edge.pipeline.line_1 WARNING cannot read a.csv")
