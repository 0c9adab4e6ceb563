"""The ZIP API group and the download function, with API Gateway and function URL events."""

from __future__ import annotations

import base64
import io
import json
import os
import time
import zipfile
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from assets_core.config import get_settings
from assets_core.keys import upload_key
from functions.ingest.handler import ingest
from functions.registry_download.handler import stream
from functions.registry_zip.handler import handler
from local.apigw import LocalContext
from tests.integration.test_ingest import run, upload
from tests.support import EVENTS, bundle_asset, event, invoke, zip_bytes

pytestmark = pytest.mark.usefixtures("s3", "status")
BUCKET = get_settings().bucket_name


def test_presigned_upload_answers_a_post_policy_and_queues(s3: Any) -> None:
    status, body = invoke(handler, event("apigw_registry_zip_upload_presigned"))
    assert status == 202
    upload = body["upload"]
    assert upload["method"] == "POST"
    assert upload["fields"]["key"] == upload_key(body["upload_id"])
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    declared = json.loads(event("apigw_registry_zip_upload_presigned")["body"])["size"]
    assert ["content-length-range", declared, declared] in policy["conditions"]
    assert body["status_url"] == f"/registry/zip/status/{body['upload_id']}"
    status_event = event(
        "apigw_registry_zip_status",
        path=body["status_url"],
        path_parameters={"upload_id": body["upload_id"]},
    )
    assert invoke(handler, status_event) == (
        200,
        {"upload_id": body["upload_id"], "status": "queued"},
    )


def test_empty_body_also_gets_a_presigned_upload() -> None:
    status, body = invoke(handler, event("apigw_registry_zip_upload_presigned", raw_body=""))
    assert status == 202
    assert body["upload"]["url"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"size": 6 * 1024**3, "multipart": False}, 413),
        ({"size": "big"}, 400),
        ({"nope": 1}, 400),
        ({"size": 0}, 400),
    ],
)
def test_bad_presigned_requests(body: dict[str, Any], status: int) -> None:
    answer, result = invoke(handler, event("apigw_registry_zip_upload_presigned", body=body))
    assert answer == status
    assert result["success"] is False


def multipart(data: bytes, name: str = "file") -> tuple[str, str]:
    boundary = "boundary1234"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="b.zip"\r\n'
            "Content-Type: application/zip\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return f"multipart/form-data; boundary={boundary}", base64.b64encode(body).decode()


def test_direct_upload_writes_the_bundle_where_ingest_finds_it(s3: Any) -> None:
    data = zip_bytes({"a.txt": b"direct"}, asset=bundle_asset("direct-1"))
    content_type, body = multipart(data)
    request = event("apigw_registry_zip_upload_direct", headers={"content-type": content_type})
    request["body"] = body
    status, answer = invoke(handler, request)
    assert status == 202
    assert answer["success"] is True
    stored = s3.get_object(Bucket=BUCKET, Key=upload_key(answer["upload_id"]))["Body"].read()
    assert stored == data
    assert run(answer["upload_id"]) == {"batchItemFailures": []}


def test_recorded_direct_upload_event_is_accepted() -> None:
    status, body = invoke(handler, event("apigw_registry_zip_upload_direct"))
    assert (status, body["success"]) == (202, True)


def test_direct_upload_over_the_limit_points_to_the_presigned_flow(s3: Any) -> None:
    content_type, body = multipart(os.urandom(5 * 1024 * 1024 + 1))
    request = event("apigw_registry_zip_upload_direct", headers={"content-type": content_type})
    request["body"] = body
    status, answer = invoke(handler, request)
    assert status == 413
    assert "presigned" in answer["error"]["message"]
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0


def test_direct_upload_without_a_file_part() -> None:
    content_type, body = multipart(b"zip", name="other")
    request = event("apigw_registry_zip_upload_direct", headers={"content-type": content_type})
    request["body"] = body
    status, answer = invoke(handler, request)
    assert status == 400
    assert "'file'" in answer["error"]["message"]


def test_wrong_content_type_is_415() -> None:
    request = event("apigw_registry_zip_upload_presigned", headers={"content-type": "text/plain"})
    assert invoke(handler, request)[0] == 415


@pytest.mark.parametrize("upload_id", ["0a5e3de1-1fcd-4a65-9c83-18c5c0b4d612", "not-a-uuid"])
def test_unknown_upload_is_404(upload_id: str) -> None:
    request = event(
        "apigw_registry_zip_status",
        path=f"/registry/zip/status/{upload_id}",
        path_parameters={"upload_id": upload_id},
    )
    status, body = invoke(handler, request)
    assert (status, body["error"]["code"]) == (404, "UPLOAD_NOT_FOUND")


def redirect_for(asset_id: str) -> tuple[int, Any, dict[str, Any]]:
    request = event(
        "apigw_registry_zip_download",
        path=f"/registry/zip/download/{asset_id}",
        path_parameters={"asset_id": asset_id},
    )
    result = handler(request, LocalContext("zip"))
    return result["statusCode"], json.loads(result["body"]), result["headers"]


def function_url_event(location: str) -> dict[str, Any]:
    request: dict[str, Any] = json.loads((EVENTS / "function_url_download.json").read_text())
    query = urlsplit(location).query
    request["rawQueryString"] = query
    request["queryStringParameters"] = dict(parse_qsl(query))
    return request


def test_download_round_trip_is_byte_identical(s3: Any) -> None:
    # Given an ingested bundle with deflated, stored and nested members
    members = {
        "w/model.bin": os.urandom(2_000_000),
        "cfg.json": b'{"a": 1}',
        "n/e/s/t.txt": b"t" * 10,
    }
    upload_id = upload(zip_bytes(members, stored=("w/model.bin",), asset=bundle_asset("dl-1")))
    run(upload_id)
    # When the download is requested, the answer is a 307 to a signed link
    status, body, headers = redirect_for("dl-1")
    assert status == 307
    assert headers["Location"] == body["location"]
    # And the download function streams the ZIP
    response = stream(function_url_event(headers["Location"]), LocalContext("download"))
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"] == 'attachment; filename="dl-1.zip"'
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.body)))
    # Then every file comes back identical, with asset.json holding the stored document
    assert {name: archive.read(name) for name in members} == members
    document = json.loads(archive.read("asset.json"))
    assert document["asset_id"] == "dl-1"
    assert sorted(archive.namelist()) == sorted([*members, "asset.json"])
    assert archive.getinfo("w/model.bin").compress_type == zipfile.ZIP_STORED


def test_download_of_unknown_asset_is_404() -> None:
    status, body, _ = redirect_for("nobody")
    assert (status, body["error"]["code"]) == (404, "ASSET_NOT_FOUND")


def test_download_links_missing_forged_or_expired_are_403(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(upload(zip_bytes({"a": b"x"}, asset=bundle_asset("dl-2"))))
    _, _, headers = redirect_for("dl-2")
    good = function_url_event(headers["Location"])
    assert stream(good).status == 200
    forged = function_url_event(headers["Location"].replace("dl-2", "dl-3"))
    missing = function_url_event("https://x/")
    for request, code in ((forged, "DOWNLOAD_TOKEN_INVALID"), (missing, "DOWNLOAD_TOKEN_INVALID")):
        response = stream(request)
        assert response.status == 403
        assert json.loads(b"".join(response.body))["error"]["code"] == code
    monkeypatch.setattr(time, "time", lambda: 4_000_000_000.0)
    expired = stream(good)
    assert expired.status == 403
    assert json.loads(b"".join(expired.body))["error"]["code"] == "DOWNLOAD_TOKEN_EXPIRED"


def test_signed_link_to_a_purged_asset_is_404(s3: Any) -> None:
    from functions.registry_write.handler import handler as write_handler

    run(upload(zip_bytes({"a": b"x"}, asset=bundle_asset("dl-4"))))
    _, _, headers = redirect_for("dl-4")
    deleted = event(
        "apigw_registry_purge_asset",
        path="/registry/assets/dl-4",
        path_parameters={"asset_id": "dl-4"},
    )
    assert invoke(write_handler, deleted)[0] == 200
    response = stream(function_url_event(headers["Location"]))
    assert response.status == 404
    assert json.loads(b"".join(response.body))["error"]["code"] == "DOWNLOAD_GONE"


def test_a_link_whose_manifest_is_gone_is_404(s3: Any) -> None:
    run(upload(zip_bytes({"a": b"x"}, asset=bundle_asset("dl-4b"))))
    _, _, headers = redirect_for("dl-4b")
    manifest = dict(parse_qsl(urlsplit(headers["Location"]).query))["manifest"]
    s3.delete_object(Bucket=BUCKET, Key=manifest)
    response = stream(function_url_event(headers["Location"]))
    assert response.status == 404


def test_ingest_is_reachable_through_the_recorded_event(s3: Any) -> None:
    recorded = json.loads((EVENTS / "sqs_s3_object_created.json").read_text())
    assert ingest(recorded, LocalContext("ingest")) == {"batchItemFailures": []}


def test_an_unexpected_failure_before_streaming_is_a_500_not_a_404(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import functions.registry_download.handler as download

    run(upload(zip_bytes({"a": b"x"}, asset=bundle_asset("dl-5"))))
    _, _, headers = redirect_for("dl-5")

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(download.Manifest, "from_json", broken)
    response = stream(function_url_event(headers["Location"]))
    assert response.status == 500
    assert json.loads(b"".join(response.body))["error"]["code"] == "INTERNAL_ERROR"


def test_a_download_link_streams_the_asset_as_it_was_when_issued(s3: Any) -> None:
    # Given a link issued while the asset is at version v1
    run(upload(zip_bytes({"a": b"x"}, asset=bundle_asset("dl-v1"))))
    _, _, headers = redirect_for("dl-v1")
    link = function_url_event(headers["Location"])
    # When the asset gets another version before the link is used
    run(upload(zip_bytes({"a": b"y"}, asset=bundle_asset("dl-v1", asset_version="v2"))))

    # Then the link downloads the snapshot it was issued for, and a new link the new one
    def version_in(request: dict[str, Any]) -> str:
        response = stream(request)
        assert response.status == 200
        archive = zipfile.ZipFile(io.BytesIO(b"".join(response.body)))
        return str(json.loads(archive.read("asset.json"))["asset_version"])

    assert version_in(link) == "v1"
    _, _, headers = redirect_for("dl-v1")
    assert version_in(function_url_event(headers["Location"])) == "v2"
