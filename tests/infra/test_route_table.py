"""One route table: the handlers serve exactly its routes and the local gateway dispatches
each of them to the right handler."""

from __future__ import annotations

import importlib
import re

import pytest

from assets_core import routes
from assets_core.routes import (
    API_GROUPS,
    REGISTRY,
    ApiGroup,
    Route,
    all_routes,
    find_route,
)
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


def resolved(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    found = find_route(method, path)
    return None if found is None else (found[1], found[2])


@pytest.mark.parametrize("literal_first", [True, False], ids=["literal first", "literal last"])
def test_literal_routes_win_over_parameters(
    monkeypatch: pytest.MonkeyPatch, literal_first: bool
) -> None:
    # Given a table where a literal segment, a parameter and a greedy parameter all match
    # GET /registry/assets/search, listed in either order
    literal = Route("GET", "/registry/assets/search")
    parameter = Route("GET", "/registry/assets/{asset_id}")
    greedy = Route("GET", "/registry/assets/{rest+}")
    colliding = (literal, parameter, greedy) if literal_first else (greedy, parameter, literal)
    group = ApiGroup(name="colliding", prefix=REGISTRY, routes=colliding)
    monkeypatch.setattr(routes, "API_GROUPS", (group,))
    assert all(route.match("GET", "/registry/assets/search") is not None for route in colliding)
    # Then the literal route serves its path, the parameter every other single segment, and
    # the greedy route only what the others cannot
    assert resolved("GET", "/registry/assets/search") == (literal, {})
    assert resolved("GET", "/registry/assets/a-1") == (parameter, {"asset_id": "a-1"})
    assert resolved("GET", "/registry/assets/search/x") == (greedy, {"rest": "search/x"})
    assert resolved("POST", "/registry/assets/search") is None
    # and without the literal route, the same path is the parameter's
    group = ApiGroup(name="distinct", prefix=REGISTRY, routes=(parameter, greedy))
    monkeypatch.setattr(routes, "API_GROUPS", (group,))
    assert resolved("GET", "/registry/assets/search") == (parameter, {"asset_id": "search"})


def test_the_real_table_resolves_literals_and_refuses_the_unknown() -> None:
    assert resolved("GET", "/registry/query/by-api-route/x/y") == (
        Route("GET", "/registry/query/by-api-route/{route+}"),
        {"route": "x/y"},
    )
    assert resolved("GET", "/registry/assets/x") == (
        Route("GET", "/registry/assets/{asset_id}"),
        {"asset_id": "x"},
    )
    assert find_route("GET", "/registry/nowhere") is None
    assert find_route("PATCH", "/registry/assets/x") is None
