"""A document the database cannot store is refused before any write, with a 400 naming the
field, and the stored record stays whole: an update never deletes it, and a bundle whose
asset.json the database would refuse fails with the reason instead of staying queued."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.assetdb.handler import handler as assetdb_handler
from functions.registry_write.handler import handler as write_handler
from tests.integration.test_assetdb import at
from tests.integration.test_ingest import run, status_of, upload
from tests.integration.test_registry_write import create, stored
from tests.support import bundle_asset, event, invoke, zip_bytes

pytestmark = pytest.mark.usefixtures("s3", "status")


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"n": value}
    return value


UNSTORABLE = [
    pytest.param({"n": 2**64}, "'asset_container_registry_creds_config.n'", id="65-bit-int"),
    pytest.param({"n": -(2**63) - 1}, "64 bits", id="below-int64"),
    pytest.param({"a\x00b": 1}, "NUL", id="nul-key"),
    pytest.param({"$where": 1}, "'$'", id="dollar-key"),
    pytest.param({"a.b": 1}, "'.'", id="dotted-key"),
    pytest.param({"s": "\ud800"}, "Unicode", id="lone-surrogate"),
    pytest.param(nested(150), "nested deeper", id="deep-nesting"),
]


@pytest.mark.parametrize(("creds", "named"), UNSTORABLE)
def test_registry_update_the_database_cannot_store_is_a_400_and_loses_nothing(
    creds: dict[str, Any], named: str
) -> None:
    assert create(bundle_asset("asset-001"))[0] == 201
    before = stored("asset-001")
    request = event("apigw_registry_put_asset")
    request["body"] = json.dumps({"asset_container_registry_creds_config": creds})
    status, body = invoke(write_handler, request)
    assert status == 400, body
    assert named in body["error"]["message"]
    assert stored("asset-001") == before


@pytest.mark.parametrize(("metadata", "named"), UNSTORABLE)
def test_assetdb_update_the_database_cannot_store_is_a_400_and_loses_nothing(
    metadata: dict[str, Any], named: str
) -> None:
    status, created = invoke(assetdb_handler, event("apigw_assetdb_upload_asset"))
    assert status == 201
    request = at("apigw_assetdb_put_asset")
    request["body"] = json.dumps({"asset_metadata": metadata})
    status, body = invoke(assetdb_handler, request)
    assert status == 400, body
    assert (
        named.replace("asset_container_registry_creds_config", "asset_metadata")
        in (body["error"]["message"])
    )
    assert invoke(assetdb_handler, event("apigw_assetdb_get_asset")) == (200, created)


@pytest.mark.parametrize(("creds", "named"), UNSTORABLE)
def test_a_bundle_the_database_cannot_store_fails_with_the_reason(
    creds: dict[str, Any], named: str
) -> None:
    asset = bundle_asset("unstorable-1", asset_container_registry_creds_config=creds)
    upload_id = upload(zip_bytes({"a.txt": b"x"}, asset=asset))
    assert run(upload_id) == {"batchItemFailures": []}
    record = status_of(upload_id)
    assert record["status"].startswith("failed: "), record
    assert named in record["status"]
