"""The appliance recipe, checked without building it (the binary build takes 10 minutes, the
image needs root and the Debian archive): the unit passes `systemd-analyze verify`, every
script passes `bash -n` and shellcheck, and the pieces agree with each other (unit, sysusers,
tmpfiles, fstab, repart, image settings, the program's own command line and settings).
The full build is `./build.sh binary` + appliance/smoke-binary.sh and `./build.sh image` +
appliance/check-rootfs.sh (README.d/appliance.md).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edge.settings import SETTINGS, load_settings

REPO = Path(__file__).resolve().parent.parent.parent
UNIT = REPO / "systemd" / "edge.service"
SYSUSERS = REPO / "rootfs" / "usr" / "lib" / "sysusers.d" / "edge.conf"
TMPFILES = REPO / "rootfs" / "usr" / "lib" / "tmpfiles.d" / "edge.conf"
FSTAB = REPO / "rootfs" / "etc" / "fstab"
REPART = REPO / "rootfs" / "usr" / "lib" / "repart.d" / "50-edge-data.conf"
IMAGE_SETTINGS = REPO / "appliance" / "image.conf"
SCRIPTS = sorted((REPO / "appliance").glob("*.sh")) + [REPO / "build.sh", REPO / ".ci" / "run",
                                                            REPO / "tests" / "peers" / "install.sh"]


def unit_settings(path: Path) -> dict[str, list[str]]:
    """Every `Key=value` of a unit file, all values of a key repeated in order."""
    found: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def one(settings: dict[str, list[str]], key: str) -> str:
    values = settings.get(key)
    assert values is not None and len(values) == 1, f"{key}= should be set once, is {values}"
    return values[0]


def tool(name: str) -> str:
    # tests/peers/install.sh installs systemd (systemd-analyze, -sysusers, -tmpfiles) and shellcheck.
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed and tests/peers/install.sh could not install it (needs root)")
    return path


def sysusers_entries() -> list[list[str]]:
    return [shlex.split(line) for line in SYSUSERS.read_text().splitlines() if line.strip() and not line.startswith("#")]


def tmpfiles_entries() -> dict[str, list[str]]:
    return {fields[1]: fields for fields in (line.split() for line in TMPFILES.read_text().splitlines()
                                              if line.strip() and not line.startswith("#"))}


def fake_root(tmp_path: Path) -> Path:
    """A root with the host's systemd units, the unit under test and an executable /usr/bin/edge,
    as `systemd-analyze verify --root` needs: it checks that ExecStart's program exists."""
    root = tmp_path / "root"
    units = next(p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if p.is_dir())
    shutil.copytree(units, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(UNIT, root / "etc/systemd/system/edge.service")
    (root / "usr/bin").mkdir(parents=True, exist_ok=True)
    (root / "usr/bin/edge").write_text("#!/bin/sh\n")
    (root / "usr/bin/edge").chmod(0o755)
    return root


def test_unit_passes_systemd_analyze_verify(tmp_path):
    analyze = tool("systemd-analyze")
    root = fake_root(tmp_path)
    result = subprocess.run([analyze, "verify", f"--root={root}", "edge.service"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # Unknown or misspelt directives are only warnings: none allowed.
    assert result.stderr.strip() == ""


def test_unit_is_type_notify_with_watchdog_restart_and_hardening():
    unit = unit_settings(UNIT)
    assert one(unit, "Type") == "notify"
    assert one(unit, "NotifyAccess") in ("main", "all")
    assert one(unit, "ExecStart") == "/usr/bin/edge serve --config /etc/edge/edge.conf"
    assert int(one(unit, "WatchdogSec").removesuffix("s")) >= 10
    assert one(unit, "Restart") == "on-failure"
    for key, value in {"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
                       "NoNewPrivileges": "yes", "SupplementaryGroups": "dialout"}.items():
        assert one(unit, key) == value, key
    assert "PrivateDevices" not in unit  # serial ports come through the dialout group
    assert one(unit, "CapabilityBoundingSet") == ""
    assert one(unit, "StateDirectory") == "edge"
    assert one(unit, "LogsDirectory") == "edge"
    assert one(unit, "ConfigurationDirectory") == "edge"


def test_default_port_needs_no_capability():
    port = next(s for s in SETTINGS if s.key == "HTTP_PORT_NO").default
    assert int(port) >= 1024  # so CapabilityBoundingSet= stays empty


def test_exec_start_uses_a_flag_the_program_has():
    result = subprocess.run([sys.executable, "-m", "edge", "serve", "--help"], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "--config" in result.stdout


def test_unit_user_is_the_sysusers_user():
    unit = unit_settings(UNIT)
    users = [entry for entry in sysusers_entries() if entry[0] == "u"]
    assert [u[1] for u in users] == [one(unit, "User")]
    assert one(unit, "Group") == one(unit, "User")  # `u` makes a group of the same name
    assert users[0][4] == "/var/lib/" + one(unit, "StateDirectory")  # home = the data


def test_tmpfiles_create_the_unit_directories_with_its_owner_and_mode():
    unit = unit_settings(UNIT)
    entries = tmpfiles_entries()
    for base, key in (("/var/lib/", "StateDirectory"), ("/var/log/", "LogsDirectory")):
        kind, path, mode, user, group = entries[base + one(unit, key)][:5]
        assert (kind, mode, user, group) == ("d", one(unit, key + "Mode"), one(unit, "User"), one(unit, "Group"))


def test_sysusers_and_tmpfiles_apply_to_a_root(tmp_path):
    sysusers, tmpfiles = tool("systemd-sysusers"), tool("systemd-tmpfiles")
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    for name in ("passwd", "group", "shadow", "gshadow"):
        (root / "etc" / name).write_text("root:x:0:0:root:/root:/bin/sh\n" if name == "passwd" else
                                         "root:x:0:\n" if name == "group" else "")
    subprocess.run([sysusers, f"--root={root}", str(SYSUSERS)], check=True, capture_output=True)
    assert re.search(r"^edge:x:\d+:\d+:edge appliance:/var/lib/edge:/usr/sbin/nologin$",
                     (root / "etc/passwd").read_text(), re.M)
    if os.geteuid() != 0:
        return  # tmpfiles would chown to edge
    subprocess.run([tmpfiles, f"--root={root}", "--create", str(TMPFILES)], check=True, capture_output=True)
    for directory in ("var/lib/edge", "var/log/edge"):
        assert oct((root / directory).stat().st_mode & 0o777) == "0o750"


def test_data_partition_holds_the_units_directories():
    unit = unit_settings(UNIT)
    mounts = [line.split() for line in FSTAB.read_text().splitlines() if line.strip() and not line.startswith("#")]
    data = [m for m in mounts if m[0] == "LABEL=EDGE_DATA"]
    assert len(data) == 1
    mount_point, options = data[0][1], data[0][3].split(",")
    for path in one(unit, "RequiresMountsFor").split():
        assert path.startswith(mount_point.rstrip("/") + "/")
    assert "/var/lib/edge" in one(unit, "RequiresMountsFor").split()
    assert "x-systemd.growfs" in options and "x-systemd.after=systemd-repart.service" in options
    # The partition systemd-repart grows is the one the image build labels and fstab mounts.
    assert "Label=EDGE_DATA" in REPART.read_text().splitlines()
    recipe = (REPO / "appliance" / "build-image.sh").read_text()
    assert "-L EDGE_DATA" in recipe and "name=EDGE_DATA" in recipe


def test_image_settings_load_and_point_at_the_units_directories(tmp_path):
    conf = tmp_path / "edge.conf"
    shutil.copy(REPO / "conf" / "edge.conf", conf)
    subprocess.run([str(REPO / "appliance" / "apply-settings.sh"), str(conf), str(IMAGE_SETTINGS)], check=True)
    settings = load_settings(str(conf), {})
    unit = unit_settings(UNIT)
    assert str(settings.data_dir) == "/var/lib/" + one(unit, "StateDirectory")
    assert str(settings.log_dir) == "/var/log/" + one(unit, "LogsDirectory")
    assert settings.http_bind == "0.0.0.0"
    assert settings.http_auth is True
    # Comments stay; each key is set on exactly one line.
    text = conf.read_text()
    assert len(re.findall(r"^DATA_DIR\s*=", text, re.M)) == 1
    assert text.count("\n#") >= (REPO / "conf" / "edge.conf").read_text().count("\n#") - 1


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(REPO)))
def test_script_parses_and_passes_shellcheck(script):
    assert script.stat().st_mode & 0o111, f"{script} is not executable"
    subprocess.run(["bash", "-n", str(script)], check=True)
    shellcheck = tool("shellcheck")
    result = subprocess.run([shellcheck, "--external-sources", str(script)], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout


def test_nuitka_options_include_the_whole_package_and_its_data_files():
    options = [line for line in (REPO / "appliance" / "nuitka.args").read_text().splitlines()
               if line and not line.startswith("#")]
    assert "--include-package=edge" in options
    assert "--include-package-data=edge" in options
    assert "--include-module=_json" in options


def test_binary_build_installs_pyprojects_runtime_dependencies_and_nuitka():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    result = subprocess.run([sys.executable, "-I", str(REPO / "appliance" / "binary_deps.py"), "requirements",
                             str(REPO / "pyproject.toml")], capture_output=True, text=True, check=True)
    assert result.stdout.split() == project["dependencies"] + project["optional-dependencies"]["binary"]
    assert any(r.startswith("nuitka==") for r in project["optional-dependencies"]["binary"])


def binary_deps(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-I", str(REPO / "appliance" / "binary_deps.py"), *args],
                          capture_output=True, text=True)


def test_binary_build_names_every_lazily_imported_module_to_nuitka():
    modules = binary_deps("modules", str(REPO / "pyproject.toml")).stdout.split()
    # Imported inside the components' functions only: the standard library's sqlite3 is no
    # dependency, and a submodule such as pg8000.native is not what --include-module=pg8000 takes.
    for module in ["sqlite3", "pg8000.native", "pymysql.cursors", "paho.mqtt.client", "pymodbus.client", "serial",
                   "asyncua.crypto.cert_gen", "cryptography.x509.oid", "smbclient"]:
        assert module in modules
    assert "edge" not in modules and not [m for m in modules if m.startswith("edge.")]


def test_binary_check_fails_when_the_report_lacks_a_lazily_imported_module(tmp_path):
    modules = binary_deps("modules", str(REPO / "pyproject.toml")).stdout.split()
    report = tmp_path / "report.xml"

    def write(names):
        report.write_text("<nuitka-compilation-report>" + "".join(f'<module name="{n}"/>' for n in names)
                          + "</nuitka-compilation-report>")

    everything = modules + ["edge", "edge.app", "edge.web.server"]
    write(everything)
    assert binary_deps("check", str(report), str(REPO / "pyproject.toml")).returncode == 0
    write([m for m in everything if m != "sqlite3"])
    result = binary_deps("check", str(report), str(REPO / "pyproject.toml"))
    assert result.returncode == 1 and "not in the binary: sqlite3" in result.stderr


def test_watchdog_belongs_to_the_program_in_a_onefile_child(monkeypatch):
    # systemd names the process it started (the onefile parent) in WATCHDOG_PID.
    from edge.system import sdnotify

    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getppid()))
    monkeypatch.delenv("NUITKA_ONEFILE_PARENT", raising=False)
    assert sdnotify.watchdog_interval() is None
    monkeypatch.setenv("NUITKA_ONEFILE_PARENT", str(os.getppid()))
    assert sdnotify.watchdog_interval() == 15.0


@pytest.mark.parametrize("helper", ["smoke.py", "binary_deps.py"])
def test_appliance_python_helpers_compile_and_print_usage(helper):
    result = subprocess.run([sys.executable, "-I", str(REPO / "appliance" / helper), "--help"],
                            capture_output=True, text=True)
    assert "usage" in (result.stdout + result.stderr).lower()
