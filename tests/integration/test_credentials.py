"""A container registry's credentials are write-only: every read path answers
``{"redacted": true}`` in their place (REST reads and lists, the write answers, GraphQL, the
ZIP's asset.json), the stored document keeps them, and an update that sends back what a read
showed leaves them as they are."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from assets_core.stores.factory import assets_store
from functions.registry_download.handler import stream
from functions.registry_graphql.handler import handler as graphql_handler
from functions.registry_query.handler import handler as query_handler
from functions.registry_write.handler import handler as write_handler
from local.apigw import LocalContext
from tests.integration.test_registry_zip import function_url_event, redirect_for
from tests.support import event, invoke, make_asset

pytestmark = pytest.mark.usefixtures("s3", "status")
CREDS = {"username": "robot", "password": "s3cret-token"}
REDACTED = {"redacted": True}


def created() -> dict[str, Any]:
    document = make_asset("creds-1", asset_container_registry_creds_config=CREDS)
    status, body = invoke(write_handler, event("apigw_registry_post_assets", body=document))
    assert status == 201, body
    return body


def at(name: str, path: str, **params: str) -> dict[str, Any]:
    return event(name, path=path, path_parameters=params or None)


def test_every_read_shows_the_credentials_redacted() -> None:
    assert created()["asset_container_registry_creds_config"] == REDACTED
    reads = [
        at("apigw_registry_get_asset", "/registry/assets/creds-1", asset_id="creds-1"),
        at("apigw_registry_query_by_id", "/registry/query/by-id/creds-1", asset_id="creds-1"),
    ]
    for request in reads:
        status, body = invoke(query_handler, request)
        assert status == 200
        assert body["asset_container_registry_creds_config"] == REDACTED
    lists = [
        event("apigw_registry_list_assets"),
        event("apigw_registry_query_search", body={"asset_id": "creds-1"}),
    ]
    for request in lists:
        status, body = invoke(query_handler, request)
        [item] = [i for i in body["items"] if i["asset_id"] == "creds-1"]
        assert item["asset_container_registry_creds_config"] == REDACTED
    assert "s3cret-token" not in json.dumps([invoke(query_handler, r)[1] for r in reads + lists])
    # The stored document keeps them, for the deployments that pull the image
    stored = assets_store().get("creds-1")
    assert stored is not None
    assert stored["asset_container_registry_creds_config"] == CREDS


def test_graphql_shows_them_redacted() -> None:
    created()
    query = '{ getAssetById(assetId: "creds-1") { assetContainerRegistryCredsConfig } }'
    request = event("apigw_registry_graphql_post", body={"query": query})
    status, body = invoke(graphql_handler, request)
    assert status == 200, body
    assert body["data"]["getAssetById"]["assetContainerRegistryCredsConfig"] == REDACTED


def test_an_update_sending_back_the_redacted_value_keeps_them() -> None:
    shown = created()
    request = event(
        "apigw_registry_put_asset",
        path="/registry/assets/creds-1",
        path_parameters={"asset_id": "creds-1"},
        body={
            "asset_container_registry_creds_config": shown["asset_container_registry_creds_config"],
            "asset_brief_description": "edited",
        },
    )
    status, body = invoke(write_handler, request)
    assert status == 200, body
    assert body["asset_container_registry_creds_config"] == REDACTED
    stored = assets_store().get("creds-1")
    assert stored is not None
    assert stored["asset_container_registry_creds_config"] == CREDS
    assert stored["asset_brief_description"] == "edited"


def test_the_zips_asset_json_shows_them_redacted() -> None:
    created()
    _, _, headers = redirect_for("creds-1")
    response = stream(function_url_event(headers["Location"]), LocalContext("download"))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.body)))
    document = json.loads(archive.read("asset.json"))
    assert document["asset_container_registry_creds_config"] == REDACTED
