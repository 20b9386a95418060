"""The dispatcher finds a path's mount by its first segment: the same mount as trying each
prefix in order (`Mount.matches`)."""

import itertools

from edge.web.dispatch import Dispatcher, Mount

PREFIXES = [["/v1"], ["/machbase"], ["/machiot", "/machiot-rest-api"], ["/write", "/ping", "/query"],
            ["/", "/ui", "/docs", "/openapi.json"], ["/v1"]]
PIECES = ["", "/", "//", "v1", "/v1", "/v1/", "/v12", "/machiot", "/machiot-rest-api", "/machiot-rest", "/ui",
          "/openapi.json", "/openapi.jsonx", "x", "/x", "/ping", "/machbase", "?", "/ü"]


def test_mount_by_first_segment_is_the_first_matching_prefix():
    mounts = [Mount(prefixes, None, None) for prefixes in PREFIXES]
    dispatcher = Dispatcher(mounts, None, 0)
    for parts in itertools.product(PIECES, repeat=3):
        path = "".join(parts)
        assert dispatcher.mount_for(path) is next((m for m in mounts if m.matches(path)), None), path


def test_a_prefix_of_two_segments_is_still_matched_in_order():
    mounts = [Mount(["/a/b"], None, None), Mount(["/a"], None, None)]
    dispatcher = Dispatcher(mounts, None, 0)
    assert dispatcher.mount_for("/a/b/c") is mounts[0]
    assert dispatcher.mount_for("/a/bc") is mounts[1]
    assert dispatcher.mount_for("/b") is None
