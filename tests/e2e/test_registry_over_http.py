"""Spec 000's curl examples, adapted to /registry, against the running local stack."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.stack import client
from tests.support import make_asset

pytestmark = pytest.mark.e2e


def spec_asset(asset_id: str) -> dict[str, object]:
    return make_asset(asset_id, policies=[], files=[], index_mappings=[])


def test_spec_walkthrough(stack_url: str) -> None:
    asset_id = f"asset-{uuid.uuid4().hex[:8]}"
    with client(stack_url, timeout=10) as http:
        # POST /assets
        created = http.post("/registry/assets", json=spec_asset(asset_id))
        assert created.status_code == 201, created.text
        assert http.post("/registry/assets", json=spec_asset(asset_id)).status_code == 400
        # PUT /assets/<asset_id>
        updated = http.put(
            f"/registry/assets/{asset_id}", json={"asset_brief_description": "Updated description"}
        )
        assert updated.json()["asset_brief_description"] == "Updated description"
        # The REST queries
        assert http.get(f"/registry/query/by-id/{asset_id}").json()["asset_id"] == asset_id
        for path in (
            "/registry/query/by-type/model",
            "/registry/query/by-sub-type/llm",
            "/registry/query/by-tag/generative",
            "/registry/query/by-api-route/api/v1/generate",
        ):
            found = http.get(path)
            assert found.status_code == 200, path
            assert asset_id in [a["asset_id"] for a in found.json()["items"]], path
        search = http.post(
            "/registry/query/search",
            json={"asset_version": "v1", "profiles.asset_type": "model"},
        )
        assert asset_id in [a["asset_id"] for a in search.json()["items"]]
        # GraphQL
        gql = http.post(
            "/registry/graphql",
            json={
                "query": f'{{ getAssetById(assetId: "{asset_id}") {{ assetId assetUri '
                "assetVersion assetBriefDescription } }"
            },
        )
        assert gql.json()["data"]["getAssetById"]["assetBriefDescription"] == "Updated description"
        search_gql = http.post(
            "/registry/graphql",
            json={
                "query": "query($f: GenericScalar!) { searchAssets(filters: $f) "
                "{ assetId assetUri assetVersion } }",
                "variables": {"f": {"profiles.asset_sub_type": "llm"}},
            },
        )
        assert asset_id in [a["assetId"] for a in search_gql.json()["data"]["searchAssets"]]
        graphiql = http.get("/registry/graphql", headers={"Accept": "text/html"})
        assert graphiql.headers["content-type"].startswith("text/html")
        # DELETE /assets/<asset_id>
        assert http.delete(f"/registry/assets/{asset_id}").status_code == 200
        assert http.get(f"/registry/query/by-id/{asset_id}").status_code == 404


def test_hostile_requests_get_contract_errors(stack_url: str) -> None:
    with client(stack_url, timeout=10) as http:
        json_type = {"Content-Type": "application/json"}
        cases = [
            http.post("/registry/assets", content=b"{broken", headers=json_type),
            http.post("/registry/assets", json=[1]),
            http.post(
                "/registry/assets",
                content=b"{}",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ),
            http.post("/registry/query/search", json={"$where": "1"}),
            http.post("/registry/query/search", json={"asset_id": {"$regex": "^(a+)+$"}}),
            http.post("/registry/assets", json={"asset_description": "x" * (1024 * 1024 + 1)}),
            http.get("/registry/query/by-id/does-not-exist"),
            http.get("/registry/nowhere"),
            http.post("/registry/graphql", json={"query": "mutation { x }"}),
        ]
        statuses = [response.status_code for response in cases]
        assert statuses == [400, 400, 415, 400, 400, 413, 404, 404, 400]
        for response in cases:
            body = response.json()
            assert body["success"] is False
            assert body["error"]["code"].isupper()
            assert body["error"]["message"]


def test_prefix_documents(stack_url: str) -> None:
    with client(stack_url, timeout=10) as http:
        assert http.get("/registry/health").json() == {"status": "ok"}
        document = http.get("/registry/openapi.json").json()
        assert "/registry/query/search" in document["paths"]
        # The catch-all route is documented as the template a client calls.
        assert "/registry/query/by-api-route/{route}" in document["paths"]
        assert not [p for p in document["paths"] if ".+" in p]
        assert "swagger-ui" in http.get("/registry/docs").text
