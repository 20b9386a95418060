"""Tag names of line-protocol fields are unambiguous: two different (series, field) pairs
never share a name, and the name of a series does not depend on the order of its tags."""

import random

from edge.web.influx.tag_names import tag_name


def test_the_documented_examples():
    assert tag_name("cpu", [("region", "eu"), ("host", "a")], "usage_idle") == "cpu.host=a.region=eu.usage_idle"
    assert tag_name("cpu", [], "usage_idle") == "cpu.usage_idle"


def test_dots_in_measurement_tags_and_field_do_not_collide():
    names = {tag_name("a.b", [], "c"), tag_name("a", [], "b.c"), tag_name("a", [("b", "x")], "c"),
             tag_name("a.b=x", [], "c"), tag_name("a", [("b=x", "y")], "c"), tag_name("a", [("b", "x=y")], "c"), tag_name("a\\", [], "c"), tag_name("a", [], "\\c")}
    assert len(names) == 8


def test_random_components_never_collide():
    rng = random.Random(17)
    alphabet = "ab.,= \\"
    seen: dict[str, tuple] = {}
    for _ in range(20000):
        measurement = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 3)))
        tags = {}
        for _ in range(rng.randint(0, 2)):
            tags["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 2)))] = \
                "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 2)))
        field = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 3)))
        key = (measurement, tuple(sorted(tags.items())), field)
        name = tag_name(measurement, list(tags.items()), field)
        assert seen.setdefault(name, key) == key
