import logging
import sys

from edge.system.logs import LINE_FORMAT, LineFormatter, SizeRotatingFileHandler


def logger_to(handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(f"test.rotation.{id(handler)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return logger


def test_rotates_by_counted_size_keeping_every_line_in_order(tmp_path):
    path = tmp_path / "web.log"
    path.write_text("x" * 150 + "\n")  # lines already there count towards the size
    handler = SizeRotatingFileHandler(path, maxBytes=200, backupCount=3, encoding="utf-8")
    logger = logger_to(handler)
    try:
        for i in range(12):
            logger.info("line %02d %s", i, "y" * 12)  # 21 characters with the newline
    finally:
        handler.close()
    newest_first = [path.read_text(), *(path.with_name(f"web.log.{k}").read_text() for k in (1, 2))]
    # 151 + 2 lines fill the first file, 9 lines the next (a 10th would reach 200), 1 is left.
    assert [text.count("\n") for text in newest_first] == [1, 9, 3]
    assert "".join(reversed(newest_first)).splitlines() == ["x" * 150] + [f"line {i:02d} {'y' * 12}" for i in range(12)]
    assert not path.with_name("web.log.3").exists()


def test_a_line_alone_over_the_limit_does_not_rotate_an_empty_file(tmp_path):
    path = tmp_path / "core.log"
    handler = SizeRotatingFileHandler(path, maxBytes=10, backupCount=2, encoding="utf-8")
    logger = logger_to(handler)
    try:
        logger.info("a line longer than ten characters")
        logger.info("another")
    finally:
        handler.close()
    assert path.read_text() == "another\n"
    assert path.with_name("core.log.1").read_text() == "a line longer than ten characters\n"
    assert not path.with_name("core.log.2").exists()


def test_line_formatter_prints_what_the_stock_formatter_prints():
    stock, ours = logging.Formatter(LINE_FORMAT), LineFormatter(LINE_FORMAT)
    for created in (1_600_000_000.0, 1_600_000_000.999, 1_600_000_001.5, 1_600_000_001.25, 1_700_000_123.004):
        record = logging.makeLogRecord({"name": "edge.web", "msg": "GET %s", "args": ("/x",), "levelno": 20,
                                        "levelname": "INFO", "created": created,
                                        "msecs": (created - int(created)) * 1000})
        assert ours.format(record) == stock.format(record)


def _logged(name: str, failure: BaseException) -> str:
    formatter = LineFormatter("%(name)s %(levelname)s %(message)s")
    try:
        raise failure
    except BaseException:
        record = logging.getLogger(name).makeRecord(name, logging.ERROR, __file__, 1, "Publish iteration crashed; "
                                                    "retrying in %ds", (1,), exc_info=sys.exc_info())
    return formatter.format(record)


def test_a_librarys_network_failure_is_one_line_and_everything_else_keeps_its_traceback():
    assert _logged("asyncua.client.ua_session.UaSession", ConnectionError("Connection is closed")) == (
        "asyncua.client.ua_session.UaSession ERROR Publish iteration crashed; retrying in 1s "
        "(ConnectionError: Connection is closed)")
    assert _logged("pymodbus.client", TimeoutError("no answer")).endswith("(TimeoutError: no answer)")
    for name, failure in (("asyncua.client", KeyError("a bug")), ("edge.pipeline.plc", ConnectionError("ours"))):
        text = _logged(name, failure)
        assert "Traceback (most recent call last)" in text and text.splitlines()[-1].startswith(type(failure).__name__)
