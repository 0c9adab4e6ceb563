"""Every Assets DB record can be reached by its asset_id: one registered without a name,
version and tag has no asset_uri, and was out of reach of every per-record route."""

from __future__ import annotations

from typing import Any

import pytest

from functions.assetdb.handler import handler
from tests.support import event, invoke

pytestmark = pytest.mark.usefixtures("s3", "status")


def by_id(name: str, asset_id: str, **kwargs: Any) -> dict[str, Any]:
    """A per-record event of the URI form, sent to the id form instead."""
    path = f"/assetdb/asset-by-id/{asset_id}"
    request = event(name, path=path, path_parameters={"asset_id": asset_id}, **kwargs)
    request["routeKey"] = (
        f"{request['requestContext']['http']['method']} /assetdb/asset-by-id/{{asset_id}}"
    )
    return request


def test_a_record_without_uri_is_read_updated_and_deleted_by_id(s3: Any) -> None:
    body = {"filename": "weights.bin", "size": 1000, "asset_metadata": {"asset_name": "Weights"}}
    status, created = invoke(handler, event("apigw_assetdb_upload_asset_presigned", body=body))
    assert status == 201, created
    asset_id = created["asset_id"]
    assert created["asset_uri"] == ""

    status, found = invoke(handler, by_id("apigw_assetdb_get_asset", asset_id))
    assert (status, found["asset_id"], found["asset_metadata"]) == (200, asset_id, {})
    update = {"asset_tags": ["weights"], "asset_version": {"version": "2", "tag": "rc"}}
    status, updated = invoke(handler, by_id("apigw_assetdb_put_asset", asset_id, body=update))
    assert (status, updated["asset_tags"], updated["asset_uri"]) == (
        200,
        ["weights"],
        "Weights:2-rc",
    )
    status, deleted = invoke(handler, by_id("apigw_assetdb_delete_asset", asset_id))
    assert (status, deleted["deleted"], deleted["asset_id"]) == (200, True, asset_id)
    assert invoke(handler, by_id("apigw_assetdb_get_asset", asset_id))[0] == 404


def test_unknown_ids_are_404_on_every_id_route() -> None:
    for name, kwargs in (
        ("apigw_assetdb_get_asset", {}),
        ("apigw_assetdb_put_asset", {"body": {"asset_tags": ["x"]}}),
        ("apigw_assetdb_delete_asset", {}),
    ):
        status, body = invoke(handler, by_id(name, "no-such-id", **kwargs))
        assert status == 404, (name, body)
        assert body["error"]["code"] == "ASSET_NOT_FOUND"
