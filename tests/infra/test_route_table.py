"""One route table: the handlers serve exactly its routes and the local gateway dispatches
each of them to the right handler."""

from __future__ import annotations

import importlib
import re

import pytest

from assets_core.routes import API_GROUPS, ApiGroup, Route, all_routes, find_route
from local.apigw import http_api_event
from tests.support import invoke


def example_path(route: Route) -> str:
    path = re.sub(r"\{(\w+)\+\}", "a/b/c", route.path)
    return re.sub(r"\{(\w+)\}", r"sample-\1", path)


def served_routes(group: ApiGroup) -> set[tuple[str, str]]:
    """The (method, API Gateway path) pairs the group's resolver registers."""
    app = importlib.import_module(group.module).app
    greedy = {r.path.rsplit("/", 1)[0]: r.path for r in group.routes if r.path.endswith("+}")}
    served = set()
    for route in app._static_routes + app._dynamic_routes:
        path = re.sub(r"<(\w+)>", r"{\1}", route.path)
        if path.endswith("/.+"):
            path = greedy.get(path[:-3], path)
        served.add((route.method, path))
    return served


@pytest.mark.parametrize("group", API_GROUPS, ids=lambda g: g.name)
def test_each_handler_serves_exactly_its_routes(group: ApiGroup) -> None:
    expected = {(route.method, route.path) for route in group.routes}
    assert served_routes(group) == expected


@pytest.mark.parametrize(
    ("group", "route"), all_routes(), ids=lambda v: getattr(v, "route_key", "")
)
def test_gateway_dispatches_every_route_to_its_handler(group: ApiGroup, route: Route) -> None:
    path = example_path(route)
    found = find_route(route.method, path)
    assert found is not None
    assert (found[0].name, found[1]) == (group.name, route)
    handler = importlib.import_module(group.module).handler
    event = http_api_event(
        method=route.method,
        raw_path=path,
        route_key=route.route_key,
        path_parameters=found[2],
        body=b"{}",
        headers=[("content-type", "application/json")],
    )
    status, body = invoke(handler, event)
    assert not (status == 404 and body["error"]["code"] == "ROUTE_NOT_FOUND")


def test_route_keys_are_unique_and_prefixed() -> None:
    keys = [route.route_key for _, route in all_routes()]
    assert len(keys) == len(set(keys))
    for group in API_GROUPS:
        assert all(route.path.startswith(group.prefix + "/") for route in group.routes)


def test_literal_routes_win_over_parameters() -> None:
    found = find_route("GET", "/registry/query/by-api-route/x/y")
    assert found is not None
    assert found[2] == {"route": "x/y"}
    assert find_route("GET", "/registry/nowhere") is None
    assert find_route("PATCH", "/registry/assets/x") is None
