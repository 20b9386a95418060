import os

import psutil
import pytest

from edge.system.machine import GB, machine_info

KEYS = {"total_gb", "available_gb", "used_gb", "percent_used", "percent_free"}


def test_machine_info_has_factorytx_shape_with_floats_only(tmp_path):
    info = machine_info(tmp_path)
    assert set(info) == {"cpu", "memory", "disk"}
    assert set(info["cpu"]) == {"percent", "cpu_count"}
    assert set(info["memory"]) == KEYS and set(info["disk"]) == KEYS
    for section in info.values():
        for key, value in section.items():
            assert type(value) is float, key
    assert 0.0 <= info["cpu"]["percent"] <= 100.0
    assert info["cpu"]["cpu_count"] == float(os.cpu_count())


def test_memory_used_is_total_minus_available_and_free_is_100_minus_used(tmp_path):
    memory = machine_info(tmp_path)["memory"]
    assert GB == 2**30
    assert memory["total_gb"] == psutil.virtual_memory().total / 2**30
    assert memory["used_gb"] == pytest.approx(memory["total_gb"] - memory["available_gb"], abs=1e-9)
    assert memory["percent_free"] == 100.0 - memory["percent_used"]
    assert 0.0 < memory["percent_used"] < 100.0


def test_disk_is_the_file_system_of_the_data_directory(tmp_path):
    disk = machine_info(tmp_path)["disk"]
    fs = os.statvfs(tmp_path)
    assert disk["total_gb"] == fs.f_blocks * fs.f_frsize / 2**30
    # Other processes write meanwhile; the free space may move a little between the two looks.
    assert disk["available_gb"] == pytest.approx(fs.f_bavail * fs.f_frsize / 2**30, abs=0.5)
    assert disk["used_gb"] + disk["available_gb"] == pytest.approx(disk["total_gb"], abs=1e-9)
    assert disk["percent_used"] == pytest.approx(disk["used_gb"] / disk["total_gb"] * 100, rel=1e-12)
    assert disk["percent_free"] == 100.0 - disk["percent_used"]
