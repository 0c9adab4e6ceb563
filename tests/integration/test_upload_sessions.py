"""Upload sessions (the contract's "Large and verified uploads"): a bundle or an Assets DB file
sent in parts through URLs signed for each part's size and checksum, on LocalStack's S3, which
like S3 refuses a part whose bytes do not match; listed to resume, completed only when every
part is there and matches, then ingested as usual; aborted, expired, and owners' only."""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from assets_core.config import get_settings
from assets_core.stores.factory import assetdb_store
from assets_core.stores.status import status_store
from functions.assetdb.handler import handler as assetdb_handler
from functions.ingest.handler import ingest
from functions.registry_zip.handler import handler as zip_handler
from local.apigw import LocalContext
from tests.integration.test_ingest import run, status_of
from tests.support import EVENTS, bundle_asset, caller, event, invoke, object_created, zip_bytes

pytestmark = pytest.mark.usefixtures("s3", "status")
BUCKET = get_settings().bucket_name
MIB = 1024 * 1024
UPLOADER = caller("session-uploader", "assets-writer")
STRANGER = caller("session-stranger", "assets-writer")


def crc(data: bytes) -> str:
    return f"{zlib.crc32(data):08x}"


def split(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


def a_bundle(asset_id: str, size: int = 11 * MIB) -> bytes:
    """A stored (incompressible) bundle of about ``size`` bytes."""
    return zip_bytes(
        {"weights.bin": os.urandom(size)}, stored=("weights.bin",), asset=bundle_asset(asset_id)
    )


def open_session(body: dict[str, Any], who: Any = UPLOADER) -> tuple[int, Any]:
    return invoke(zip_handler, event("apigw_registry_zip_upload_presigned", body=body, caller=who))


def session_call(
    name: str, upload_id: str, body: Any = None, who: Any = UPLOADER, handler: Any = zip_handler
) -> tuple[int, Any]:
    service = "assetdb" if handler is assetdb_handler else "registry"
    recorded = json.loads((EVENTS / f"apigw_{service}_{name}.json").read_text())
    path = recorded["rawPath"].replace(recorded["pathParameters"]["upload_id"], upload_id)
    options: dict[str, Any] = {"path": path, "path_parameters": {"upload_id": upload_id}}
    if body is not None:
        options["body"] = body
    return invoke(handler, event(f"apigw_{service}_{name}", caller=who, **options))


def put_part(signed: dict[str, Any], data: bytes, **headers: str) -> httpx.Response:
    return httpx.put(signed["url"], content=data, headers={**signed["headers"], **headers})


def send_all(
    upload: dict[str, Any],
    parts: list[bytes],
    *,
    first: int = 1,
    handler: Any = zip_handler,
    checksum: Callable[[bytes], str] = crc,
) -> list[dict[str, Any]]:
    """Sign the parts from ``first`` on (in one request), send each; what completing names
    for them."""
    declared = [
        {"part_number": n, "checksum": checksum(parts[n - 1])} for n in range(first, len(parts) + 1)
    ]
    status, signed = session_call(
        "sign_upload_parts", upload["upload_id"], {"parts": declared}, handler=handler
    )
    assert status == 200, signed
    named = []
    for item in signed["parts"]:
        data = parts[item["part_number"] - 1]
        answer = put_part(item, data)
        assert answer.status_code == 200, answer.text
        named.append(
            {
                "part_number": item["part_number"],
                "etag": answer.headers["etag"],
                "checksum": checksum(data),
            }
        )
    return named


def test_a_bundle_sent_in_parts_is_resumable_completed_and_ingested(s3: Any) -> None:
    # Given a session for an 11 MiB bundle in parts of 5 MiB, the first part signed at once
    bundle = a_bundle("session-ok")
    parts = split(bundle, 5 * MIB)
    status, started = open_session(
        {
            "filename": "b.zip",
            "size": len(bundle),
            "multipart": True,
            "part_size": 5 * MIB,
            "crc32": crc(bundle),
            "parts": [{"part_number": 1, "checksum": crc(parts[0])}],
        }
    )
    assert status == 202, started
    upload = started["upload"]
    assert (upload["method"], upload["part_count"], upload["status"]) == (
        "multipart",
        3,
        "uploading",
    )
    assert "store_upload_id" not in json.dumps(started)  # nor the key: only in signed URLs
    first = put_part(upload["parts"][0], parts[0])
    assert first.status_code == 200, first.text

    # When the client comes back, the session lists what the store holds and what is missing
    status, listed = session_call("get_upload_session", upload["upload_id"])
    assert status == 200, listed
    assert [p["part_number"] for p in listed["received"]] == [1]
    assert listed["received"][0]["checksum"] == crc(parts[0])
    assert listed["missing"] == [2, 3]

    # Then the rest are sent, every part named on completion, and ingest runs as usual
    named = send_all(upload, parts)
    status, completed = session_call(
        "complete_upload_session", upload["upload_id"], {"parts": named}
    )
    assert (status, completed["status"]) == (202, "completing"), completed
    again = session_call("complete_upload_session", upload["upload_id"], {"parts": named})
    assert again[0] == 202, again
    run(upload["upload_id"])
    assert status_of(upload["upload_id"])["status"] == "success"
    stored = s3.list_objects_v2(Bucket=BUCKET, Prefix="assets/session-ok/")["Contents"]
    weights = [item for item in stored if item["Key"].endswith("weights.bin")]
    assert [item["Size"] for item in weights] == [11 * MIB]
    # completing after ingest still answers, with the upload's status
    status, late = session_call("complete_upload_session", upload["upload_id"], {"parts": named})
    assert (status, late["status"]) == (202, "success")


def test_a_part_whose_bytes_differ_from_its_checksum_is_refused_by_the_store() -> None:
    status, started = open_session({"size": 6 * MIB, "multipart": True, "part_size": 5 * MIB})
    assert status == 202, started
    upload = started["upload"]
    data = os.urandom(5 * MIB)
    status, signed = session_call(
        "sign_upload_parts",
        upload["upload_id"],
        {"parts": [{"part_number": 1, "checksum": crc(data)}]},
    )
    assert status == 200, signed
    part = signed["parts"][0]
    tampered = put_part(part, data[:-1] + bytes([data[-1] ^ 1]))
    assert tampered.status_code == 400, tampered.text
    assert "BadDigest" in tampered.text
    # without the signed checksum header, or with another, the signature refuses it
    bare = httpx.put(part["url"], content=data)
    assert bare.status_code == 403, bare.text
    status, listed = session_call("get_upload_session", upload["upload_id"])
    assert (listed["received"], listed["missing"]) == ([], [1, 2])


def test_completing_names_the_missing_or_different_part_and_keeps_the_session() -> None:
    bundle = a_bundle("session-missing")
    parts = split(bundle, 5 * MIB)
    _, started = open_session({"size": len(bundle), "multipart": True, "part_size": 5 * MIB})
    upload = started["upload"]
    named = send_all(upload, parts[:2])  # the third never sent
    third = {"part_number": 3, "etag": '"0"', "checksum": crc(parts[2])}
    status, answer = session_call(
        "complete_upload_session", upload["upload_id"], {"parts": [*named, third]}
    )
    assert (status, answer["error"]["code"]) == (400, "PART_MISSING"), answer
    assert "Part 3" in answer["error"]["message"]
    status, answer = session_call("complete_upload_session", upload["upload_id"], {"parts": named})
    assert (status, answer["error"]["code"]) == (400, "PART_MISSING"), answer
    named += send_all(upload, parts, first=3)
    wrong = [dict(named[0], etag='"ffffffffffffffffffffffffffffffff"'), *named[1:]]
    status, answer = session_call("complete_upload_session", upload["upload_id"], {"parts": wrong})
    assert (status, answer["error"]["code"]) == (400, "PART_MISMATCH"), answer
    assert "Part 1" in answer["error"]["message"]
    status, answer = session_call("complete_upload_session", upload["upload_id"], {"parts": named})
    assert status == 202, answer


def test_a_declared_whole_crc32_that_the_parts_do_not_make_is_refused(s3: Any) -> None:
    bundle = a_bundle("session-crc")
    parts = split(bundle, 5 * MIB)
    _, started = open_session(
        {
            "size": len(bundle),
            "multipart": True,
            "part_size": 5 * MIB,
            "crc32": f"{zlib.crc32(bundle) ^ 1:08x}",
        }
    )
    upload = started["upload"]
    named = send_all(upload, parts)
    status, answer = session_call("complete_upload_session", upload["upload_id"], {"parts": named})
    assert (status, answer["error"]["code"]) == (400, "CHECKSUM_MISMATCH"), answer
    assert status_of(upload["upload_id"])["status"] == "uploading"
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="incoming/").get("KeyCount") == 0


def test_another_users_session_does_not_exist_for_them() -> None:
    _, started = open_session({"size": 6 * MIB, "multipart": True})
    upload_id = started["upload"]["upload_id"]
    declared = {"parts": [{"part_number": 1, "checksum": "00000000"}]}
    named = {"parts": [{"part_number": 1, "etag": '"x"', "checksum": "00000000"}]}
    for name, body in (
        ("get_upload_session", None),
        ("sign_upload_parts", declared),
        ("complete_upload_session", named),
        ("delete_upload_session", None),
    ):
        status, answer = session_call(name, upload_id, body, who=STRANGER)
        assert (status, answer["error"]["code"]) == (404, "UPLOAD_NOT_FOUND"), (name, answer)
    # an admin sees it; the registry's routes do not serve an Assets DB session, nor a
    # bundle sent in one request
    assert (
        session_call("get_upload_session", upload_id, who=caller("adm", "assets-admin"))[0] == 200
    )
    _, single = open_session({"size": 1000})
    assert session_call("get_upload_session", single["upload_id"])[0] == 404
    assert session_call("get_upload_session", "not-a-uuid")[0] == 404


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"size": 5 * 1024**4 + 1, "multipart": True}, "SESSION_LIMIT"),
        ({"size": 10_001 * 5 * MIB, "multipart": True, "part_size": 5 * MIB}, "SESSION_LIMIT"),
        ({"multipart": True}, "SIZE_REQUIRED"),
        ({"size": 6 * MIB, "multipart": True, "part_size": 4 * MIB}, "INVALID_INPUT"),
        ({"size": 6 * MIB, "multipart": True, "sha256": "a" * 64}, "INVALID_INPUT"),
        (
            {"size": 6 * MIB, "multipart": True, "checksum_algorithm": "sha256", "crc32": "0" * 8},
            "INVALID_INPUT",
        ),
        ({"size": 6 * MIB, "multipart": True, "checksum_algorithm": "md5"}, "INVALID_INPUT"),
    ],
)
def test_sessions_past_the_limits_are_400_with_the_limit(body: dict[str, Any], code: str) -> None:
    status, answer = open_session(body)
    assert (status, answer["error"]["code"]) == (400, code), answer
    if code == "SESSION_LIMIT":
        assert (
            "10000" in answer["error"]["message"] or "5497558138880" in answer["error"]["message"]
        )


def test_the_server_picks_a_part_size_within_10000_parts() -> None:
    status, started = open_session({"size": 200 * 1024**3})  # past the threshold: a session
    assert status == 202, started
    upload = started["upload"]
    assert upload["part_count"] <= 10_000
    assert upload["part_size"] * upload["part_count"] >= 200 * 1024**3
    status, answer = session_call(
        "sign_upload_parts",
        upload["upload_id"],
        {"parts": [{"part_number": upload["part_count"] + 1, "checksum": "00000000"}]},
    )
    assert (status, answer["error"]["code"]) == (400, "PART_OUT_OF_RANGE"), answer
    status, answer = session_call(
        "sign_upload_parts",
        upload["upload_id"],
        {"parts": [{"part_number": 1, "checksum": "0" * 64}]},
    )
    assert (status, answer["error"]["code"]) == (400, "BAD_CHECKSUM"), answer


def test_an_aborted_session_takes_no_parts_and_aborting_again_answers_the_same(s3: Any) -> None:
    _, started = open_session({"size": 6 * MIB, "multipart": True})
    upload_id = started["upload"]["upload_id"]
    status, aborted = session_call("delete_upload_session", upload_id)
    assert (status, aborted["status"]) == (200, "aborted"), aborted
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert session_call("delete_upload_session", upload_id)[1]["status"] == "aborted"
    status, answer = session_call(
        "sign_upload_parts", upload_id, {"parts": [{"part_number": 1, "checksum": "00000000"}]}
    )
    assert (status, answer["error"]["code"]) == (409, "SESSION_ABORTED"), answer
    assert status_of(upload_id)["status"] == "aborted"


def test_an_expired_session_is_aborted_and_says_so(s3: Any) -> None:
    # one past its time, and one whose store upload the bucket's rule aborted
    _, late = open_session({"size": 6 * MIB, "multipart": True})
    late_id = late["upload"]["upload_id"]
    record = status_of(late_id)
    record["session"]["expires_at"] = "2020-01-01T00:00:00+00:00"
    status_store().put(late_id, record)
    status, listed = session_call("get_upload_session", late_id)
    assert (status, listed["status"]) == (200, "expired"), listed
    _, ruled = open_session({"size": 6 * MIB, "multipart": True})
    ruled_id = ruled["upload"]["upload_id"]
    for upload in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
    status, listed = session_call("get_upload_session", ruled_id)
    assert (status, listed["status"]) == (200, "expired"), listed
    named = {"parts": [{"part_number": 1, "etag": '"x"', "checksum": "00000000"}]}
    for upload_id in (late_id, ruled_id):
        status, answer = session_call("complete_upload_session", upload_id, named)
        assert (status, answer["error"]["code"]) == (409, "SESSION_EXPIRED"), answer
        assert status_of(upload_id)["status"] == "expired"
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_an_assets_db_file_sent_in_parts_completes_its_record(s3: Any) -> None:
    data = os.urandom(7 * MIB)
    parts = split(data, 5 * MIB)
    body = {
        "filename": "big.bin",
        "size": len(data),
        "multipart": True,
        "part_size": 5 * MIB,
        "crc32": crc(data),
        "asset_metadata": {"asset_name": "Big", "asset_version": {"version": "1", "tag": "a"}},
    }
    status, created = invoke(
        assetdb_handler, event("apigw_assetdb_upload_asset_presigned", body=body, caller=UPLOADER)
    )
    assert status == 201, created
    upload = created["upload"]
    assert (upload["method"], upload["part_count"]) == ("multipart", 2)
    assert upload["session_url"] == f"/assetdb/uploads/{upload['upload_id']}"
    named = send_all(upload, parts, handler=assetdb_handler)
    # the registry's routes do not serve it
    assert session_call("get_upload_session", upload["upload_id"])[0] == 404
    status, completed = session_call(
        "complete_upload_session", upload["upload_id"], {"parts": named}, handler=assetdb_handler
    )
    assert (status, completed["status"]) == (202, "completed"), completed
    key = f"assetdb/{created['asset_id']}/"
    [stored] = s3.list_objects_v2(Bucket=BUCKET, Prefix=key)["Contents"]
    ingest(object_created(stored["Key"]), LocalContext("ingest"))
    record = assetdb_store().get(created["asset_id"])
    assert record is not None
    info = record["asset_file_info"]
    assert (info["status"], info["size"]) == ("available", len(data)), info
    assert info["sha256"] == hashlib.sha256(data).hexdigest()
