"""URL fields are checked when they are stored, not when they are used: no header injection
through a redirect, no health-check URL that fails only when checked; and searchAssets takes
no filter, as spec 000 and the contract say."""

from __future__ import annotations

from typing import Any

import pytest

from functions.assetdb.handler import handler as assetdb_handler
from functions.dbregistry.handler import handler as dbregistry_handler
from local.apigw import LocalContext
from tests.integration.test_registry_graphql import gql
from tests.integration.test_registry_write import create
from tests.support import event, invoke, make_asset

pytestmark = pytest.mark.usefixtures("s3", "status")
BAD_URLS = [
    pytest.param("http://h/x\r\nSet-Cookie: a=b", "control characters", id="crlf-injection"),
    pytest.param("http://h/x\x00y", "control characters", id="nul"),
    pytest.param("http://h/a b", "spaces", id="space"),
    pytest.param("http://h:99999/", "invalid port", id="port-past-65535"),
    pytest.param("http://h:0/", "invalid port", id="port-0"),
    pytest.param("http:///path", "host", id="no-host"),
]


@pytest.mark.parametrize(("url", "named"), BAD_URLS)
def test_an_external_asset_url_that_could_break_a_header_is_refused(url: str, named: str) -> None:
    body: dict[str, Any] = {
        "asset_name": "External",
        "asset_version": {"version": "1", "tag": "x"},
        "asset_public_url": url,
    }
    status, answer = invoke(assetdb_handler, event("apigw_assetdb_create_external", body=body))
    assert status == 400, answer
    assert "asset_public_url" in answer["error"]["message"]
    assert named in answer["error"]["message"]


def test_a_stored_external_url_redirects_with_one_location_header() -> None:
    body = {
        "asset_name": "External",
        "asset_version": {"version": "1", "tag": "x"},
        "asset_public_url": "https://example.com/files/model.onnx?v=1",
    }
    status, created = invoke(assetdb_handler, event("apigw_assetdb_create_external", body=body))
    assert status == 201, created
    request = event(
        "apigw_assetdb_asset_object",
        path=f"/assetdb/asset-object/{created['asset_id']}",
        path_parameters={"asset_id": created["asset_id"]},
    )
    result = assetdb_handler(request, LocalContext("assetdb"))
    assert result["statusCode"] == 307
    assert result["headers"]["Location"] == body["asset_public_url"]
    assert not any(k.lower() == "set-cookie" for k in result["headers"])


@pytest.mark.parametrize(("url", "named"), BAD_URLS)
def test_a_health_check_url_is_checked_at_registration(url: str, named: str) -> None:
    body = {"asset_registry_name": "r", "asset_registry_public_url": url}
    status, answer = invoke(dbregistry_handler, event("apigw_dbregistry_create", body=body))
    assert status == 400, answer
    assert named in answer["error"]["message"]


def test_search_assets_takes_no_filter_as_the_contract_says() -> None:
    assert create(make_asset("a-1"))[0] == 201
    assert create(make_asset("a-2"))[0] == 201
    status, body = gql("query($f: GenericScalar) { searchAssets(filters: $f) { assetId } }")
    assert status == 200, body
    assert "errors" not in body, body
    assert [a["assetId"] for a in body["data"]["searchAssets"]] == ["a-1", "a-2"]
    status, body = gql("{ searchAssets { assetId } }")
    assert [a["assetId"] for a in body["data"]["searchAssets"]] == ["a-1", "a-2"]
    status, body = gql(
        "query($f: GenericScalar) { searchAssets(filters: $f) { assetId } }",
        {"f": {"asset_id": "a-2"}},
    )
    assert [a["assetId"] for a in body["data"]["searchAssets"]] == ["a-2"]
