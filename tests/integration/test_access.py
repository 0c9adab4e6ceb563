"""Identity and access through the handlers, with claims in the events exactly where API
Gateway's JWT authorizer puts them: who may call each route (401, 403), whose records each
caller sees (a private record is 404 to everyone else on every read path), who may change
them (owner or admin), and the fields only the server sets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from assets_core.config import get_settings
from assets_core.identity import ADMIN, READER, WRITER, Caller
from assets_core.routes import all_routes, is_public
from functions.assetdb.handler import handler as assetdb_handler
from functions.components.handler import handler as components_handler
from functions.dbregistry.handler import handler as dbregistry_handler
from functions.registry_graphql.handler import handler as graphql_handler
from functions.registry_query.handler import handler as query_handler
from functions.registry_write.handler import handler as write_handler
from functions.registry_zip.handler import handler as zip_handler
from local.apigw import LocalContext
from tests.integration.test_ingest import run
from tests.support import EVENTS, bundle_asset, caller, event, invoke, make_asset, zip_bytes

ALICE = caller("alice", WRITER)
BOB = caller("bob", WRITER)
RITA = caller("rita", READER)
ROOT = caller("root", ADMIN)
NOBODY = caller(None)

HANDLERS = {
    "registry_write": write_handler,
    "registry_query": query_handler,
    "registry_graphql": graphql_handler,
    "registry_zip": zip_handler,
    "assetdb": assetdb_handler,
    "components": components_handler,
    "dbregistry": dbregistry_handler,
}


def call(
    handler: Any,
    name: str,
    who: Caller,
    *,
    params: dict[str, str] | None = None,
    **changes: Any,
) -> tuple[int, Any]:
    """Send the recorded event ``name`` as ``who``, its path parameters set to ``params``."""
    request = event(name, caller=who, **changes)
    if params:
        template = request["routeKey"].split(" ", 1)[1]
        path = re.sub(r"\{(\w+)\+?\}", lambda m: params[m.group(1)], template)
        request["rawPath"] = request["requestContext"]["http"]["path"] = path
        request["pathParameters"] = params
    return invoke(handler, request)


def create_asset(who: Caller, asset_id: str, **fields: Any) -> dict[str, Any]:
    status, body = call(
        write_handler, "apigw_registry_post_assets", who, body=make_asset(asset_id, **fields)
    )
    assert status == 201, body
    return dict(body)


def update_asset(who: Caller, asset_id: str, body: dict[str, Any]) -> tuple[int, Any]:
    params = {"asset_id": asset_id}
    return call(write_handler, "apigw_registry_put_asset", who, params=params, body=body)


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Change settings by environment for one test."""
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


# -- who may call a route ------------------------------------------------------------------


def _recorded_events() -> list[tuple[str, str]]:
    """Every recorded event of a route that needs a token, with its function."""
    found = []
    by_key = {route.route_key: group.name for group, route in all_routes()}
    public = {route.route_key for _, route in all_routes() if is_public(route)}
    for path in sorted(EVENTS.glob("apigw_*.json")):
        request = event(path.stem)
        if request["routeKey"] not in public:
            found.append((path.stem, by_key[request["routeKey"]]))
    return found


@pytest.mark.parametrize(("name", "group"), _recorded_events())
def test_every_route_but_the_public_ones_needs_a_token(name: str, group: str) -> None:
    request = event(name, caller=NOBODY)
    result = HANDLERS[group](request, LocalContext("test"))
    assert result["statusCode"] == 401, result
    assert result["headers"]["WWW-Authenticate"].startswith("Bearer")
    assert '"code": "UNAUTHENTICATED"' in result["body"]


def test_the_public_routes_need_none() -> None:
    for name in ("apigw_registry_health", "apigw_registry_openapi", "apigw_assetdb_health"):
        handler = assetdb_handler if "assetdb" in name else query_handler
        status, _ = call(handler, name, NOBODY)
        assert status == 200


@pytest.mark.parametrize(
    ("group", "name"),
    [
        ("registry_write", "apigw_registry_post_assets"),
        ("registry_write", "apigw_registry_delete_asset"),
        ("registry_zip", "apigw_registry_zip_upload_presigned"),
        ("assetdb", "apigw_assetdb_create_external"),
        ("components", "apigw_components_register"),
        ("dbregistry", "apigw_dbregistry_create"),
    ],
)
def test_a_reader_may_not_write(group: str, name: str) -> None:
    status, body = call(HANDLERS[group], name, RITA)
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    assert "assets-writer" in body["error"]["message"]


def test_a_token_without_a_role_may_not_read() -> None:
    status, body = call(query_handler, "apigw_registry_list_assets", caller("nobody-in-particular"))
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")


def test_roles_come_from_scopes_as_a_machine_client_has_them() -> None:
    request = event("apigw_registry_list_assets", caller=NOBODY)
    request["requestContext"]["authorizer"] = {
        "jwt": {"claims": {"sub": "machine-1", "scope": "assets/assets-reader"}, "scopes": None}
    }
    status, _ = invoke(query_handler, request)
    assert status == 200


def test_anonymous_reads_when_turned_on_see_public_records_only(
    settings_env: pytest.MonkeyPatch,
) -> None:
    create_asset(ALICE, "open-one", visibility="public")
    create_asset(ALICE, "closed-one")
    settings_env.setenv("ANONYMOUS_READS", "true")
    get_settings.cache_clear()
    status, page = call(query_handler, "apigw_registry_list_assets", NOBODY)
    assert status == 200
    assert [item["asset_id"] for item in page["items"]] == ["open-one"]
    status, _ = call(
        query_handler, "apigw_registry_get_asset", NOBODY, params={"asset_id": "closed-one"}
    )
    assert status == 404
    # Writes still need a token.
    status, _ = call(write_handler, "apigw_registry_post_assets", NOBODY, body=make_asset("x"))
    assert status == 401


def test_an_open_deployment_lets_everyone_act_as_an_admin(
    settings_env: pytest.MonkeyPatch,
) -> None:
    settings_env.setenv("OPEN_ACCESS", "true")
    get_settings.cache_clear()
    created = create_asset(NOBODY, "demo-1")
    assert created["created_by"] == "anonymous"


# -- server-set fields -----------------------------------------------------------------------


def test_the_server_stamps_who_created_and_changed_a_record() -> None:
    created = create_asset(ALICE, "stamped-1")
    assert created["created_by"] == created["updated_by"] == "alice"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", created["created_at"])
    assert created["visibility"] == "private"
    status, updated = update_asset(ROOT, "stamped-1", {"asset_brief_description": "by root"})
    assert status == 200, updated
    assert (updated["created_by"], updated["updated_by"]) == ("alice", "root")
    assert updated["created_at"] == created["created_at"]
    assert updated["updated_at"] >= created["updated_at"]


@pytest.mark.parametrize("field", ["created_by", "created_at", "updated_by", "updated_at"])
def test_a_client_may_not_send_a_server_field(field: str) -> None:
    status, body = call(
        write_handler,
        "apigw_registry_post_assets",
        ALICE,
        body=make_asset("forged-1", **{field: "mallory"}),
    )
    assert status == 400
    assert f"'{field}' is set by the server" in body["error"]["message"]
    status, body = update_asset(ALICE, "forged-1", {field: "mallory"})
    assert status == 400
    for name, fields in (
        ("apigw_assetdb_create_external", {"asset_name": "n", field: "mallory"}),
        ("apigw_dbregistry_create", {"asset_registry_name": "r", field: "mallory"}),
    ):
        group = "assetdb" if "assetdb" in name else "dbregistry"
        status, body = call(HANDLERS[group], name, ALICE, body=fields)
        assert status == 400, body


def test_a_component_update_may_not_set_a_server_field() -> None:
    status, _ = call(components_handler, "apigw_components_register", ALICE)
    assert status == 201
    status, body = call(
        components_handler,
        "apigw_components_update",
        ALICE,
        body={"uri": "model.object-detector:2.0.0-stable", "data": {"$set": {"created_by": "m"}}},
    )
    assert (status, body["error"]["code"]) == (400, "FIELD_READ_ONLY")


# -- visibility: every read path -------------------------------------------------------------

# Each read path of the registry, as (handler, event, path parameters, what finds the asset).
REGISTRY_READS = [
    (query_handler, "apigw_registry_get_asset", {"asset_id": "secret-1"}),
    (query_handler, "apigw_registry_query_by_id", {"asset_id": "secret-1"}),
    (query_handler, "apigw_registry_list_assets", None),
    (query_handler, "apigw_registry_query_by_type", {"asset_type": "model"}),
    (query_handler, "apigw_registry_query_by_sub_type", {"sub_type": "llm"}),
    (query_handler, "apigw_registry_query_by_tag", {"tag": "generative"}),
    (query_handler, "apigw_registry_query_by_api_route", {"route": "api/v1/generate"}),
    (query_handler, "apigw_registry_query_search", None),
    (zip_handler, "apigw_registry_zip_download", {"asset_id": "secret-1"}),
    (zip_handler, "apigw_registry_zip_download_status", {"asset_id": "secret-1"}),
    (query_handler, "apigw_registry_list_files", {"asset_id": "secret-1"}),
]


def _finds(status: int, body: Any) -> bool:
    """Whether an answer of a read path shows the asset ``secret-1``."""
    if status == 404:
        return False
    assert status in (200, 307), body
    if status == 307 or "items" not in body or body.get("asset_id") == "secret-1":
        return True
    return any(item["asset_id"] == "secret-1" for item in body["items"])


def _graphql_finds(who: Caller) -> tuple[bool, bool]:
    query = '{ getAssetById(assetId: "secret-1") { assetId } searchAssets { assetId } }'
    status, body = call(graphql_handler, "apigw_registry_graphql_post", who, body={"query": query})
    assert status == 200, body
    data = body["data"]
    return data["getAssetById"] is not None, any(
        item["assetId"] == "secret-1" for item in data["searchAssets"]
    )


@pytest.mark.parametrize(("handler", "name", "params"), REGISTRY_READS)
def test_a_private_asset_is_invisible_to_others_on_every_read_path(
    handler: Any, name: str, params: dict[str, str] | None, s3: Any
) -> None:
    create_asset(ALICE, "secret-1")
    create_asset(BOB, "bobs-1", visibility="public")
    body = {"asset_version": "v1"} if name.endswith("search") else None
    extra = {"body": body} if body else {}
    for who, sees in ((ALICE, True), (ROOT, True), (BOB, False), (RITA, False)):
        status, answer = call(handler, name, who, params=params, **extra)
        assert _finds(status, answer) is sees, (who, status, answer)
        if not sees and status == 404:
            assert "secret-1" in answer["error"]["message"]  # as for an id never used


def test_a_private_asset_is_invisible_to_others_through_graphql() -> None:
    create_asset(ALICE, "secret-1")
    assert _graphql_finds(ALICE) == (True, True)
    assert _graphql_finds(ROOT) == (True, True)
    assert _graphql_finds(BOB) == (False, False)


def test_a_public_asset_is_seen_by_every_reader_but_changed_by_its_owner_only() -> None:
    create_asset(ALICE, "shown-1", visibility="public")
    status, _ = call(
        query_handler, "apigw_registry_get_asset", RITA, params={"asset_id": "shown-1"}
    )
    assert status == 200
    for name, extra in (
        ("apigw_registry_put_asset", {"body": {"asset_brief_description": "bob was here"}}),
        ("apigw_registry_delete_asset", {}),
    ):
        status, body = call(write_handler, name, BOB, params={"asset_id": "shown-1"}, **extra)
        assert (status, body["error"]["code"]) == (403, "FORBIDDEN"), body
    status, body = call(
        query_handler, "apigw_registry_get_asset", ALICE, params={"asset_id": "shown-1"}
    )
    assert body["asset_brief_description"] is None  # nothing changed
    status, _ = call(
        write_handler, "apigw_registry_delete_asset", ROOT, params={"asset_id": "shown-1"}
    )
    assert status == 200


def test_another_writer_cannot_learn_of_a_private_asset_by_changing_it() -> None:
    create_asset(ALICE, "secret-2")
    for name, extra in (
        ("apigw_registry_put_asset", {"body": {"asset_brief_description": "x"}}),
        ("apigw_registry_delete_asset", {}),
    ):
        status, body = call(write_handler, name, BOB, params={"asset_id": "secret-2"}, **extra)
        assert (status, body["error"]["code"]) == (404, "ASSET_NOT_FOUND")


def test_the_owner_may_publish_a_private_asset() -> None:
    create_asset(ALICE, "later-1")
    status, _ = update_asset(ALICE, "later-1", {"visibility": "public"})
    assert status == 200
    status, _ = call(query_handler, "apigw_registry_get_asset", BOB, params={"asset_id": "later-1"})
    assert status == 200


def test_default_visibility_is_configurable(settings_env: pytest.MonkeyPatch) -> None:
    settings_env.setenv("DEFAULT_VISIBILITY", "public")
    get_settings.cache_clear()
    assert create_asset(ALICE, "open-by-default")["visibility"] == "public"


# -- Assets DB records -------------------------------------------------------------------------


def create_record(who: Caller, name: str, **fields: Any) -> dict[str, Any]:
    body = {"asset_name": name, "asset_version": {"version": "1", "tag": "t"}, **fields}
    status, record = call(assetdb_handler, "apigw_assetdb_create_external", who, body=body)
    assert status == 201, record
    return dict(record)


def test_a_private_assetdb_record_is_invisible_to_others() -> None:
    record = create_record(ALICE, "hidden")
    uri, asset_id = record["asset_uri"], record["asset_id"]
    assert record["created_by"] == "alice"
    reads = [
        ("apigw_assetdb_get_asset", {"asset_uri": uri}, None),
        ("apigw_assetdb_asset_object", {"asset_id": asset_id}, None),
        ("apigw_assetdb_query_plain", None, {"asset_name": "hidden"}),
    ]
    for name, params, body in reads:
        extra = {"body": body} if body else {}
        for who, sees in ((ALICE, True), (ROOT, True), (BOB, False)):
            status, answer = call(assetdb_handler, name, who, params=params, **extra)
            if "items" in (answer if isinstance(answer, dict) else {}):
                assert bool(answer["items"]) is sees, (name, who)
            else:  # a record without a file answers 404 of its own to those who see it
                hidden = status == 404 and answer["error"]["code"] == "ASSET_NOT_FOUND"
                assert hidden is not sees, (name, who, status, answer)
    status, _ = call(assetdb_handler, "apigw_assetdb_delete_asset", BOB, params={"asset_uri": uri})
    assert status == 404


def test_a_public_assetdb_record_is_changed_by_its_owner_only() -> None:
    record = create_record(ALICE, "shown", visibility="public")
    uri = record["asset_uri"]

    def tag(who: Caller, tags: list[str]) -> tuple[int, Any]:
        params = {"asset_uri": uri}
        body = {"asset_tags": tags}
        return call(assetdb_handler, "apigw_assetdb_put_asset", who, params=params, body=body)

    status, body = tag(BOB, ["bob"])
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    status, body = call(
        assetdb_handler, "apigw_assetdb_delete_asset", BOB, params={"asset_uri": uri}
    )
    assert status == 403
    status, body = tag(ALICE, ["alice"])
    assert status == 200
    assert (body["created_by"], body["updated_by"], body["asset_tags"]) == (
        "alice",
        "alice",
        ["alice"],
    )


# -- components and registrations: every reader sees them, their owner changes them ------------


def test_a_component_is_changed_by_its_owner_or_an_admin() -> None:
    status, registered = call(components_handler, "apigw_components_register", ALICE)
    assert status == 201
    assert registered["created_by"] == "alice"
    status, _ = call(components_handler, "apigw_components_get_by_uri", RITA)
    assert status == 200
    for name in (
        "apigw_components_update",
        "apigw_components_add_metadata",
        "apigw_components_unregister",
    ):
        status, body = call(components_handler, name, BOB)
        assert (status, body["error"]["code"]) == (403, "FORBIDDEN"), name
    status, updated = call(components_handler, "apigw_components_update", ROOT)
    assert status == 200, updated
    assert (updated["created_by"], updated["updated_by"]) == ("alice", "root")
    status, _ = call(components_handler, "apigw_components_unregister", ALICE)
    assert status == 200


def test_a_registration_is_changed_by_its_owner_or_an_admin() -> None:
    status, created = call(dbregistry_handler, "apigw_dbregistry_create", ALICE)
    assert status == 201, created
    params = {"registry_id": created["asset_registry_id"]}
    status, _ = call(dbregistry_handler, "apigw_dbregistry_get", RITA, params=params)
    assert status == 200
    status, body = call(dbregistry_handler, "apigw_dbregistry_delete", BOB, params=params)
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    status, body = call(dbregistry_handler, "apigw_dbregistry_put", ALICE, params=params)
    assert status == 200, body
    assert body["updated_by"] == "alice"
    status, _ = call(dbregistry_handler, "apigw_dbregistry_delete", ROOT, params=params)
    assert status == 200


# -- uploads: the bundle's asset is the uploader's ---------------------------------------------


def test_a_bundle_becomes_an_asset_of_whoever_asked_for_the_ticket(s3: Any) -> None:
    from tests.integration.test_registry_zip import multipart

    data = zip_bytes({"a.txt": b"mine"}, asset=bundle_asset("uploaded-1"))
    content_type, body = multipart(data)
    request = event("apigw_registry_zip_upload_direct", caller=ALICE)
    request["headers"]["content-type"] = content_type
    request["body"] = body
    status, started = invoke(zip_handler, request)
    assert status == 202, started
    upload_id = started["upload_id"]
    status_params = {"upload_id": upload_id}
    # Only the uploader (and admins) see the upload.
    status, _ = call(zip_handler, "apigw_registry_zip_status", BOB, params=status_params)
    assert status == 404
    status, _ = call(zip_handler, "apigw_registry_zip_status", ALICE, params=status_params)
    assert status == 200
    assert run(upload_id) == {"batchItemFailures": []}
    status, asset = call(
        query_handler, "apigw_registry_get_asset", ALICE, params={"asset_id": "uploaded-1"}
    )
    assert status == 200, asset
    assert (asset["created_by"], asset["visibility"]) == ("alice", "private")
    status, _ = call(
        query_handler, "apigw_registry_get_asset", BOB, params={"asset_id": "uploaded-1"}
    )
    assert status == 404


def test_a_bundle_may_not_claim_another_owner(s3: Any) -> None:
    from tests.integration.test_ingest import status_of, upload

    upload_id = upload(zip_bytes({"a.txt": b"x"}, asset=bundle_asset("claims-1", created_by="bob")))
    run(upload_id)
    assert "created_by" in status_of(upload_id)["status"]
    assert status_of(upload_id)["status"].startswith("failed")


# -- what review found: secrets by guessing, borrowed route keys ------------------------------


def test_a_filter_may_not_guess_the_write_only_credentials() -> None:
    creds = {"username": "bot", "password": "hunter2"}
    create_asset(ALICE, "creds-1", visibility="public", asset_container_registry_creds_config=creds)
    for query in (
        {"asset_container_registry_creds_config.password": {"$regex": "^h"}},
        {"$or": [{"asset_id": "x"}, {"asset_container_registry_creds_config": {"$exists": True}}]},
    ):
        status, body = call(query_handler, "apigw_registry_query_search", RITA, body=query)
        assert (status, body["error"]["code"]) == (400, "FIELD_NOT_SEARCHABLE"), body
    graphql = {
        "query": "query($f: GenericScalar!) { searchAssets(filters: $f) { assetId } }",
        "variables": {"f": {"asset_container_registry_creds_config.password": "hunter2"}},
    }
    status, body = call(graphql_handler, "apigw_registry_graphql_post", RITA, body=graphql)
    assert (status, body["errors"][0]["extensions"]["code"]) == (400, "FIELD_NOT_SEARCHABLE")
    assert body["data"] is None


def test_an_event_cannot_borrow_a_public_routes_key() -> None:
    create_asset(ALICE, "secret-h")
    request = event("apigw_registry_get_asset", caller=NOBODY)
    request["routeKey"] = request["requestContext"]["routeKey"] = "GET /registry/health"
    request["rawPath"] = request["requestContext"]["http"]["path"] = "/registry/assets/secret-h"
    status, body = invoke(query_handler, request)
    assert (status, body["error"]["code"]) == (401, "UNAUTHENTICATED")


def test_a_route_the_table_does_not_know_needs_a_caller_too() -> None:
    request = event("apigw_registry_get_asset", caller=NOBODY)
    request["routeKey"] = request["requestContext"]["routeKey"] = "$default"
    request["rawPath"] = request["requestContext"]["http"]["path"] = "/registry/nowhere"
    status, _ = invoke(query_handler, request)
    assert status == 401


def test_a_bundle_whose_status_names_no_uploader_is_refused(s3: Any) -> None:
    from assets_core.keys import upload_key
    from assets_core.stores.objects import object_store
    from assets_core.stores.status import status_store
    from tests.integration.test_ingest import status_of

    # As when the status expired before the bundle arrived: nobody for ingest to act for.
    upload_id = "6f0c2b8e-6b1e-4d7a-9a51-0d3c9f1e2a40"
    status_store().put(upload_id, {"status": "queued"})
    data = zip_bytes({"a.txt": b"x"}, asset=bundle_asset("ownerless-1"))
    object_store().put(upload_key(upload_id), data, "application/zip")
    run(upload_id)
    assert "names no uploader" in status_of(upload_id)["status"]
    status, _ = call(
        query_handler, "apigw_registry_get_asset", ROOT, params={"asset_id": "ownerless-1"}
    )
    assert status == 404
