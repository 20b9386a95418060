"""/openapi.json describes every route the server has, and every route it describes exists."""

from __future__ import annotations

import re

import bottle
import pytest

from edge.app import EdgeApp
from edge.settings import load_settings
from edge.web.health import HEALTH_PATH
from edge.web.openapi.document import describe

METHODS = ("get", "put", "post", "patch", "delete", "head", "options")


@pytest.fixture(scope="module")
def edge_app(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("EDGE_ADMIN_PASSWORD", "openapi-test-password")
    app = EdgeApp(load_settings(None, {"DATA_DIR": str(tmp_path_factory.mktemp("openapi") / "data")}))
    yield app
    app.scheduler.shutdown()
    app.store.close()  # its housekeeping thread too, before the data goes
    app.catalog.close()
    mp.undo()


def server_routes(app: EdgeApp) -> list[tuple[str, str]]:
    """(method, Bottle rule) of every route of every mounted app; HEAD is GET's."""
    found = {(route.method, route.rule) for mount in app.wsgi.mounts for route in mount.app.routes}
    return sorted((m, r) for m, r in found if not (m == "HEAD" and ("GET", r) in found))


def described_operations() -> list[tuple[str, str]]:
    return sorted((method.upper(), path) for path, item in describe()["paths"].items()
                  for method in item if method in METHODS)


def concrete(openapi_path: str) -> str:
    return re.sub(r"\{[^}/]+\}", "x", openapi_path)


def rule_matches(rule: str, method: str, path: str) -> bool:
    router = bottle.Router()
    router.add(rule, method, None)
    try:
        router.match({"PATH_INFO": path, "REQUEST_METHOD": method})
        return True
    except bottle.HTTPError:
        return False


def test_every_route_of_the_server_is_described(edge_app):
    described = described_operations()
    missing = [(method, rule) for method, rule in server_routes(edge_app)
               if not any(m in (method, "GET" if method == "HEAD" else method) and rule_matches(rule, method, concrete(p))
                          for m, p in described)]
    assert missing == []


def test_every_described_operation_is_a_route_of_the_server(edge_app):
    missing = []
    for method, path in described_operations():
        if path == HEALTH_PATH:  # answered by the dispatcher itself, before any app
            continue
        mount = edge_app.wsgi.mount_for(concrete(path))
        try:
            assert mount is not None
            route, _ = mount.app.router.match({"PATH_INFO": concrete(path), "REQUEST_METHOD": method})
        except (AssertionError, bottle.HTTPError):
            missing.append((method, path))
    assert missing == []


def test_the_description_is_valid_openapi_3_1_with_the_spec_examples():
    import schemathesis

    document = describe()
    assert document["openapi"] == "3.1.0"
    schema = schemathesis.openapi.from_dict(document)
    operations = list(schema.get_all_operations())
    errors = [str(result.err()) for result in operations if hasattr(result, "err") and result.err() is not None]
    assert errors == []
    assert len(operations) == len(described_operations())
    # Examples from the specs, where the specs give them.
    calculated = document["paths"]["/machiot/datapoints/calculated/{Table}/{TagNames}/{Start}/{End}/"
                                   "{CalculationMode}/{Count}/{IntervalType}/{IntervalValue}"]["get"]
    assert {p["name"]: p.get("example") for p in calculated["parameters"]}["IntervalType"] == "min"
    restream = document["paths"]["/v1/restream"]["post"]["requestBody"]["content"]["application/json"]["example"]
    assert restream == {"receiver_1": [{"asset": "asset_38", "stream_type": "quality"}]}


def test_openapi_json_needs_credentials_and_docs_is_a_page(edge_server, client):
    assert client.get("/openapi.json", auth=False).status == 401
    served = client.get("/openapi.json")
    assert served.status == 200 and served.json == describe()
    page = client.get("/docs", auth=False)
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert b"/docs/docs.js" in page.body
    # Only its own script runs in it, and no other site frames it.
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self';")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    script = client.get("/docs/docs.js", auth=False)
    assert script.status == 200 and b"openapi.json" in script.body
