"""A container registry's credentials are write-only: every read path answers
``{"redacted": true}`` in their place (REST reads and lists, the write answers, GraphQL, the
ZIP's asset.json), and an update that sends back what a read showed leaves them as they are.
They are kept in Secrets Manager (LocalStack's, as the stack deploys them) with only the
secret's ARN in the document, and read back by the owner's (or an admin's) route alone."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from assets_core.config import get_settings
from assets_core.errors import StoreUnavailable
from assets_core.keys import CREDENTIALS_SECRET_PREFIX
from assets_core.logic.credentials import SECRET_REF
from assets_core.stores import vault as vault_module
from assets_core.stores.factory import assets_store
from functions.ingest import handler as ingest_module
from functions.registry_download.handler import stream
from functions.registry_graphql.handler import handler as graphql_handler
from functions.registry_query.handler import handler as query_handler
from functions.registry_write.handler import handler as write_handler
from local.apigw import LocalContext
from tests.integration.test_ingest import sqs_event, status_of, upload
from tests.integration.test_registry_zip import function_url_event, redirect_for
from tests.integration.test_storage_pointers import put
from tests.integration.test_versions import delete
from tests.support import bundle_asset, caller, event, invoke, make_asset, zip_bytes

pytestmark = pytest.mark.usefixtures("s3", "status")
CREDS = {"username": "robot", "password": "s3cret-token"}
REDACTED = {"redacted": True}
ALICE = caller("alice", "assets-writer")
BOB = caller("bob", "assets-writer")


def created(by: Any = None, **overrides: Any) -> dict[str, Any]:
    fields = {"asset_container_registry_creds_config": CREDS, **overrides}
    document = make_asset("creds-1", **fields)
    request = event("apigw_registry_post_assets", body=document, caller=by)
    status, body = invoke(write_handler, request)
    assert status == 201, body
    return body


def secrets() -> Any:
    """Secrets Manager itself (the endpoint the session set), beside the vault."""
    import boto3

    return boto3.client("secretsmanager")


def live_secrets() -> list[str]:
    """The ARNs of the credentials secrets not scheduled for deletion."""
    listing = secrets().list_secrets(
        Filters=[{"Key": "name", "Values": [CREDENTIALS_SECRET_PREFIX]}], MaxResults=100
    )
    return sorted(s["ARN"] for s in listing["SecretList"] if "DeletedDate" not in s)


@pytest.fixture(autouse=True)
def no_secrets_left() -> Any:
    """Each test starts and ends with no live credentials secret (deleted ones are only
    scheduled for deletion, and are not counted)."""
    for arn in live_secrets():
        secrets().delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    yield
    for arn in live_secrets():
        secrets().delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)


def credentials_of(asset_id: str, by: Any = None) -> tuple[int, Any]:
    request = event(
        "apigw_registry_get_credentials",
        path=f"/registry/assets/{asset_id}/credentials",
        path_parameters={"asset_id": asset_id},
        caller=by,
    )
    return invoke(write_handler, request)


def deleted(asset_id: str, by: Any = None) -> int:
    request = event(
        "apigw_registry_delete_asset",
        path=f"/registry/assets/{asset_id}",
        path_parameters={"asset_id": asset_id},
        caller=by,
    )
    return invoke(write_handler, request)[0]


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
    # The stored document names the secret that keeps them; no read shows the name
    stored = assets_store().get("creds-1")
    assert stored is not None
    assert stored["asset_container_registry_creds_config"] == REDACTED
    assert stored[SECRET_REF] == live_secrets()[0]
    assert SECRET_REF not in json.dumps([invoke(query_handler, r)[1] for r in reads + lists])
    value = secrets().get_secret_value(SecretId=stored[SECRET_REF])["SecretString"]
    assert json.loads(value) == CREDS


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
    assert stored["asset_brief_description"] == "edited"
    assert credentials_of("creds-1")[1]["asset_container_registry_creds_config"] == CREDS
    assert len(live_secrets()) == 1


def test_the_zips_asset_json_shows_them_redacted() -> None:
    created()
    _, _, headers = redirect_for("creds-1")
    response = stream(function_url_event(headers["Location"]), LocalContext("download"))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.body)))
    document = json.loads(archive.read("asset.json"))
    assert document["asset_container_registry_creds_config"] == REDACTED


def test_the_owner_and_admins_read_them_and_nobody_else() -> None:
    created(by=ALICE, visibility="public")
    assert credentials_of("creds-1", ALICE) == (
        200,
        {"asset_id": "creds-1", "asset_container_registry_creds_config": CREDS},
    )
    status, body = credentials_of("creds-1")  # the recorded events' admin
    assert (status, body["asset_container_registry_creds_config"]) == (200, CREDS)
    status, body = credentials_of("creds-1", BOB)  # sees the public asset, may not change it
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    assert "s3cret" not in json.dumps(body)
    status, body = credentials_of("creds-1", caller("carol", "assets-reader"))
    assert status == 403
    assert credentials_of("creds-1", caller(None))[0] == 401
    assert credentials_of("no-such-asset", ALICE)[0] == 404


def test_a_private_assets_credentials_are_not_found_for_others() -> None:
    created(by=ALICE, visibility="private")
    status, body = credentials_of("creds-1", BOB)
    assert (status, body["error"]["code"]) == (404, "ASSET_NOT_FOUND")


def test_new_credentials_replace_the_secret_and_delete_the_old_one() -> None:
    created(by=ALICE)
    [first] = live_secrets()
    status, body = put("creds-1", {"asset_container_registry_creds_config": {"token": "t2"}}, ALICE)
    assert status == 200, body
    assert body["asset_container_registry_creds_config"] == REDACTED
    [second] = live_secrets()
    assert second != first
    assert credentials_of("creds-1", ALICE)[1]["asset_container_registry_creds_config"] == {
        "token": "t2"
    }
    # Cleared: no secret left, and the route says there are none
    status, body = put("creds-1", {"asset_container_registry_creds_config": None}, ALICE)
    assert status == 200, body
    assert body["asset_container_registry_creds_config"] is None
    assert live_secrets() == []
    assert credentials_of("creds-1", ALICE)[1]["asset_container_registry_creds_config"] is None
    stored = assets_store().get("creds-1")
    assert stored is not None
    assert SECRET_REF not in stored


def test_a_refused_write_leaves_no_secret_behind() -> None:
    created(by=ALICE, visibility="public")
    # Another writer's update: 403, and the secret written for it is gone again
    status, _ = put("creds-1", {"asset_container_registry_creds_config": {"mine": "x"}}, BOB)
    assert status == 403
    # A second asset with a taken id: 400, and its secret is gone again
    document = make_asset("creds-1", asset_container_registry_creds_config={"other": "y"})
    request = event("apigw_registry_post_assets", body=document, caller=BOB)
    assert invoke(write_handler, request)[0] == 400
    [kept] = live_secrets()
    assert json.loads(secrets().get_secret_value(SecretId=kept)["SecretString"]) == CREDS


def purged(asset_id: str) -> int:
    """An admin's DELETE ...?purge=true: the asset removed for good at once."""
    return delete(asset_id, purge="true")[0]


def test_deleting_the_asset_keeps_its_secret_until_it_is_purged() -> None:
    created(by=ALICE)
    assert len(live_secrets()) == 1
    assert deleted("creds-1", ALICE) == 200
    assert len(live_secrets()) == 1, "restorable, with its credentials"
    assert purged("creds-1") == 200
    assert live_secrets() == []


def test_a_client_cannot_name_a_secret_or_search_for_one() -> None:
    document = make_asset("creds-1", **{SECRET_REF: "arn:aws:secretsmanager:x:1:secret:y"})
    request = event("apigw_registry_post_assets", body=document, caller=ALICE)
    status, body = invoke(write_handler, request)
    assert status == 400, body
    status, body = put("creds-1", {SECRET_REF: "arn:aws:secretsmanager:x:1:secret:y"}, ALICE)
    assert status in (400, 404)
    search = event("apigw_registry_query_search", body={SECRET_REF: {"$exists": True}})
    status, body = invoke(query_handler, search)
    assert (status, body["error"]["code"]) == (400, "FIELD_NOT_SEARCHABLE")


def test_credentials_too_large_for_a_secret_are_refused() -> None:
    document = make_asset("creds-1", asset_container_registry_creds_config={"k": "x" * 70_000})
    request = event("apigw_registry_post_assets", body=document, caller=ALICE)
    status, body = invoke(write_handler, request)
    assert (status, body["error"]["code"]) == (400, "CREDENTIALS_TOO_LARGE")
    assert live_secrets() == []
    assert assets_store().get("creds-1") is None


def test_an_unreachable_vault_is_503_and_stores_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    vault = vault_module.credentials_vault()
    assert vault is not None

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailable("The credentials vault did not answer; try again.")

    monkeypatch.setattr(vault, "put", refuse)
    document = make_asset("creds-1", asset_container_registry_creds_config=CREDS)
    request = event("apigw_registry_post_assets", body=document, caller=ALICE)
    status, body = invoke(write_handler, request)
    assert (status, body["error"]["code"]) == (503, "STORE_UNAVAILABLE")
    assert assets_store().get("creds-1") is None


def test_a_bundles_credentials_go_to_the_vault_too() -> None:
    asset = bundle_asset("creds-zip", asset_container_registry_creds_config=CREDS)
    upload_id = upload(zip_bytes({"asset.json": json.dumps(asset).encode(), "a.txt": b"a"}))
    ingest_module.ingest(sqs_event(upload_id), LocalContext("ingest"))
    assert status_of(upload_id)["status"] == "success", status_of(upload_id)
    stored = assets_store().get("creds-zip")
    assert stored is not None
    assert stored["asset_container_registry_creds_config"] == REDACTED
    assert stored[SECRET_REF] in live_secrets()
    status, body = credentials_of("creds-zip")
    assert (status, body["asset_container_registry_creds_config"]) == (200, CREDS)


def test_without_a_vault_they_stay_in_the_document(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "credentials_secret_prefix", "")
    vault_module.credentials_vault.cache_clear()
    created(by=ALICE)
    assert live_secrets() == []
    stored = assets_store().get("creds-1")
    assert stored is not None
    assert stored["asset_container_registry_creds_config"] == CREDS
    assert credentials_of("creds-1", ALICE)[1]["asset_container_registry_creds_config"] == CREDS
    vault_module.credentials_vault.cache_clear()


def all_secrets() -> list[str]:
    """Every credentials secret, those scheduled for deletion too."""
    listing = secrets().list_secrets(
        Filters=[{"Key": "name", "Values": [CREDENTIALS_SECRET_PREFIX]}],
        IncludePlannedDeletion=True,
        MaxResults=100,
    )
    return sorted(s["ARN"] for s in listing["SecretList"])


def test_a_write_the_caller_may_not_make_writes_no_secret_at_all() -> None:
    created(by=ALICE, visibility="public")
    before = all_secrets()
    assert put("creds-1", {"asset_container_registry_creds_config": {"x": "y"}}, BOB)[0] == 403
    assert put("no-such", {"asset_container_registry_creds_config": {"x": "y"}}, BOB)[0] == 404
    assert all_secrets() == before


def test_a_refused_create_deletes_its_secret_for_good() -> None:
    created(by=ALICE)
    before = all_secrets()
    document = make_asset("creds-1", asset_container_registry_creds_config={"other": "y"})
    request = event("apigw_registry_post_assets", body=document, caller=BOB)
    assert invoke(write_handler, request)[0] == 400
    assert all_secrets() == before  # not even scheduled for deletion: never stored


def test_the_redacted_marker_sent_on_create_stores_no_credentials() -> None:
    created(by=ALICE, asset_container_registry_creds_config=REDACTED)
    assert live_secrets() == []
    assert credentials_of("creds-1", ALICE)[1]["asset_container_registry_creds_config"] is None


def test_credentials_named_but_gone_from_the_vault_are_an_error_not_none() -> None:
    created(by=ALICE)
    [arn] = live_secrets()
    secrets().delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    status, body = credentials_of("creds-1", ALICE)
    assert (status, body["error"]["code"]) == (503, "STORE_UNAVAILABLE")
    assert arn not in json.dumps(body)


def test_a_purge_removes_the_secret_of_every_version() -> None:
    """Each version keeps the secret it was written with; replaced credentials' secret goes
    at once, the others when the asset is purged."""
    created(by=ALICE)
    body = {"asset_container_registry_creds_config": {"token": "newer"}}
    assert put("creds-1", body, ALICE)[0] == 200
    assert len(live_secrets()) == 1, "the replaced secret is deleted"
    second = make_asset(
        "creds-1", asset_version="v2", asset_container_registry_creds_config={"token": "v2"}
    )
    request = event(
        "apigw_registry_post_version",
        path="/registry/assets/creds-1/versions",
        path_parameters={"asset_id": "creds-1"},
        body=second,
        caller=ALICE,
    )
    assert invoke(write_handler, request)[0] == 201
    assert len(live_secrets()) == 2
    assert purged("creds-1") == 200
    assert live_secrets() == []
