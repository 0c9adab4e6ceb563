"""List answers stay under Lambda's 6 MB response limit: 7 assets of 1 MiB each came back as
one 7.3 MB page from GET /registry/assets and GraphQL searchAssets, which AWS cannot send."""

from __future__ import annotations

import json
from typing import Any

from assets_core.stores.factory import assets_store
from functions.registry_query.handler import handler as query_handler
from local.apigw import LocalContext
from tests.integration.test_registry_graphql import gql
from tests.support import event, make_asset

LAMBDA_RESPONSE_BYTES = 6 * 1000 * 1000


def seven_large_assets() -> list[str]:
    ids = [f"big-{n}" for n in range(7)]
    for asset_id in ids:  # stored directly: a request body is at most 1 MiB
        asset = make_asset(asset_id)
        asset["asset_metadata"] = {"blob": "x" * (1024 * 1024)}
        assets_store().insert(asset)
    return ids


def test_rest_pages_stop_at_the_byte_bound_and_the_cursor_continues() -> None:
    ids = seven_large_assets()
    seen: list[str] = []
    query: dict[str, str] = {"limit": "100"}
    for _ in range(10):
        request = event("apigw_registry_list_assets", query=query)
        result = query_handler(request, LocalContext("registry_query"))
        assert result["statusCode"] == 200
        assert len(result["body"].encode()) < LAMBDA_RESPONSE_BYTES
        body: dict[str, Any] = json.loads(result["body"])
        seen += [item["asset_id"] for item in body["items"]]
        if not body["next_cursor"]:
            break
        query = {"limit": "100", "cursor": body["next_cursor"]}
    assert seen == ids


def test_graphql_search_stays_under_the_limit() -> None:
    seven_large_assets()
    status, body = gql("{ searchAssets(limit: 100) { assetId } }")
    assert status == 200
    found = body["data"]["searchAssets"]
    assert 1 <= len(found) < 7  # the documents read are bounded by bytes, as REST pages are
