"""Versions, aliases, soft deletion and content stored once (the contract's "Versions,
aliases and deletion" and "Files of an asset"), through the handlers, on the session's
MongoDB wire server and S3."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote

import pytest

from assets_core.config import get_settings
from assets_core.identity import ADMIN, READER, WRITER, Caller
from assets_core.stores.factory import assets_store, blobs_store, versions_store
from functions.registry_graphql.handler import handler as graphql_handler
from functions.registry_query.handler import handler as query_handler
from functions.registry_write.handler import handler as write_handler
from functions.registry_zip.handler import handler as zip_handler
from tests.integration.test_ingest import failed, run, status_of, stored_keys, upload
from tests.support import bundle_asset, caller, event, invoke, make_asset, zip_bytes

BUCKET = get_settings().bucket_name
ALICE = caller("alice", WRITER)
BOB = caller("bob", WRITER)
READER_CAROL = caller("carol", READER)
UPLOADER = caller("uploader", WRITER)  # who the recorded upload status names
ADMIN_ANN = caller("ann", ADMIN)


def call(
    handler: Any,
    name: str,
    path: str,
    *,
    who: Caller | None = None,
    body: Any = None,
    query: dict[str, str] | None = None,
    **params: str,
) -> tuple[int, Any]:
    """The recorded event ``name`` sent to ``path`` (its parameters given) by ``who``."""
    extra: dict[str, Any] = {"path": path, "path_parameters": params or None}
    if body is not None:
        extra["body"] = body
    if query is not None:
        extra["query"] = query
    return invoke(handler, event(name, caller=who, **extra))


def create(asset_id: str = "m-1", who: Caller | None = None, **fields: Any) -> None:
    status, body = invoke(
        write_handler,
        event("apigw_registry_post_assets", body=make_asset(asset_id, **fields), caller=who),
    )
    assert status == 201, body


def add_version(
    asset_id: str, version: str, who: Caller | None = None, **fields: Any
) -> tuple[int, Any]:
    document = make_asset(asset_id, asset_version=version, **fields)
    return call(
        write_handler,
        "apigw_registry_post_version",
        f"/registry/assets/{asset_id}/versions",
        who=who,
        body=document,
        asset_id=asset_id,
    )


def get(asset_id: str, version: str | None = None, who: Caller | None = None) -> tuple[int, Any]:
    query = {"version": version} if version is not None else None
    return call(
        query_handler,
        "apigw_registry_get_asset",
        f"/registry/assets/{asset_id}",
        who=who,
        query=query,
        asset_id=asset_id,
    )


def get_version(asset_id: str, version: str, who: Caller | None = None) -> tuple[int, Any]:
    return call(
        query_handler,
        "apigw_registry_get_version",
        f"/registry/assets/{asset_id}/versions/{quote(version, safe='')}",
        who=who,
        asset_id=asset_id,
        version=version,
    )


def listed(asset_id: str, who: Caller | None = None, **query: str) -> tuple[int, Any]:
    return call(
        query_handler,
        "apigw_registry_list_versions",
        f"/registry/assets/{asset_id}/versions",
        who=who,
        query=query or None,
        asset_id=asset_id,
    )


def alias(asset_id: str, name: str, version: str, who: Caller | None = None) -> tuple[int, Any]:
    return call(
        write_handler,
        "apigw_registry_put_alias",
        f"/registry/assets/{asset_id}/aliases/{name}",
        who=who,
        body={"asset_version": version},
        asset_id=asset_id,
        alias=name,
    )


def unalias(asset_id: str, name: str) -> tuple[int, Any]:
    return call(
        write_handler,
        "apigw_registry_delete_alias",
        f"/registry/assets/{asset_id}/aliases/{name}",
        asset_id=asset_id,
        alias=name,
    )


def delete(asset_id: str, who: Caller | None = None, **query: str) -> tuple[int, Any]:
    return call(
        write_handler,
        "apigw_registry_delete_asset",
        f"/registry/assets/{asset_id}",
        who=who,
        query=query or None,
        asset_id=asset_id,
    )


def delete_version(asset_id: str, version: str) -> tuple[int, Any]:
    return call(
        write_handler,
        "apigw_registry_delete_version",
        f"/registry/assets/{asset_id}/versions/{version}",
        asset_id=asset_id,
        version=version,
    )


def restore(asset_id: str, who: Caller | None = None) -> tuple[int, Any]:
    return call(
        write_handler,
        "apigw_registry_restore_asset",
        f"/registry/assets/{asset_id}/restore",
        who=who,
        asset_id=asset_id,
    )


def restore_version(asset_id: str, version: str) -> tuple[int, Any]:
    return call(
        write_handler,
        "apigw_registry_restore_version",
        f"/registry/assets/{asset_id}/versions/{version}/restore",
        asset_id=asset_id,
        version=version,
    )


def search(query: dict[str, Any], **params: str) -> list[tuple[str, str]]:
    status, body = call(
        query_handler,
        "apigw_registry_query_search",
        "/registry/query/search",
        body=query,
        query=params or None,
    )
    assert status == 200, body
    return [(item["asset_id"], item["asset_version"]) for item in body["items"]]


def code(answer: tuple[int, Any]) -> tuple[int, str]:
    status, body = answer
    return status, body["error"]["code"]


# -- versions --------------------------------------------------------------------------------


def test_a_new_version_becomes_current_and_the_earlier_stays_readable() -> None:
    # Given an asset at v1
    create(asset_brief_description="first")
    # When v2 is added
    status, body = add_version("m-1", "v2", asset_brief_description="second")
    # Then it is current everywhere, and v1 reads by version
    assert (status, body["asset_version"]) == (201, "v2")
    assert get("m-1")[1]["asset_brief_description"] == "second"
    status, body = get("m-1", "v1")
    assert (status, body["asset_brief_description"]) == (200, "first")
    assert get_version("m-1", "v1")[1]["asset_version"] == "v1"
    assert get_version("m-1", "latest")[1]["asset_version"] == "v2"
    by_id = call(
        query_handler,
        "apigw_registry_query_by_id",
        "/registry/query/by-id/m-1",
        query={"version": "v1"},
        asset_id="m-1",
    )
    assert by_id[1]["asset_version"] == "v1"
    # and the list is newest first, latest on the newest
    status, body = listed("m-1")
    assert status == 200
    assert [v["asset_version"] for v in body["items"]] == ["v2", "v1"]
    assert body["items"][0]["aliases"] == ["latest"]
    assert {"created_at", "created_by", "file_count", "total_bytes"} <= set(body["items"][1])
    assert "_registry" not in get("m-1")[1]


def test_a_duplicate_version_is_409_and_changes_nothing() -> None:
    create()
    assert add_version("m-1", "v2")[0] == 201
    assert code(add_version("m-1", "v2", asset_brief_description="again")) == (
        409,
        "VERSION_EXISTS",
    )
    assert code(add_version("m-1", "v1")) == (409, "VERSION_EXISTS")
    assert get("m-1")[1].get("asset_brief_description") is None


def test_creating_a_taken_id_is_400_naming_the_versions_route() -> None:
    create()
    status, body = invoke(
        write_handler, event("apigw_registry_post_assets", body=make_asset("m-1"))
    )
    assert (status, body["error"]["code"]) == (400, "ASSET_EXISTS")
    assert "/registry/assets/m-1/versions" in body["error"]["message"]


def test_versions_list_pages_newest_first() -> None:
    create()
    for n in range(2, 6):
        assert add_version("m-1", f"v{n}")[0] == 201
    _, first = listed("m-1", limit="2")
    assert [v["asset_version"] for v in first["items"]] == ["v5", "v4"]
    _, rest = listed("m-1", limit="10", cursor=first["next_cursor"])
    assert [v["asset_version"] for v in rest["items"]] == ["v3", "v2", "v1"]
    assert rest["next_cursor"] is None


def test_put_edits_the_current_version_and_refuses_version_changes() -> None:
    create()
    add_version("m-1", "v2")
    put = event(
        "apigw_registry_put_asset",
        path="/registry/assets/m-1",
        path_parameters={"asset_id": "m-1"},
        body={"asset_version": "v3"},
    )
    status, body = invoke(write_handler, put)
    assert (status, body["error"]["code"]) == (400, "VERSION_IMMUTABLE")
    assert "/registry/assets/m-1/versions" in body["error"]["message"]
    put["body"] = '{"asset_file_ids": ["x"]}'
    assert invoke(write_handler, put)[1]["error"]["code"] == "VERSION_IMMUTABLE"
    put["body"] = '{"asset_brief_description": "edited"}'
    assert invoke(write_handler, put)[0] == 200
    assert get("m-1")[1]["asset_brief_description"] == "edited"
    assert get("m-1", "v1")[1].get("asset_brief_description") is None
    assert search({"asset_brief_description": "edited"}, all_versions="true") == [("m-1", "v2")]


def test_queries_match_current_versions_unless_all_versions() -> None:
    create(profiles=[])
    add_version("m-1", "v2")  # the example profile: type model
    create("m-2")
    assert search({}) == [("m-1", "v2"), ("m-2", "v1")]
    assert search({}, all_versions="true") == [("m-1", "v1"), ("m-1", "v2"), ("m-2", "v1")]
    by_type = call(
        query_handler,
        "apigw_registry_query_by_type",
        "/registry/query/by-type/model",
        query={"all_versions": "true"},
        asset_type="model",
    )
    found = [(i["asset_id"], i["asset_version"]) for i in by_type[1]["items"]]
    assert found == [("m-1", "v2"), ("m-2", "v1")]
    assert code(
        call(
            query_handler,
            "apigw_registry_list_assets",
            "/registry/assets",
            query={"all_versions": "maybe"},
        )
    ) == (400, "INVALID_QUERY_PARAMETER")


def test_a_version_pointing_into_the_bucket_is_refused() -> None:
    create()
    entry = {
        "asset_file_id": "w",
        "asset_file_type": "file",
        "asset_file_mime_type": "application/octet-stream",
        "asset_file_url": f"s3://{BUCKET}/assets/other/x/w.bin",
    }
    status, body = add_version("m-1", "v2", files=[entry], asset_file_ids=["w"])
    assert (status, body["error"]["code"]) == (400, "STORED_FILE_REFUSED")


def test_a_version_of_another_owners_asset_is_403_and_of_a_hidden_one_404() -> None:
    create(who=ALICE, visibility="public")
    assert code(add_version("m-1", "v2", who=BOB)) == (403, "FORBIDDEN")
    create("m-2", who=ALICE)  # private
    assert code(add_version("m-2", "v2", who=BOB)) == (404, "ASSET_NOT_FOUND")
    assert code(listed("m-2", who=BOB)) == (404, "ASSET_NOT_FOUND")
    assert code(get("m-2", "v1", who=BOB)) == (404, "ASSET_NOT_FOUND")
    assert code(alias("m-2", "stable", "v1", who=BOB)) == (404, "ASSET_NOT_FOUND")


def test_a_private_assets_earlier_versions_stay_hidden_from_others() -> None:
    create(who=ALICE, asset_brief_description="secret plan")
    add_version("m-1", "v2", who=ALICE)
    other = call(
        query_handler,
        "apigw_registry_query_search",
        "/registry/query/search",
        who=READER_CAROL,
        body={},
        query={"all_versions": "true"},
    )
    assert other[1]["items"] == []


def test_concurrent_new_versions_all_land_in_order_of_completion() -> None:
    create()
    results: list[int] = []

    def add(n: int) -> None:
        results.append(add_version("m-1", f"c{n}")[0])

    threads = [threading.Thread(target=add, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [201] * 6
    names = [v["asset_version"] for v in listed("m-1")[1]["items"]]
    assert sorted(names) == sorted([f"c{n}" for n in range(6)] + ["v1"])
    assert get("m-1")[1]["asset_version"] == names[0]


def test_concurrent_adds_of_one_version_one_wins() -> None:
    create()
    results: list[int] = []

    def add(n: int) -> None:
        results.append(add_version("m-1", "v2", asset_brief_description=f"writer {n}")[0])

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [201, 409, 409, 409]
    assert [v["asset_version"] for v in listed("m-1")[1]["items"]] == ["v2", "v1"]


# -- aliases ---------------------------------------------------------------------------------


def test_aliases_set_move_and_delete() -> None:
    create()
    add_version("m-1", "v2")
    assert alias("m-1", "stable", "v1") == (
        200,
        {"asset_id": "m-1", "alias": "stable", "asset_version": "v1"},
    )
    assert get("m-1", "stable")[1]["asset_version"] == "v1"
    assert alias("m-1", "stable", "v2")[0] == 200  # moved
    assert get_version("m-1", "stable")[1]["asset_version"] == "v2"
    items = listed("m-1")[1]["items"]
    assert items[0]["aliases"] == ["latest", "stable"]
    assert alias("m-1", "prod", "stable")[0] == 200  # an alias names a version by alias too
    assert unalias("m-1", "stable")[0] == 200
    assert code(get("m-1", "stable")) == (404, "VERSION_NOT_FOUND")
    assert code(unalias("m-1", "stable")) == (404, "ALIAS_NOT_FOUND")


@pytest.mark.parametrize("name", ["latest", "Stable", "a" * 65, "white space", "s%2Fx"])
def test_bad_aliases_are_400(name: str) -> None:
    create()
    assert code(alias("m-1", name, "v1")) == (400, "INVALID_ALIAS")


def test_an_unknown_version_or_alias_is_404() -> None:
    create()
    assert code(alias("m-1", "stable", "v9")) == (404, "VERSION_NOT_FOUND")
    assert code(get("m-1", "v9")) == (404, "VERSION_NOT_FOUND")
    assert code(get_version("m-1", "nope")) == (404, "VERSION_NOT_FOUND")
    assert code(get_version("m-9", "v1")) == (404, "ASSET_NOT_FOUND")


# -- deletion ------------------------------------------------------------------------------


def test_a_deleted_asset_is_hidden_everywhere_and_restored_with_its_aliases() -> None:
    create()
    add_version("m-1", "v2")
    alias("m-1", "stable", "v1")
    # When it is deleted
    status, body = delete("m-1")
    assert (status, body["deleted"]) == (200, True)
    assert body["restorable_until"] > body.get("deleted_at", "")
    # Then no read finds it
    assert code(get("m-1")) == (404, "ASSET_NOT_FOUND")
    assert code(get("m-1", "stable")) == (404, "ASSET_NOT_FOUND")
    assert code(listed("m-1")) == (404, "ASSET_NOT_FOUND")
    assert search({}) == []
    assert search({}, all_versions="true") == []
    # and its id stays reserved, naming the restore route
    status, body = invoke(
        write_handler, event("apigw_registry_post_assets", body=make_asset("m-1"))
    )
    assert (status, body["error"]["code"]) == (409, "ASSET_DELETED")
    assert "/registry/assets/m-1/restore" in body["error"]["message"]
    # When it is restored, everything is back
    status, body = restore("m-1")
    assert (status, body["asset_version"]) == (200, "v2")
    assert get("m-1", "stable")[1]["asset_version"] == "v1"
    assert search({}, all_versions="true") == [("m-1", "v1"), ("m-1", "v2")]
    assert code(restore("m-1")) == (409, "NOT_DELETED")


def test_restore_is_the_owners_and_needs_something_deleted() -> None:
    create(who=ALICE, visibility="public")
    assert code(restore("m-1", who=BOB)) == (409, "NOT_DELETED")
    delete("m-1", who=ALICE)
    assert code(restore("m-1", who=BOB)) == (403, "FORBIDDEN")
    assert code(restore("m-9")) == (404, "ASSET_NOT_FOUND")
    assert restore("m-1", who=ALICE)[0] == 200


def test_restore_after_retention_is_404(monkeypatch: pytest.MonkeyPatch) -> None:
    create()
    monkeypatch.setenv("RETENTION_DAYS", "0")
    get_settings.cache_clear()
    try:
        assert delete("m-1")[0] == 200
    finally:
        monkeypatch.delenv("RETENTION_DAYS")
        get_settings.cache_clear()
    assert code(restore("m-1")) == (404, "ASSET_NOT_FOUND")


def test_deleting_the_current_version_makes_the_previous_current() -> None:
    create(asset_brief_description="one")
    add_version("m-1", "v2", asset_brief_description="two")
    alias("m-1", "stable", "v2")
    status, body = delete_version("m-1", "v2")
    assert (status, body["asset_version"]) == (200, "v2")
    assert get("m-1")[1]["asset_brief_description"] == "one"
    assert code(get("m-1", "v2")) == (404, "VERSION_NOT_FOUND")
    assert code(get("m-1", "stable")) == (404, "VERSION_NOT_FOUND")
    assert [v["asset_version"] for v in listed("m-1")[1]["items"]] == ["v1"]
    assert search({}, all_versions="true") == [("m-1", "v1")]
    # the only version left cannot go (the asset can)
    assert code(delete_version("m-1", "v1")) == (409, "LAST_VERSION")
    # a deleted version's name stays taken until it is purged
    assert code(add_version("m-1", "v2")) == (409, "VERSION_DELETED")
    # restored, it is current again, with its alias
    status, body = restore_version("m-1", "v2")
    assert (status, body["restored"]) == (200, True)
    assert get("m-1")[1]["asset_brief_description"] == "two"
    assert get("m-1", "stable")[1]["asset_version"] == "v2"
    assert code(restore_version("m-1", "v2")) == (409, "NOT_DELETED")
    assert code(restore_version("m-1", "v7")) == (404, "VERSION_NOT_FOUND")


def test_purge_is_for_admins_and_frees_the_id() -> None:
    create(who=ALICE)
    assert code(delete("m-1", who=ALICE, purge="true")) == (403, "FORBIDDEN")
    assert code(delete("m-1", purge="maybe")) == (400, "INVALID_QUERY_PARAMETER")
    status, body = delete("m-1", purge="true")
    assert (status, body["purged"]) == (200, True)
    assert assets_store().unscoped.get("m-1") is None
    assert versions_store().unscoped.count({"asset_id": "m-1"}) == 0
    create()  # the id is free again


# -- GraphQL -------------------------------------------------------------------------------


def gql(query: str, variables: dict[str, Any] | None = None) -> Any:
    status, body = invoke(
        graphql_handler,
        event("apigw_registry_graphql_post", body={"query": query, "variables": variables or {}}),
    )
    assert status == 200, body
    return body


def test_graphql_reads_versions_and_aliases() -> None:
    create(asset_brief_description="one")
    add_version("m-1", "v2", asset_brief_description="two")
    alias("m-1", "stable", "v1")
    answer = gql(
        'query { a: getAssetById(assetId: "m-1", version: "stable") { assetVersion '
        "assetBriefDescription } "
        'b: getAssetById(assetId: "m-1") { assetVersion aliases '
        "versions { assetVersion aliases fileCount } } "
        'c: getAssetById(assetId: "m-1", version: "v9") { assetVersion } '
        "d: searchAssets(allVersions: true) { assetVersion } }"
    )
    data = answer["data"]
    assert data["a"] == {"assetVersion": "v1", "assetBriefDescription": "one"}
    assert data["b"]["aliases"] == {"latest": "v2", "stable": "v1"}
    assert [v["assetVersion"] for v in data["b"]["versions"]] == ["v2", "v1"]
    assert data["b"]["versions"][1]["aliases"] == ["stable"]
    assert data["c"] is None
    assert sorted(v["assetVersion"] for v in data["d"]) == ["v1", "v2"]


# -- bundles and content stored once ---------------------------------------------------------


def files_of(asset_id: str, version: str | None = None) -> dict[str, Any]:
    status, body = call(
        query_handler,
        "apigw_registry_list_files",
        f"/registry/assets/{asset_id}/files",
        query={"version": version} if version else None,
        asset_id=asset_id,
    )
    assert status == 200, body
    return {item["path"]: item for item in body["items"]}


def test_a_bundle_adds_a_version_storing_only_what_changed(s3: Any) -> None:
    # Given an asset uploaded with two files
    big = b"w" * 300_000
    first = upload(zip_bytes({"weights.bin": big, "config.json": b"{}"}, asset=bundle_asset("b-1")))
    run(first)
    assert status_of(first)["status"] == "success"
    keys = stored_keys(s3)
    # When a bundle with a new version changes one file
    second_bundle = zip_bytes(
        {"weights.bin": big, "config.json": b'{"lr": 1}'},
        asset=bundle_asset("b-1", asset_version="v2"),
    )
    second = upload(second_bundle)
    run(second)
    # Then v2 is current, and only the changed file was stored
    assert status_of(second)["status"] == "success"
    assert status_of(second)["asset_version"] == "v2"
    assert get("b-1")[1]["asset_version"] == "v2"
    added = sorted(set(stored_keys(s3)) - set(keys))
    assert added == [f"assets/b-1/{second}/config.json"]
    v1, v2 = files_of("b-1", "v1"), files_of("b-1")
    assert v1["weights.bin"]["sha256"] == v2["weights.bin"]["sha256"]
    assert v1["config.json"]["sha256"] != v2["config.json"]["sha256"]
    weights = blobs_store().get(v2["weights.bin"]["sha256"])
    assert weights is not None
    assert len(weights["refs"]) == 2
    # And the same version uploaded again fails, naming why
    again = upload(second_bundle)
    run(again)
    assert "already has the version 'v2'" in failed(again)
    assert sorted(stored_keys(s3)) == sorted([*keys, *added])


def test_a_bundle_for_another_owners_asset_fails(s3: Any) -> None:
    create("b-2", who=ALICE, visibility="public")
    attempt = upload(zip_bytes({"a.txt": b"x"}, asset=bundle_asset("b-2", asset_version="v2")))
    run(attempt)
    assert "another owner" in failed(attempt)
    assert stored_keys(s3) == []


def test_a_bundle_for_a_deleted_asset_fails_naming_restore(s3: Any) -> None:
    create("b-3", who=UPLOADER)
    delete("b-3")
    attempt = upload(zip_bytes({"a.txt": b"x"}, asset=bundle_asset("b-3", asset_version="v2")))
    run(attempt)
    assert "restore" in failed(attempt)


def test_downloads_and_files_read_the_version_asked_for(s3: Any) -> None:
    run(upload(zip_bytes({"a.txt": b"first"}, asset=bundle_asset("d-1"))))
    run(upload(zip_bytes({"a.txt": b"second"}, asset=bundle_asset("d-1", asset_version="v2"))))
    alias("d-1", "stable", "v1")
    import httpx

    for version, expected in (("stable", b"first"), (None, b"second")):
        result = call_raw(
            query_handler,
            "apigw_registry_get_file",
            "/registry/assets/d-1/files/a.txt",
            {"version": version} if version else {},
            asset_id="d-1",
            path="a.txt",
        )
        assert result["statusCode"] == 307
        assert httpx.get(invoke_location(result)).content == expected
    status, body = call(
        zip_handler,
        "apigw_registry_zip_download_status",
        "/registry/zip/download/d-1/status",
        query={"version": "v1"},
        asset_id="d-1",
    )
    assert status == 200
    assert body["download_url"] == "/registry/zip/download/d-1?version=v1"


def call_raw(
    handler: Any, name: str, raw_path: str, query: dict[str, str], **params: str
) -> dict[str, Any]:
    from local.apigw import LocalContext

    request = event(name, path=raw_path, path_parameters=params, query=query or None)
    result: dict[str, Any] = handler(request, LocalContext("test"))
    return result


def invoke_location(result: dict[str, Any]) -> str:
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    return str(headers["location"])


def test_making_an_asset_public_shows_its_earlier_versions_too() -> None:
    create(who=ALICE)
    add_version("m-1", "v2", who=ALICE)
    put = event(
        "apigw_registry_put_asset",
        path="/registry/assets/m-1",
        path_parameters={"asset_id": "m-1"},
        body={"visibility": "public"},
        caller=ALICE,
    )
    assert invoke(write_handler, put)[0] == 200
    _, body = call(
        query_handler,
        "apigw_registry_query_search",
        "/registry/query/search",
        who=READER_CAROL,
        body={},
        query={"all_versions": "true"},
    )
    assert [(i["asset_id"], i["asset_version"]) for i in body["items"]] == [
        ("m-1", "v1"),
        ("m-1", "v2"),
    ]
    assert get("m-1", "v1", who=READER_CAROL)[0] == 200


def test_concurrent_bundles_of_new_versions_all_land_and_of_one_version_one_wins(
    s3: Any,
) -> None:
    run(upload(zip_bytes({"a.txt": b"v1"}, asset=bundle_asset("cc-1"))))

    def bundle(version: str, text: bytes) -> str:
        return upload(zip_bytes({"a.txt": text}, asset=bundle_asset("cc-1", asset_version=version)))

    def together(upload_ids: list[str]) -> None:
        threads = [threading.Thread(target=run, args=(u,)) for u in upload_ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    distinct = [bundle("v2", b"two"), bundle("v3", b"three")]
    together(distinct)
    assert [status_of(u)["status"] for u in distinct] == ["success", "success"]
    assert sorted(v["asset_version"] for v in listed("cc-1")[1]["items"]) == ["v1", "v2", "v3"]
    same = [bundle("v4", b"four-a"), bundle("v4", b"four-b")]
    together(same)
    outcomes = sorted(status_of(u)["status"] for u in same)
    assert outcomes[1] == "success"
    assert "already has the version 'v4'" in outcomes[0]
    winner = next(u for u in same if status_of(u)["status"] == "success")
    loser = next(u for u in same if u != winner)
    assert stored_keys(s3, f"assets/cc-1/{loser}/") == [], "the loser leaves nothing"
    assert files_of("cc-1", "v4")["a.txt"]["size"] == 6
