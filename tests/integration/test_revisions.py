"""No lost updates. Every record has a revision (its ETag); writes are
conditional on it, a stale If-Match is a 409, and writes without If-Match never overwrite
another writer's change (shown with 50 ms of store latency, on the MongoDB wire server)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from assets_core.config import get_settings
from assets_core.errors import InvalidFilter, RevisionConflict
from assets_core.keys import stored_url
from assets_core.logic import assetdb, assets, components
from assets_core.logic.revisions import Precondition
from assets_core.models.asset import AssetUpdate
from assets_core.models.assetdb import AssetObjectUpdate
from assets_core.stores.documents import REVISION, Versioned
from assets_core.stores.factory import (
    assetdb_store,
    assets_store,
    components_store,
    versions_store,
)
from functions.assetdb.handler import handler as assetdb_handler
from functions.components.handler import handler as components_handler
from functions.dbregistry.handler import handler as dbregistry_handler
from functions.registry_query.handler import handler as query_handler
from functions.registry_write.handler import handler as write_handler
from local.apigw import LocalContext
from tests.support import event, make_asset

BUCKET_URL = stored_url(get_settings().bucket_name)

LATENCY = 0.05


def call(handler: Any, request: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
    result = handler(request, LocalContext("test"))
    body = json.loads(result.get("body") or "null")
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    return result["statusCode"], body, headers


def put_asset(changes: dict[str, Any], if_match: str | None = None) -> tuple[int, Any, dict]:
    headers = {"If-Match": if_match} if if_match is not None else None
    return call(write_handler, event("apigw_registry_put_asset", body=changes, headers=headers))


def get_asset(asset_id: str = "asset-001") -> tuple[int, Any, dict[str, str]]:
    request = event(
        "apigw_registry_get_asset",
        path=f"/registry/assets/{asset_id}",
        path_parameters={"asset_id": asset_id},
    )
    return call(query_handler, request)


def create_asset(**overrides: Any) -> dict[str, str]:
    status, _, headers = call(
        write_handler, event("apigw_registry_post_assets", body=make_asset(**overrides))
    )
    assert status == 201
    return headers


class Slow:
    """A store whose reads take ``LATENCY``: the window in which a concurrent write lands."""

    def __init__(self, inner: Any, after_read: Any = None) -> None:
        self.inner = inner
        self.key_field = inner.key_field
        self.after_read = after_read

    def read(self, key: str) -> Versioned | None:
        found = self.inner.read(key)
        time.sleep(LATENCY)
        if self.after_read is not None:
            hook, self.after_read = self.after_read, None
            hook()
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def together(*work: Any) -> None:
    threads = [threading.Thread(target=w) for w in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)


# -- ETags and If-Match over HTTP ----------------------------------------------------------


def test_reads_and_writes_answer_the_revision_as_an_etag() -> None:
    assert create_asset()["etag"] == '"1"'
    status, body, headers = get_asset()
    assert (status, headers["etag"]) == (200, '"1"')
    assert REVISION not in body
    status, body, headers = put_asset({"asset_brief_description": "second"}, if_match='"1"')
    assert (status, headers["etag"], body["asset_brief_description"]) == (200, '"2"', "second")
    assert REVISION not in body
    assert get_asset()[2]["etag"] == '"2"'


def test_a_stale_if_match_is_409_and_changes_nothing() -> None:
    create_asset()
    put_asset({"asset_brief_description": "someone else"})
    status, body, _ = put_asset({"asset_brief_description": "mine"}, if_match='"1"')
    assert status == 409
    assert body["error"]["code"] == "REVISION_CONFLICT"
    assert 'it is now "2"' in body["error"]["message"]
    current = get_asset()
    assert current[1]["asset_brief_description"] == "someone else"
    assert current[2]["etag"] == '"2"'


@pytest.mark.parametrize(
    ("header", "status"),
    [('"1"', 200), ('"7", "1"', 200), ("*", 200), ('W/"1"', 409), ('"9"', 409)],
)
def test_if_match_forms(header: str, status: int) -> None:
    create_asset()
    assert put_asset({"asset_brief_description": "x"}, if_match=header)[0] == status


@pytest.mark.parametrize("header", ["1", '"1', "", '"a"b"', "x" * 2000])
def test_a_malformed_if_match_is_400(header: str) -> None:
    create_asset()
    status, body, _ = put_asset({"asset_brief_description": "x"}, if_match=header)
    assert (status, body["error"]["code"]) == (400, "INVALID_IF_MATCH")
    assert get_asset()[2]["etag"] == '"1"'


def test_a_delete_with_a_stale_if_match_keeps_the_asset() -> None:
    create_asset()
    put_asset({"asset_brief_description": "newer"})
    request = event("apigw_registry_delete_asset", headers={"If-Match": '"1"'})
    assert call(write_handler, request)[0] == 409
    assert get_asset()[0] == 200
    request = event("apigw_registry_delete_asset", headers={"If-Match": '"2"'})
    assert call(write_handler, request)[0] == 200
    assert get_asset()[0] == 404


def test_a_record_stored_before_revisions_reads_as_revision_zero() -> None:
    create_asset()
    assets_store().unscoped.collection.update_one(
        {"asset_id": "asset-001"}, {"$unset": {REVISION: ""}}
    )
    assert get_asset()[2]["etag"] == '"0"'
    status, _, headers = put_asset({"asset_brief_description": "x"}, if_match='"0"')
    assert (status, headers["etag"]) == (200, '"1"')


def test_the_revision_is_no_field_a_client_can_set_or_see() -> None:
    create_asset()
    listed = call(query_handler, event("apigw_registry_list_assets"))[1]["items"]
    assert all(REVISION not in item for item in listed)
    with pytest.raises(InvalidFilter, match="server's revision"):
        assets_store().update("asset-001", {"$set": {REVISION: 99}})


# -- Lost updates under latency ---------------------------------------------------------------


def test_concurrent_updates_without_if_match_both_survive() -> None:
    create_asset()
    store = Slow(assets_store())
    first = AssetUpdate.model_validate({"asset_brief_description": "from the first writer"})
    second = AssetUpdate.model_validate({"asset_workflow_id": "wf-2"})
    together(
        lambda: assets.update(
            "asset-001", first, store=store, versions=versions_store(), bucket_url=BUCKET_URL
        ),
        lambda: assets.update(
            "asset-001", second, store=store, versions=versions_store(), bucket_url=BUCKET_URL
        ),
    )
    _, body, headers = get_asset()
    assert body["asset_brief_description"] == "from the first writer"
    assert body["asset_workflow_id"] == "wf-2"
    assert headers["etag"] == '"3"'


def test_concurrent_updates_with_the_same_if_match_one_wins_one_gets_409() -> None:
    create_asset()
    store = Slow(assets_store())
    outcomes: list[str] = []

    def attempt(text: str) -> None:
        patch = AssetUpdate.model_validate({"asset_brief_description": text})
        try:
            assets.update(
                "asset-001",
                patch,
                store=store,
                versions=versions_store(),
                bucket_url=BUCKET_URL,
                precondition=Precondition.parse('"1"'),
            )
            outcomes.append("written")
        except RevisionConflict:
            outcomes.append("409")

    together(lambda: attempt("a"), lambda: attempt("b"))
    assert sorted(outcomes) == ["409", "written"]
    assert get_asset()[2]["etag"] == '"2"'


@pytest.mark.usefixtures("s3")
def test_an_assetdb_update_racing_the_upload_completion_loses_neither() -> None:
    # Given a pending record from a presigned upload
    metadata = {"asset_name": "raced", "asset_version": {"version": "1", "tag": "t"}}
    body = {"filename": "w.bin", "size": 3, "asset_metadata": metadata}
    status, ticket, _ = call(
        assetdb_handler, event("apigw_assetdb_upload_asset_presigned", body=body)
    )
    assert status == 201, ticket
    asset_id, key = ticket["asset_id"], ticket["upload"]["fields"]["key"]
    real = assetdb_store()

    def complete() -> None:
        assetdb.complete_upload(key, size=3, sha256="a" * 64, md5="b" * 32, store=real)

    # When the upload completes while an update is between its read and its write
    store = Slow(real, after_read=complete)
    patch = AssetObjectUpdate.model_validate({"asset_tags": ["after"]})
    updated = assetdb.update_record(asset_id, patch, store=store)
    # Then the record has both: the update's tags and the completed file
    stored = real.read(asset_id)
    assert stored is not None
    assert stored.document["asset_tags"] == ["after"]
    assert stored.document["asset_file_info"]["status"] == "available"
    assert stored.document["asset_file_info"]["sha256"] == "a" * 64
    assert updated.revision == stored.revision


@pytest.mark.usefixtures("s3")
def test_assetdb_and_dbregistry_reads_carry_etags_and_honour_if_match() -> None:
    body = {"asset_name": "etag", "asset_version": {"version": "1", "tag": "t"}}
    request = event("apigw_assetdb_create_external", body=body)
    assert call(assetdb_handler, request)[0] == 201
    got = call(
        assetdb_handler,
        event(
            "apigw_assetdb_get_asset",
            path="/assetdb/asset/etag:1-t",
            path_parameters={"asset_uri": "etag:1-t"},
        ),
    )
    assert got[2]["etag"] == '"1"'
    stale = event(
        "apigw_assetdb_put_asset",
        path="/assetdb/asset/etag:1-t",
        path_parameters={"asset_uri": "etag:1-t"},
        body={"asset_tags": ["x"]},
        headers={"If-Match": '"5"'},
    )
    assert call(assetdb_handler, stale)[0] == 409
    status, created, _ = call(dbregistry_handler, event("apigw_dbregistry_create"))
    assert status == 201
    registry_id = created["asset_registry_id"]
    put = event(
        "apigw_dbregistry_put",
        path=f"/dbregistry/asset_registry/{registry_id}",
        path_parameters={"registry_id": registry_id},
        headers={"If-Match": '"1"'},
    )
    status, _, headers = call(dbregistry_handler, put)
    assert (status, headers["etag"]) == (200, '"2"')
    assert call(dbregistry_handler, put)[0] == 409


# -- Components: validated before the write, never rolled back ---------------------------------


def register_component() -> str:
    status, body, _ = call(components_handler, event("apigw_components_register"))
    assert status == 201
    uri: str = body["componentURI"]
    return uri


@pytest.mark.parametrize(
    "update",
    [
        {"$unset": {"componentType": ""}},
        {"$set": {"componentMetadata": "not an object"}},
        {"$inc": {"componentMetadata.n": "x"}},
        {"$push": {"componentMetadata": 1}},
    ],
)
def test_an_invalid_component_update_never_touches_the_record(update: dict[str, Any]) -> None:
    uri = register_component()
    store = components_store()
    before = store.read(uri)
    request = event("apigw_components_update", body={"uri": uri, "data": update})
    status, body, _ = call(components_handler, request)
    assert status == 400, body
    after = store.read(uri)
    assert after == before  # same document, same revision: no write and no rollback


def test_a_component_update_and_a_concurrent_one_both_survive() -> None:
    uri = register_component()
    store = Slow(components_store())
    together(
        lambda: components.update(
            uri,
            {"$set": {"componentMetadata.a": 1}},
            store=store,
        ),
        lambda: components.update(
            uri,
            {"$set": {"componentMetadata.b": 2}},
            store=store,
        ),
    )
    stored = components_store().read(uri)
    assert stored is not None
    metadata = stored.document["componentMetadata"]
    assert (metadata["a"], metadata["b"]) == (1, 2)
    assert stored.revision == 3
    collection = components_store().unscoped.collection
    leftovers = collection.database[collection.name + "__preview"]
    assert leftovers.count_documents({}) == 0
