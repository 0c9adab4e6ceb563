"""The read-only GraphQL API group (spec 000) called with API Gateway v2 events."""

from __future__ import annotations

from typing import Any

import pytest

from assets_core.logic import assets
from assets_core.models.asset import Asset
from assets_core.stores.factory import assets_store, versions_store
from functions.registry_graphql.handler import handler
from local.apigw import LocalContext
from tests.support import event, invoke, make_asset


@pytest.fixture(autouse=True)
def catalogue() -> None:
    for n in range(3):
        asset = make_asset(f"asset-00{n + 1}", asset_brief_description=f"number {n + 1}")
        assets.create(Asset.model_validate(asset), store=assets_store(), versions=versions_store())


def gql(query: str, variables: dict[str, Any] | None = None) -> tuple[int, Any]:
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return invoke(handler, event("apigw_registry_graphql_post", body=body))


def test_spec_example_get_asset_by_id() -> None:
    status, body = invoke(handler, event("apigw_registry_graphql_post"))
    assert status == 200
    assert body["data"]["getAssetById"] == {
        "assetId": "asset-001",
        "assetUri": "models://example.com/asset-001",
        "assetVersion": "v1",
        "assetBriefDescription": "number 1",
    }


def test_lists_and_embedded_objects_without_sub_selection() -> None:
    status, body = gql('{ getAssetsByType(assetType: "model") { assetId profiles apis } }')
    assert status == 200
    found = body["data"]["getAssetsByType"]
    assert [a["assetId"] for a in found] == ["asset-001", "asset-002", "asset-003"]
    assert found[0]["profiles"][0]["asset_sub_type"] == "llm"
    for query in (
        '{ getAssetsByTag(tag: "generative", limit: 2) { assetId } }',
        '{ getAssetsBySubType(subType: "llm") { assetId indexMappings files } }',
        '{ getAssetsByApiRoute(route: "api/v1/generate") { assetId } }',
    ):
        status, body = gql(query)
        assert status == 200, body
        assert next(iter(body["data"].values()))


def test_search_assets_with_generic_scalar_variable_and_literal() -> None:
    query = "query($f: GenericScalar!) { searchAssets(filters: $f) { assetId } }"
    status, body = gql(query, {"f": {"profiles.asset_sub_type": "llm", "asset_id": "asset-002"}})
    assert (status, body["data"]["searchAssets"]) == (200, [{"assetId": "asset-002"}])
    status, body = gql('{ searchAssets(filters: {asset_version: "v1"}, limit: 1) { assetId } }')
    assert body["data"]["searchAssets"] == [{"assetId": "asset-001"}]


@pytest.mark.parametrize("operator", ["$where", "$function", "$expr", "$unknown"])
def test_refused_operators_are_400_naming_the_operator(operator: str) -> None:
    query = "query($f: GenericScalar!) { searchAssets(filters: $f) { assetId } }"
    status, body = gql(query, {"f": {operator: "x"}})
    assert status == 400
    assert operator in body["error"]["message"]
    assert body["errors"][0]["extensions"]["code"] == "OPERATOR_NOT_ALLOWED"


@pytest.mark.parametrize(
    "query",
    [
        'mutation { deleteAsset(assetId: "asset-001") }',
        "subscription { x }",
        "{ getAssetById(assetId: 1) { assetId } }",
        "{ nope }",
        "{ getAssetById(",
    ],
)
def test_mutations_and_malformed_queries_are_400(query: str) -> None:
    status, body = gql(query)
    assert status == 400
    assert body["success"] is False
    assert body["errors"]


@pytest.mark.parametrize(
    "raw", ["not json", "[]", '{"query": 5}', '{"query": "{ x }", "variables": [1]}']
)
def test_bad_request_bodies_are_400(raw: str) -> None:
    status, body = invoke(handler, event("apigw_registry_graphql_post", raw_body=raw))
    assert status == 400
    assert body["success"] is False


def test_cost_limit_counts_list_sizes() -> None:
    one = 'a%d: getAssetsByType(assetType: "model", limit: 1000) { assetId }'
    # Each costs 1000 (its limit) plus its fields: four fit in the default 5000, five do not.
    assert gql("{ " + " ".join(one % n for n in range(4)) + " }")[0] == 200
    status, body = gql("{ " + " ".join(one % n for n in range(5)) + " }")
    assert status == 400
    assert "maximum cost" in body["error"]["message"]


def test_depth_limit_applies_through_fragments() -> None:
    nested = '{ getAssetById(assetId: "asset-001") { ...A } } fragment A on Asset { assetId }'
    assert gql(nested)[0] == 200
    status, _body = gql("{ __schema { types { fields { type { ofType { ofType { name } } } } } } }")
    assert status == 200, "introspection is not counted, so GraphiQL works"


def test_depth_rule_refuses_deep_selections() -> None:
    from graphql import parse, validate

    from assets_core.graphql.common import depth_limit_rule
    from assets_core.graphql.registry import registry_schema

    document = parse(
        '{ getAssetById(assetId: "a") { ...A } } fragment A on Asset { assetId profiles }'
    )
    assert validate(registry_schema(), document, [depth_limit_rule(2)]) == []
    errors = validate(registry_schema(), document, [depth_limit_rule(1)])
    assert "nested 2 levels deep" in errors[0].message


def test_graphiql_on_get_with_html_accept() -> None:
    result = handler(event("apigw_registry_graphql_get_html"), LocalContext("test"))
    assert result["statusCode"] == 200
    assert result["headers"]["Content-Type"].startswith("text/html")
    assert "graphiql" in result["body"].lower()


def test_query_over_get() -> None:
    request = event(
        "apigw_registry_graphql_get_html",
        query={"query": '{ getAssetById(assetId: "asset-003") { assetId } }'},
        headers={"accept": "application/json"},
    )
    # GET serves the GraphiQL page to anyone, so a query there runs without a caller:
    # refused unless anonymous reads are on, and then it sees public assets only.
    status, body = invoke(handler, request)
    assert (status, body["error"]["code"]) == (401, "UNAUTHENTICATED")
    assert "goes by POST" in body["error"]["message"]


def test_query_over_get_with_anonymous_reads_sees_public_assets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from assets_core.config import get_settings

    assets_store().update("asset-003", {"$set": {"visibility": "public"}})
    monkeypatch.setenv("ANONYMOUS_READS", "true")
    get_settings.cache_clear()
    try:
        for asset_id, found in (("asset-003", "asset-003"), ("asset-001", None)):
            request = event(
                "apigw_registry_graphql_get_html",
                query={"query": f'{{ getAssetById(assetId: "{asset_id}") {{ assetId }} }}'},
                headers={"accept": "application/json"},
            )
            status, body = invoke(handler, request)
            assert status == 200, body
            shown = body["data"]["getAssetById"]
            assert (shown and shown["assetId"]) == found
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_aliases_cannot_multiply_root_lookups() -> None:
    # Before the cap, 10,000 aliased getAssetById in one request were 10,000 database lookups.
    lookups = " ".join(f'a{i}: getAssetById(assetId: "asset-001") {{ assetId }}' for i in range(11))
    status, body = gql(f"{{ {lookups} }}")
    assert status == 400
    assert "11 root fields" in body["error"]["message"]
    assert body["data"] is None
    ten = " ".join(f'a{i}: getAssetById(assetId: "asset-001") {{ assetId }}' for i in range(10))
    assert gql(f"{{ {ten} }}")[0] == 200


def test_fragments_spread_twice_count_twice_toward_the_root_cap() -> None:
    fragment = (
        "fragment F on Query { "
        + " ".join(f'x{i}: getAssetById(assetId: "a") {{ assetId }}' for i in range(6))
        + " }"
    )
    status, body = gql("{ ...F ... on Query { ...F } } " + fragment)
    assert status == 400
    assert "12 root fields" in body["error"]["message"]
    # Introspection (what GraphiQL sends) is not counted.
    assert gql("{ __schema { queryType { name } } __typename }")[0] == 200


def test_search_assets_continues_after_the_last_asset_id() -> None:
    query = "query($a: String) { searchAssets(filters: {}, limit: 2, after: $a) { assetId } }"
    first = gql(query)[1]["data"]["searchAssets"]
    assert [a["assetId"] for a in first] == ["asset-001", "asset-002"]
    rest = gql(query, {"a": first[-1]["assetId"]})[1]["data"]["searchAssets"]
    assert [a["assetId"] for a in rest] == ["asset-003"]
