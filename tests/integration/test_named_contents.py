"""Contents named by sha256 (``assets push``): ``POST /registry/content/missing`` answers
which a bundle must still carry, and a bundle's asset.json may name files it does not carry by
their sha256 when the uploader may read that content; it is then held once, not copied. For
another user's private content, both answer as for content that does not exist."""

from __future__ import annotations

import hashlib
from typing import Any

from assets_core.config import get_settings
from functions.registry_query.handler import handler as query_handler
from functions.registry_zip.handler import handler as zip_handler
from tests.integration.test_access import ALICE, BOB, call
from tests.integration.test_ingest import run
from tests.support import bundle_asset, event, invoke, zip_bytes


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload_as(who: Any, data: bytes) -> str:
    from tests.integration.test_registry_zip import multipart

    content_type, body = multipart(data)
    request = event("apigw_registry_zip_upload_direct", caller=who)
    request["headers"]["content-type"] = content_type
    request["body"] = body
    status, started = invoke(zip_handler, request)
    assert status == 202, started
    assert run(started["upload_id"]) == {"batchItemFailures": []}
    return str(started["upload_id"])


def upload_status(who: Any, upload_id: str) -> str:
    params = {"upload_id": upload_id}
    status, body = call(zip_handler, "apigw_registry_zip_status", who, params=params)
    assert status == 200, body
    return str(body["status"])


def missing(who: Any, sha256s: list[str]) -> list[str]:
    status, body = call(
        query_handler, "apigw_registry_content_missing", who, body={"sha256": sha256s}
    )
    assert status == 200, body
    return list(body["missing"])


def named(path: str, data: bytes) -> dict[str, Any]:
    return {
        "asset_file_id": path,
        "asset_file_type": "file",
        "asset_file_mime_type": "application/octet-stream",
        "asset_file_metadata": {"path": path, "sha256": sha(data)},
    }


WEIGHTS = b"weights " * 5000
PRIVATE = b"bob's private data " * 100


def test_push_names_held_content_and_carries_only_the_rest(s3: Any) -> None:
    # Given alice's v1 and bob's private asset
    v1 = bundle_asset("pushed-1")
    upload_as(ALICE, zip_bytes({"weights.bin": WEIGHTS, "notes.md": b"v1"}, asset=v1))
    upload_as(BOB, zip_bytes({"secret.bin": PRIVATE}, asset=bundle_asset("bobs-private")))
    fresh = b"a new file"
    # When alice asks which contents a v2 must carry
    asked = [sha(WEIGHTS), sha(fresh), sha(PRIVATE)]
    # Then her own content is held; bob's private one answers as if it did not exist
    assert missing(ALICE, asked) == sorted([sha(fresh), sha(PRIVATE)])
    assert missing(BOB, [sha(PRIVATE)]) == []
    # When v2 names weights.bin by sha256 and carries only the new file
    v2 = {
        **bundle_asset("pushed-1"),
        "asset_version": "v2",
        "files": [named("weights.bin", WEIGHTS)],
    }
    upload_id = upload_as(ALICE, zip_bytes({"new.txt": fresh}, asset=v2))
    # Then v2 holds both, weights.bin at the object v1 stored (one copy of its bytes)
    assert upload_status(ALICE, upload_id) == "success"
    status, listed = call(
        query_handler,
        "apigw_registry_list_files",
        ALICE,
        params={"asset_id": "pushed-1"},
        query={"version": "v2"},
    )
    assert status == 200, listed
    files = {f["path"]: f for f in listed["items"]}
    assert {p: (f["size"], f["sha256"]) for p, f in files.items()} == {
        "weights.bin": (len(WEIGHTS), sha(WEIGHTS)),
        "new.txt": (len(fresh), sha(fresh)),
    }
    stored = [
        item["Key"]
        for item in s3.list_objects_v2(
            Bucket=get_settings().bucket_name, Prefix="assets/pushed-1/"
        ).get("Contents", [])
    ]
    assert sum(key.endswith("weights.bin") for key in stored) == 1


def test_a_bundle_naming_content_it_may_not_read_fails_as_for_unknown_content(s3: Any) -> None:
    upload_as(BOB, zip_bytes({"secret.bin": PRIVATE}, asset=bundle_asset("bobs-private-2")))
    reasons = []
    for data in (PRIVATE, b"never stored anywhere"):
        asset = {**bundle_asset(f"steal-{sha(data)[:6]}"), "files": [named("x.bin", data)]}
        upload_id = upload_as(ALICE, zip_bytes({"other.txt": b"x"}, asset=asset))
        reasons.append(upload_status(ALICE, upload_id).replace(sha(data), "<sha>"))
    assert reasons[0] == reasons[1]
    assert reasons[0].startswith("failed: asset.json: files[0] ('x.bin') names content")
    assert "does not hold or you may not read" in reasons[0]


def test_the_missing_route_refuses_what_is_not_a_list_of_sha256() -> None:
    bodies: list[Any] = [{"sha256": []}, {"sha256": ["xyz"]}, {"sha256": "0" * 64}, {"other": 1}]
    for body in bodies:
        status, answer = call(query_handler, "apigw_registry_content_missing", ALICE, body=body)
        assert status == 400, (body, answer)
        assert answer["success"] is False
