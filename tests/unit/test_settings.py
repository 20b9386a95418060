from pathlib import Path

import os

import pytest

from edge.settings import SETTINGS, SettingsError, load_settings, parse_conf

REPO = Path(__file__).resolve().parents[2]


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.http_port_no == 5657
    assert settings.http_bind == "127.0.0.1"
    assert settings.http_auth is True
    assert settings.mask_secrets is True
    assert settings.data_dir == tmp_path / "var"
    assert settings.log_dir == tmp_path / "var" / "logs"
    assert settings.timezone


def test_file_values_and_flags_override_in_order(tmp_path):
    conf = tmp_path / "edge.conf"
    conf.write_text("# comment\nHTTP_PORT_NO = 6000  # trailing comment\nhttp_auth=0\nTIMEZONE = Asia/Seoul\n"
                    f"DATA_DIR = {tmp_path / 'd'}\n")
    settings = load_settings(conf, {"HTTP_PORT_NO": "7000", "DATA_DIR": None})
    assert settings.http_port_no == 7000
    assert settings.http_auth is False
    assert settings.timezone == "Asia/Seoul"
    assert settings.data_dir == tmp_path / "d"
    assert settings.log_dir == tmp_path / "d" / "logs"


@pytest.mark.parametrize("line, message", [
    ("NO_SUCH_KEY = 1", "unknown setting NO_SUCH_KEY"),
    ("HTTP_PORT_NO = 70000", "HTTP_PORT_NO: must be between 0 and 65535"),
    ("HTTP_PORT_NO = abc", "HTTP_PORT_NO: expected an integer"),
    ("HTTP_AUTH = yes", "HTTP_AUTH: expected 0 or 1"),
    ("TIMEZONE = Mars/Olympus", "unknown IANA time zone"),
    ("HTTP_BIND = not-an-ip", "expected an IP address"),
    ("HTTP_CPU = fast", "HTTP_CPU: expected auto, off or a CPU number, got 'fast'"),
    ("HTTP_CPU = 4096", "HTTP_CPU: CPU 4096 is not one this process may use"),
    ("just words", "expected PROPERTY = VALUE"),
])
def test_bad_line_names_file_and_line(tmp_path, line, message):
    conf = tmp_path / "edge.conf"
    conf.write_text(f"# first\n\n{line}\n")
    with pytest.raises(SettingsError) as err:
        load_settings(conf)
    assert str(err.value).startswith(f"{conf}:3: ")
    assert message in str(err.value)


def test_bad_flag_is_named(tmp_path):
    with pytest.raises(SettingsError, match=r"command line \(HTTP_PORT_NO\)"):
        load_settings(None, {"HTTP_PORT_NO": "-1"})


def test_shipped_edge_conf_documents_every_key_with_its_default():
    text = (REPO / "conf" / "edge.conf").read_text()
    documented = {}
    for line in text.splitlines():
        body = line.lstrip("# ").strip()
        key, sep, value = body.partition("=")
        if sep and key.strip().isupper() and " " not in key.strip():
            documented[key.strip()] = value.strip()
    for setting in SETTINGS:
        assert setting.key in documented, f"{setting.key} missing from conf/edge.conf"
        if setting.default is not None and setting.key != "DATA_DIR":
            assert documented[setting.key] == setting.default, setting.key
    # The shipped file itself parses.
    parse_conf(text, "conf/edge.conf")


@pytest.mark.parametrize("threads, query_threads", [(1, 1), (2, 1), (4, 3), (8, 6), (16, 12)])
def test_query_threads_default_leaves_a_share_of_the_workers_free(tmp_path, threads, query_threads):
    conf = tmp_path / "edge.conf"
    conf.write_text(f"HTTP_THREADS = {threads}\n")
    assert load_settings(conf).http_query_threads == query_threads


@pytest.mark.parametrize("lines", [["HTTP_THREADS = 4", "HTTP_QUERY_THREADS = 4"],
                                   ["HTTP_THREADS = 1", "HTTP_QUERY_THREADS = 2"]])
def test_query_threads_may_not_take_every_worker(tmp_path, lines):
    conf = tmp_path / "edge.conf"
    conf.write_text("\n".join(lines) + "\n")
    with pytest.raises(SettingsError) as err:
        load_settings(conf)
    assert str(err.value).startswith(f"{conf}:2: HTTP_QUERY_THREADS: must be at most ")


def test_http_cpu_auto_is_the_highest_cpu_when_there_are_two_or_more(tmp_path):
    cpus = os.sched_getaffinity(0)
    conf = tmp_path / "edge.conf"
    assert load_settings(conf_with(conf, "")).http_cpu == (max(cpus) if len(cpus) > 1 else None)
    assert load_settings(conf_with(conf, "HTTP_CPU = off")).http_cpu is None
    assert load_settings(conf_with(conf, f"HTTP_CPU = {min(cpus)}")).http_cpu == min(cpus)


def conf_with(conf: Path, line: str) -> Path:
    conf.write_text(line + "\n")
    return conf
