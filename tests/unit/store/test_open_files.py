"""A table keeps the descriptors and maps of at most its budget of tags open: a batch of more
tags than the process may open files is stored and read whole (a large OPC UA or Modbus
configuration on a box with a low open-file limit)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent("""
    import os, resource, sys, numpy as np
    # A limit the process cannot raise (a common default): 1,024 open files, fewer than 1 per tag.
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
    from edge.catalog import Catalog
    from edge.store import TagStore
    data = sys.argv[1]
    tags = 3000
    store = TagStore(Catalog(os.path.join(data, "catalog.db")), os.path.join(data, "tags"))
    table = store.table("TAG")
    names = np.array([f"tag{i}" for i in range(tags)], dtype=object)
    for second in range(3):
        table.append(names, np.full(tags, second * 1_000_000_000, dtype=np.int64), np.arange(tags, dtype=np.float64))
        table.checkpoint()  # every tag's rows to its files in one flush, then synced
    read = table.read([f"tag{i}" for i in range(0, tags, 2)], 0, 10**18, 0)
    assert len(read.times) == 3 * (tags // 2), len(read.times)
    assert sorted(set(read.values.tolist())) == [float(i) for i in range(0, tags, 2)]
    store.close()
    print("stored", len(os.listdir("/proc/self/fd")) < 1024)
""")


def test_a_batch_of_more_tags_than_open_files_allowed_is_stored_and_read(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    out = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert out.stdout == "stored True\n", out.stderr[-3000:]
