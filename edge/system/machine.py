"""The machine's resources for /v1/status: CPU, memory, and the disk holding the data.

Shapes and units are FactoryTX's: every number a float, sizes in GB of 2**30 bytes, percents
between 0 and 100, used = total - available (memory and disk alike, so used + available is
the total), percent_free = 100 - percent_used.
"""

from __future__ import annotations

import threading
from pathlib import Path

import psutil

GB = float(2**30)
# psutil measures CPU use between two calls; the first call has nothing to compare with, so
# it samples over this long once instead of answering 0.0.
_FIRST_CPU_SAMPLE_SECONDS = 0.1
_cpu_lock = threading.Lock()
_cpu_sampled = False


def machine_info(data_dir: Path) -> dict:
    return {"cpu": cpu_info(), "memory": memory_info(), "disk": disk_info(data_dir)}


def cpu_info() -> dict:
    """CPU use since the previous call (any caller's), and the number of logical CPUs."""
    global _cpu_sampled
    with _cpu_lock:
        interval = None if _cpu_sampled else _FIRST_CPU_SAMPLE_SECONDS
        percent = psutil.cpu_percent(interval=interval)
        _cpu_sampled = True
    return {"percent": float(percent), "cpu_count": float(psutil.cpu_count() or 1)}


def memory_info() -> dict:
    memory = psutil.virtual_memory()
    percent_used = float(memory.percent)
    return {
        "total_gb": memory.total / GB,
        "available_gb": memory.available / GB,
        "used_gb": (memory.total - memory.available) / GB,
        "percent_used": percent_used,
        "percent_free": 100.0 - percent_used,
    }


def disk_info(path: Path) -> dict:
    """The file system holding `path`; available is what this (unprivileged) user may still use."""
    usage = psutil.disk_usage(str(path))
    used = usage.total - usage.free
    percent_used = used / usage.total * 100.0 if usage.total else 0.0
    return {
        "total_gb": usage.total / GB,
        "available_gb": usage.free / GB,
        "used_gb": used / GB,
        "percent_used": percent_used,
        "percent_free": 100.0 - percent_used,
    }
