"""Keeps freed memory in the process for numpy's next arrays (glibc malloc settings).

Applied once at start-up by the app: it is a process-wide choice. The pipeline works chunk by chunk with arrays of a few MiB that live for one chunk. With
glibc's defaults such arrays are mmap'd and unmapped or trimmed on every free, so each
chunk pays the kernel to fault in and zero the same pages again; measured here, that
doubles or triples the cost of the byte-level numpy work. Raising the mmap and trim
thresholds keeps the freed pages for the next chunk; resident memory then sits at the
working set of one chunk and stays flat. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading

log = logging.getLogger("edge.system")

_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # arrays below this come from the heap, and go back to it
TRIM_THRESHOLD = 64 << 20  # free heap kept before any is returned to the system (small boxes)
TOP_PAD = 16 << 20

_done = False
_lock = threading.Lock()


def keep_freed_memory() -> bool:
    """Applies the settings once per process; False where malloc is not glibc's."""
    global _done
    with _lock:
        if _done:
            return True
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            mallopt = libc.mallopt
        except (OSError, AttributeError):
            return False
        mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        ok = all(mallopt(option, value) == 1 for option, value in (
            (_M_MMAP_THRESHOLD, MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD), (_M_TOP_PAD, TOP_PAD)))
        if not ok:
            log.warning("malloc settings were not accepted")
        _done = True
        return ok
