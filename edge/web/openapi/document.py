"""The whole OpenAPI document, put together from one module per route family."""

from __future__ import annotations

import copy
import functools

from edge import __version__
from edge.web.openapi import common, ftx, influx, machbase, machiot, service, ui

# A new route family is a module with paths() and a line here.
FAMILIES = (ftx, machbase, machiot, influx, ui, service)


@functools.cache
def describe() -> dict:
    paths: dict = {}
    for family in FAMILIES:
        for path, operations in family.paths().items():
            paths.setdefault(path, {}).update(operations)
    return {
        "openapi": "3.1.0",
        "info": {"title": "edge", "version": __version__,
                 "description": "FactoryTX-compatible collector (/v1) and Machbase-compatible historian "
                                "(/machbase, /machiot) on one port, and its web UI."},
        "security": [{"basic": []}, {"session": []}],
        "tags": [{"name": f.TAG} for f in FAMILIES],
        "paths": paths,
        # Operations share parameter and schema objects; each path gets its own copy in the JSON.
        "components": copy.deepcopy(common.COMPONENTS),
    }
