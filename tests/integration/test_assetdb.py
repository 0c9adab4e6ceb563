"""The Assets DB (spec 001) called with API Gateway v2 events; S3 on moto."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from assets_core.config import get_settings
from assets_core.logic.assetdb import KEY_PREFIX
from functions.assetdb.handler import handler
from functions.ingest.handler import ingest
from local.apigw import LocalContext
from tests.support import EVENTS, event, invoke

pytestmark = pytest.mark.usefixtures("s3", "status")
BUCKET = get_settings().bucket_name
URI = "SampleAsset:1.0-initial"
SPEC_METADATA = {
    "asset_name": "SampleAsset",
    "asset_version": {"version": "1.0", "tag": "initial"},
    "asset_metadata": {"description": "Sample asset upload"},
    "asset_tags": ["image", "sample"],
}


def form(parts: dict[str, tuple[str | None, bytes]]) -> tuple[str, str]:
    boundary = "b0undary"
    body = b""
    for name, (filename, data) in parts.items():
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += (
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
        )
    body += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", base64.b64encode(body).decode()


def upload(data: bytes, metadata: Any = None, filename: str = "file.png") -> tuple[int, Any]:
    raw_metadata = json.dumps(SPEC_METADATA if metadata is None else metadata).encode()
    content_type, body = form({"asset": (filename, data), "asset_metadata": (None, raw_metadata)})
    request = event("apigw_assetdb_upload_asset", headers={"content-type": content_type})
    request["body"] = body
    return invoke(handler, request)


def at(name: str, uri: str = URI, **kwargs: Any) -> dict[str, Any]:
    path = event(name)["rawPath"].rsplit("/", 1)[0] + "/" + uri
    return event(name, path=path, path_parameters={"asset_uri": uri}, **kwargs)


def object_event(asset_id: str) -> dict[str, Any]:
    return event(
        "apigw_assetdb_asset_object",
        path=f"/assetdb/asset-object/{asset_id}",
        path_parameters={"asset_id": asset_id},
    )


def test_spec_upload_get_object_update_query_delete(s3: Any) -> None:
    # Given the spec's multipart upload
    status, created = invoke(handler, event("apigw_assetdb_upload_asset"))
    assert status == 201
    assert created["asset_uri"] == URI
    assert created["assets_db_id"] == get_settings().assets_db_id
    info = created["asset_file_info"]
    assert info["original_filename"] == "file.png"
    assert info["content_type"] == "image/png"
    stored = s3.get_object(Bucket=BUCKET, Key=info["key"])["Body"].read()
    assert info["size"] == len(stored)
    assert info["sha256"] == hashlib.sha256(stored).hexdigest()
    assert info["md5"] == hashlib.md5(stored).hexdigest()
    assert info["key"].startswith(f"{KEY_PREFIX}{created['asset_id']}/")
    assert created["asset_public_url"] == (
        f"https://abcdef123.execute-api.us-east-1.amazonaws.com/assetdb/asset-object/{created['asset_id']}"
    )
    # When it is read by URI, its object fetched, updated, queried and deleted
    assert invoke(handler, event("apigw_assetdb_get_asset")) == (200, created)
    result = handler(object_event(created["asset_id"]), LocalContext("assetdb"))
    assert result["statusCode"] == 307
    location = result["headers"]["Location"]
    assert "file.png" in parse_qs(urlsplit(location).query)["response-content-disposition"][0]
    status, updated = invoke(handler, event("apigw_assetdb_put_asset"))
    assert (status, updated["asset_tags"]) == (200, ["updated", "sample"])
    assert updated["asset_metadata"] == {"description": "Updated asset description"}
    status, found = invoke(
        handler, event("apigw_assetdb_query_plain", body={"asset_tags": ["sample"]})
    )
    assert [a["asset_uri"] for a in found["items"]] == [URI]
    status, deleted = invoke(handler, event("apigw_assetdb_delete_asset"))
    assert (status, deleted["deleted"]) == (200, True)
    assert invoke(handler, event("apigw_assetdb_get_asset"))[0] == 404
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=KEY_PREFIX).get("KeyCount", 0) == 0


def test_both_query_forms() -> None:
    image = {**SPEC_METADATA, "asset_metadata": {"type": "image"}}
    upload(b"a", image)
    upload(b"b", {**image, "asset_name": "Other", "asset_tags": ["other"]})
    upload(b"c", {**SPEC_METADATA, "asset_name": "Text", "asset_metadata": {"type": "text"}})
    _, plain = invoke(handler, event("apigw_assetdb_query_plain"))
    assert [a["asset_name"] for a in plain["items"]] == ["SampleAsset"]
    _, operators = invoke(handler, event("apigw_assetdb_query_operators"))
    assert [a["asset_name"] for a in operators["items"]] == ["SampleAsset"]
    everything = {"asset_version.version": {"$gte": "1.0"}}
    _, body = invoke(
        handler, event("apigw_assetdb_query_operators", body=everything, query={"limit": "2"})
    )
    assert len(body["items"]) == 2
    assert body["next_cursor"]


def test_uri_is_unique_and_recomputed_on_update() -> None:
    assert upload(b"x")[0] == 201
    status, body = upload(b"y")
    assert (status, body["error"]["code"]) == (409, "ASSET_URI_EXISTS")
    other = {**SPEC_METADATA, "asset_version": {"version": "2.0", "tag": "initial"}}
    assert upload(b"z", other)[0] == 201
    clash = at(
        "apigw_assetdb_put_asset", body={"asset_version": {"version": "2.0", "tag": "initial"}}
    )
    assert invoke(handler, clash)[0] == 409
    moved = at("apigw_assetdb_put_asset", body={"asset_version": {"version": "3.0", "tag": "rc"}})
    status, body = invoke(handler, moved)
    assert (status, body["asset_uri"]) == (200, "SampleAsset:3.0-rc")
    assert invoke(handler, at("apigw_assetdb_get_asset", "SampleAsset:3.0-rc"))[0] == 200
    assert invoke(handler, event("apigw_assetdb_get_asset"))[0] == 404


def test_assets_without_full_uri_do_not_clash() -> None:
    nameless = {"asset_metadata": {"a": 1}}
    for _ in range(2):
        status, body = invoke(handler, event("apigw_assetdb_create_external", body=nameless))
        assert (status, body["asset_uri"]) == (201, "")


def test_external_asset_and_its_object_redirect() -> None:
    status, created = invoke(handler, event("apigw_assetdb_create_external"))
    assert (status, created["asset_uri"]) == (201, "Sample Asset:1.0-initial")
    assert invoke(handler, object_event(created["asset_id"]))[0] == 404
    linked = {"asset_name": "Linked", "asset_public_url": "https://example.com/model.bin"}
    _, created = invoke(handler, event("apigw_assetdb_create_external", body=linked))
    result = handler(object_event(created["asset_id"]), LocalContext("assetdb"))
    assert (result["statusCode"], result["headers"]["Location"]) == (
        307,
        "https://example.com/model.bin",
    )
    # API Gateway's HTTP API delivers the path decoded; the route does not decode it again.
    assert invoke(handler, at("apigw_assetdb_get_asset", "Sample Asset:1.0-initial"))[0] == 200
    assert invoke(handler, at("apigw_assetdb_get_asset", "Sample%20Asset:1.0-initial"))[0] == 404


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"asset_id": "mine"}, "asset_id"),
        ({"asset_uri": "x:1-y"}, "asset_uri"),
        ({"asset_public_url": "file:///etc/passwd"}, "asset_public_url"),
        ({"asset_name": "a/b"}, "asset_name"),
        ({"asset_tags": "x"}, "asset_tags"),
        ({"asset_version": {"version": 1}}, "asset_version.version"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_external_assets(body: dict[str, Any], named: str) -> None:
    status, answer = invoke(handler, event("apigw_assetdb_create_external", body=body))
    assert status == 400
    assert named in answer["error"]["message"]


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ({"asset_metadata": (None, b"{}")}, "'asset'"),
        ({"asset": ("f.bin", b"data")}, "'asset_metadata'"),
        ({"asset": ("f.bin", b"data"), "asset_metadata": (None, b"{not json")}, "not valid JSON"),
        (
            {"asset": ("f.bin", b"data"), "asset_metadata": (None, b'{"asset_tags": 3}')},
            "asset_tags",
        ),
        ({"asset": ("f.bin", b""), "asset_metadata": (None, b"{}")}, "'asset'"),
    ],
)
def test_bad_uploads_store_nothing(
    s3: Any, parts: dict[str, tuple[str | None, bytes]], message: str
) -> None:
    content_type, body = form(parts)
    request = event("apigw_assetdb_upload_asset", headers={"content-type": content_type})
    request["body"] = body
    status, answer = invoke(handler, request)
    assert status == 400
    assert message in answer["error"]["message"]
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0


def test_failed_record_removes_the_stored_file(s3: Any) -> None:
    upload(b"first")
    assert upload(b"second")[0] == 409
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=KEY_PREFIX)["KeyCount"] == 1


def test_large_upload_is_413_and_points_to_the_presigned_form() -> None:
    status, body = upload(b"x" * (5 * 1024 * 1024 + 1))
    assert status == 413
    assert "presigned" in body["error"]["message"]


def test_presigned_upload_completes_when_the_object_arrives(s3: Any) -> None:
    status, created = invoke(handler, event("apigw_assetdb_upload_asset_presigned"))
    assert status == 201
    assert created["asset_file_info"]["status"] == "pending"
    assert created["upload"]["fields"]["key"] == created["asset_file_info"]["key"]
    assert (
        invoke(handler, object_event(created["asset_id"]))[1]["error"]["code"]
        == "ASSET_OBJECT_PENDING"
    )
    data = b"w" * 3_000_000
    key = created["asset_file_info"]["key"]
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    record = json.loads((EVENTS / "sqs_s3_object_created.json").read_text())
    body = json.loads(record["Records"][0]["body"])
    body["Records"][0]["s3"]["object"]["key"] = key
    record["Records"][0]["body"] = json.dumps(body)
    assert ingest(record, LocalContext("ingest")) == {"batchItemFailures": []}
    status, found = invoke(handler, at("apigw_assetdb_get_asset", "Big:1.0-initial"))
    info = found["asset_file_info"]
    assert (info["status"], info["size"]) == ("available", len(data))
    assert info["sha256"] == hashlib.sha256(data).hexdigest()
    assert invoke(handler, object_event(created["asset_id"]))[0] == 307


@pytest.mark.parametrize(
    "body", [{"size": 10}, {"filename": "x", "size": 0}, {"filename": "x", "size": 10**13}]
)
def test_bad_presigned_requests(body: dict[str, Any]) -> None:
    status, _ = invoke(handler, event("apigw_assetdb_upload_asset_presigned", body=body))
    assert status in (400, 413)


def test_unknown_uris_and_ids_are_404() -> None:
    for request in (
        at("apigw_assetdb_get_asset", "Nope:1-x"),
        at("apigw_assetdb_put_asset", "Nope:1-x"),
        at("apigw_assetdb_delete_asset", "Nope:1-x"),
        object_event("00000000-0000-0000-0000-000000000000"),
    ):
        assert invoke(handler, request)[0] == 404


@pytest.mark.parametrize(
    "body",
    [{"$where": "1"}, {"asset_tags": {"$function": {}}}, {"asset_name": {"$regex": "(a+)+$"}}],
)
def test_refused_filters(body: dict[str, Any]) -> None:
    status, answer = invoke(handler, event("apigw_assetdb_query_operators", body=body))
    assert status == 400
    assert answer["success"] is False


def test_health() -> None:
    assert invoke(handler, event("apigw_assetdb_health")) == (200, {"status": "ok"})


def head_event(asset_id: str) -> dict[str, Any]:
    request = object_event(asset_id)
    request["requestContext"]["http"]["method"] = "HEAD"
    request["routeKey"] = "HEAD /assetdb/asset-object/{asset_id}"
    request["requestContext"]["routeKey"] = request["routeKey"]
    return request


def test_the_file_comes_with_its_name_and_type_and_head_describes_it(s3: Any) -> None:
    import urllib.request

    data = b"%PDF-1.7 a report"
    status, created = upload(data, filename="r\u00e9sum\u00e9 final.pdf")
    assert status == 201, created
    asset_id = created["asset_id"]
    # HEAD: the descriptor, no body
    result = handler(head_event(asset_id), LocalContext("assetdb"))
    assert result["statusCode"] == 200, result
    headers = result["headers"]
    assert headers["Content-Length"] == str(len(data))
    assert headers["Content-Type"] == "application/pdf"
    assert headers["x-checksum-sha256"] == hashlib.sha256(data).hexdigest()
    assert headers["Content-Disposition"] == (
        "attachment; filename=\"r_sum_ final.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20final.pdf"
    )
    assert headers["Last-Modified"].endswith(" GMT")
    assert not result.get("body")
    # GET: the presigned link makes S3 answer with the same name and type
    location = handler(object_event(asset_id), LocalContext("assetdb"))["headers"]["Location"]
    with urllib.request.urlopen(location, timeout=10) as answer:
        assert answer.read() == data
        assert answer.headers["Content-Type"] == "application/pdf"
        assert answer.headers["Content-Disposition"] == headers["Content-Disposition"]


def test_head_of_an_unknown_or_pending_record_is_404() -> None:
    result = handler(head_event("no-such-record"), LocalContext("assetdb"))
    assert result["statusCode"] == 404
