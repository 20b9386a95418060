"""Field matrices cut from a chunk's bytes hold exactly each field, zero padded."""

from __future__ import annotations

import numpy as np
import pytest

from edge.time.textfields import ByteFields


@pytest.mark.parametrize("longest", [1, 7, 8, 9, 16, 23, 40])
@pytest.mark.parametrize("right", [False, True])
def test_every_field_at_every_alignment(longest, right):
    rng = np.random.default_rng(longest)
    buf = rng.integers(1, 256, 3000, dtype=np.uint8)  # no zero bytes: padding must come from the cut
    lengths = rng.integers(0, longest + 1, 500)
    lengths[:2] = longest, 0
    starts = rng.integers(0, len(buf) - longest, 500)
    starts[:3] = 0, 0, len(buf) - longest  # the very first and very last bytes too
    ends = starts + lengths
    mat, got = ByteFields(buf, longest).matrix(starts, ends, right=right)
    width = mat.shape[1]
    assert width % 8 == 0 and width >= longest and got.tolist() == lengths.tolist()
    for row, start, end in zip(mat, starts.tolist(), ends.tolist()):
        field = buf[start:end].tobytes()
        padding = bytes(width - len(field))
        assert row.tobytes() == (padding + field if right else field + padding)
