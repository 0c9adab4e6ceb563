"""An asset's files one by one (the contract's "Files of an asset"): listed from the stored
document, each fetched by a presigned GET named as its path ends, described by HEAD from the
object store; bad paths are 400, unknown ones 404, and a private asset's files stay hidden."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from typing import Any
from urllib.parse import quote

import pytest

from assets_core.identity import READER, Caller
from functions.registry_query.handler import handler
from local.apigw import LocalContext
from tests.integration.test_ingest import run, upload
from tests.support import bundle_asset, event, zip_bytes

MEMBERS = {
    "models/weights.bin": os.urandom(300_000),
    "config.json": b'{"layers": 2}',
    "docs/read me é.md": b"# hello",
}


@pytest.fixture
def asset(s3: Any) -> str:
    run(upload(zip_bytes(MEMBERS, stored=("models/weights.bin",), asset=bundle_asset("files-1"))))
    return "files-1"


def call(name: str, path: str, params: dict[str, str], **options: Any) -> dict[str, Any]:
    return handler(event(name, path=path, path_parameters=params, **options), LocalContext("q"))


def file_route(name: str, asset_id: str, path: str, **options: Any) -> dict[str, Any]:
    raw = f"/registry/assets/{asset_id}/files/{quote(path)}"
    return call(name, raw, {"asset_id": asset_id, "path": path}, **options)


def test_the_listing_names_every_stored_file_with_its_checksum(asset: str) -> None:
    answer = call(
        "apigw_registry_list_files", f"/registry/assets/{asset}/files", {"asset_id": asset}
    )
    assert answer["statusCode"] == 200
    body = json.loads(answer["body"])
    assert [item["path"] for item in body["items"]] == sorted(MEMBERS)
    for item in body["items"]:
        data = MEMBERS[item["path"]]
        assert (item["size"], item["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    assert {i["path"]: i["mime_type"] for i in body["items"]}["config.json"] == "application/json"
    assert body["next_cursor"] is None


def test_the_listing_is_paginated(asset: str) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        answer = call(
            "apigw_registry_list_files",
            f"/registry/assets/{asset}/files",
            {"asset_id": asset},
            query=query,
        )
        body = json.loads(answer["body"])
        seen += [item["path"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(MEMBERS)


def test_a_file_redirects_to_a_presigned_get_of_exactly_its_bytes(asset: str) -> None:
    for path, data in MEMBERS.items():
        answer = file_route("apigw_registry_get_file", asset, path)
        assert answer["statusCode"] == 307, answer["body"]
        assert answer["headers"]["Cache-Control"] == "no-store"
        with urllib.request.urlopen(answer["headers"]["Location"], timeout=30) as fetched:
            assert fetched.read() == data
            disposition = fetched.headers["Content-Disposition"]
        name = path.rsplit("/", 1)[-1]
        assert quote(name, safe="") in disposition or f'"{name}"' in disposition


def test_with_redirect_false_the_link_comes_as_json_for_a_browser_app(asset: str) -> None:
    data = MEMBERS["config.json"]
    answer = file_route(
        "apigw_registry_get_file", asset, "config.json", query={"redirect": "false"}
    )
    assert answer["statusCode"] == 200, answer["body"]
    assert "Location" not in answer["headers"]
    with urllib.request.urlopen(json.loads(answer["body"])["location"], timeout=30) as fetched:
        assert fetched.read() == data
    refused = file_route("apigw_registry_get_file", asset, "config.json", query={"redirect": "no"})
    assert refused["statusCode"] == 400
    assert json.loads(refused["body"])["success"] is False


def test_head_describes_the_stored_file(asset: str) -> None:
    answer = file_route("apigw_registry_head_file", asset, "models/weights.bin")
    assert answer["statusCode"] == 200
    headers = answer["headers"]
    data = MEMBERS["models/weights.bin"]
    assert headers["Content-Length"] == str(len(data))
    assert headers["x-checksum-sha256"] == hashlib.sha256(data).hexdigest()
    assert headers["Content-Disposition"] == 'attachment; filename="weights.bin"'
    assert headers["Last-Modified"].endswith(" GMT")
    assert answer["body"] == ""


@pytest.mark.parametrize("path", ["../config.json", "a/../../b", "x\x00y", "a\\b"])
def test_a_path_that_could_escape_is_400(asset: str, path: str) -> None:
    answer = file_route("apigw_registry_get_file", asset, path)
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["error"]["code"] == "INVALID_FILE_PATH"


def test_unknown_asset_or_path_is_404(asset: str) -> None:
    for asset_id, path, code in (
        (asset, "nope.bin", "FILE_NOT_FOUND"),
        ("nobody", "config.json", "ASSET_NOT_FOUND"),
    ):
        for name in ("apigw_registry_get_file", "apigw_registry_head_file"):
            answer = file_route(name, asset_id, path)
            assert answer["statusCode"] == 404, (name, path)
            if name.endswith("get_file"):
                assert json.loads(answer["body"])["error"]["code"] == code
    missing = call(
        "apigw_registry_list_files", "/registry/assets/nobody/files", {"asset_id": "nobody"}
    )
    assert missing["statusCode"] == 404


def test_a_private_assets_files_are_hidden_from_other_users(s3: Any) -> None:
    private = bundle_asset("files-private", visibility="private")
    run(upload(zip_bytes({"secret.bin": b"s"}, asset=private)))
    bob = Caller("bob", frozenset({READER}))
    answer = file_route("apigw_registry_get_file", "files-private", "secret.bin", caller=bob)
    assert answer["statusCode"] == 404
    listed = call(
        "apigw_registry_list_files",
        "/registry/assets/files-private/files",
        {"asset_id": "files-private"},
        caller=bob,
    )
    assert listed["statusCode"] == 404
