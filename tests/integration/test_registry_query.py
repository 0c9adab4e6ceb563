"""The query API group (spec 000) called with API Gateway v2 events."""

from __future__ import annotations

from typing import Any

import pytest

from assets_core.logic import assets
from assets_core.models.asset import Asset
from assets_core.stores.factory import assets_store, versions_store
from functions.registry_query.handler import handler
from local.apigw import LocalContext
from tests.support import event, invoke, make_asset


def seed(*items: dict[str, Any]) -> None:
    for item in items:
        assets.create(Asset.model_validate(item), store=assets_store(), versions=versions_store())


def profile(asset_id: str, asset_type: str, sub_type: str, tags: list[str]) -> dict[str, Any]:
    return {
        "asset_profile_id": f"p-{asset_id}",
        "asset_type": asset_type,
        "asset_sub_type": sub_type,
        "asset_id": asset_id,
        "asset_tags": tags,
    }


@pytest.fixture
def catalogue() -> None:
    seed(
        make_asset("asset-001"),
        make_asset(
            "asset-002",
            profiles=[profile("asset-002", "data", "image", ["sample"])],
            apis=[],
            asset_version="v2",
        ),
        make_asset(
            "asset-003",
            profiles=[profile("asset-003", "model", "vision", ["generative", "sample"])],
            apis=[{"asset_api_id": "x", "asset_id": "asset-003", "asset_api_route": "api/v2/see"}],
        ),
    )


def ids(body: dict[str, Any]) -> list[str]:
    return [item["asset_id"] for item in body["items"]]


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("apigw_registry_query_by_type", ["asset-001", "asset-003"]),
        ("apigw_registry_query_by_sub_type", ["asset-001"]),
        ("apigw_registry_query_by_tag", ["asset-001", "asset-003"]),
        ("apigw_registry_query_by_api_route", ["asset-001"]),
        ("apigw_registry_query_search", ["asset-001", "asset-003"]),
    ],
)
def test_spec_queries(name: str, expected: list[str]) -> None:
    status, body = invoke(handler, event(name))
    assert status == 200
    assert ids(body) == expected
    assert body["next_cursor"] is None
    assert all("_id" not in item for item in body["items"])


@pytest.mark.usefixtures("catalogue")
def test_api_route_matches_with_or_without_leading_slash() -> None:
    request = event(
        "apigw_registry_query_by_api_route",
        path="/registry/query/by-api-route/api/v2/see",
        path_parameters={"route": "api/v2/see"},
    )
    assert ids(invoke(handler, request)[1]) == ["asset-003"]


@pytest.mark.usefixtures("catalogue")
def test_by_id_and_get_asset() -> None:
    status, body = invoke(handler, event("apigw_registry_query_by_id"))
    assert (status, body["asset_id"]) == (200, "asset-001")
    status, body = invoke(handler, event("apigw_registry_get_asset"))
    assert (status, body["asset_id"]) == (200, "asset-001")
    missing = event(
        "apigw_registry_query_by_id",
        path="/registry/query/by-id/nope",
        path_parameters={"asset_id": "nope"},
    )
    status, body = invoke(handler, missing)
    assert status == 404
    assert body["error"]["code"] == "ASSET_NOT_FOUND"


def test_pages_follow_next_cursor_to_the_end() -> None:
    seed(*(make_asset(f"asset-{n:03d}") for n in range(7)))
    seen: list[str] = []
    query = {"limit": "3"}
    while True:
        status, body = invoke(handler, event("apigw_registry_query_by_type", query=query))
        assert status == 200
        seen += ids(body)
        if body["next_cursor"] is None:
            break
        query = {"limit": "3", "cursor": body["next_cursor"]}
    assert seen == [f"asset-{n:03d}" for n in range(7)]
    status, body = invoke(handler, event("apigw_registry_list_assets"))
    assert (len(body["items"]), body["next_cursor"] is not None) == (2, True)


@pytest.mark.parametrize(
    "query", [{"limit": "0"}, {"limit": "1001"}, {"limit": "many"}, {"cursor": "forged!"}]
)
def test_bad_paging_parameters_are_400(query: dict[str, str]) -> None:
    status, body = invoke(handler, event("apigw_registry_query_by_type", query=query))
    assert status == 400
    assert body["success"] is False


@pytest.mark.usefixtures("catalogue")
def test_search_with_operators() -> None:
    body: dict[str, Any] = {
        "$or": [{"asset_version": "v2"}, {"profiles.asset_sub_type": {"$regex": "^vis"}}]
    }
    status, result = invoke(handler, event("apigw_registry_query_search", body=body))
    assert (status, ids(result)) == (200, ["asset-002", "asset-003"])
    body = {"profiles": {"$elemMatch": {"asset_tags": {"$all": ["generative", "sample"]}}}}
    assert ids(invoke(handler, event("apigw_registry_query_search", body=body))[1]) == ["asset-003"]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"$where": "this.asset_id == 'x'"}, "$where"),
        (
            {"asset_id": {"$function": {"body": "return true", "args": [], "lang": "js"}}},
            "$function",
        ),
        ({"$expr": {"$eq": ["$asset_id", "x"]}}, "$expr"),
        ({"asset_id": {"$nope": 1}}, "$nope"),
    ],
)
def test_refused_operators_are_400_naming_the_operator(body: dict[str, Any], named: str) -> None:
    status, result = invoke(handler, event("apigw_registry_query_search", body=body))
    assert status == 400
    assert named in result["error"]["message"]


def test_filters_too_deep_or_too_large_are_400() -> None:
    deep: dict[str, Any] = {"a": 1}
    for _ in range(13):
        deep = {"$and": [deep]}
    status, result = invoke(handler, event("apigw_registry_query_search", body=deep))
    assert (status, result["error"]["code"]) == (400, "INVALID_FILTER")
    large = {"asset_id": {"$in": ["x" * 1000] * 70}}
    status, result = invoke(handler, event("apigw_registry_query_search", body=large))
    assert status == 400
    assert "65536" in result["error"]["message"]


@pytest.mark.parametrize("body", [[{"a": 1}], "text", 3, None])
def test_search_body_must_be_an_object(body: Any) -> None:
    status, result = invoke(handler, event("apigw_registry_query_search", body=body))
    assert status == 400
    assert result["success"] is False


def test_pathological_regex_is_refused_quickly() -> None:
    seed(make_asset("a" * 150))
    body = {"asset_id": {"$regex": "^(a+)+$"}}
    status, result = invoke(handler, event("apigw_registry_query_search", body=body))
    assert (status, result["error"]["code"]) == (400, "REGEX_NOT_ALLOWED")


def test_health_and_openapi_cover_every_rest_route_of_the_prefix() -> None:
    assert invoke(handler, event("apigw_registry_health")) == (200, {"status": "ok"})
    status, document = invoke(handler, event("apigw_registry_openapi"))
    assert status == 200
    paths = document["paths"]
    assert {"post", "get"} <= set(paths["/registry/assets"])
    assert {"put", "delete", "get"} <= set(paths["/registry/assets/{asset_id}"])
    assert "/registry/query/search" in paths
    docs = event("apigw_registry_openapi", path="/registry/docs")
    result = handler(docs, LocalContext("test"))
    assert result["statusCode"] == 200
    assert "swagger-ui" in result["body"]
