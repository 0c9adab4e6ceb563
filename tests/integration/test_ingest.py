"""The ingest function called with SQS-wrapped S3 events; S3 on moto, status in Redis."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import struct
import uuid
import zipfile
import zlib
from typing import Any

import pytest

from assets_core.config import get_settings
from assets_core.keys import upload_key
from assets_core.logic import assets
from assets_core.models.asset import Asset
from assets_core.stores.factory import assets_store, versions_store
from assets_core.stores.objects import Part, S3ObjectStore, crc32_header
from functions.ingest import handler as ingest_module
from local.apigw import LocalContext
from tests.support import EVENTS, QUEUED, bundle_asset, make_asset, zip_bytes

pytestmark = pytest.mark.usefixtures("s3", "status")
BUCKET = get_settings().bucket_name


def sqs_event(*upload_ids: str) -> dict[str, Any]:
    """The recorded SQS event, one message per upload; keys URL-encoded as S3 sends them."""
    template = json.loads((EVENTS / "sqs_s3_object_created.json").read_text())["Records"][0]
    records = []
    for upload_id in upload_ids:
        record = copy.deepcopy(template)
        body = json.loads(record["body"])
        body["Records"][0]["s3"]["object"]["key"] = upload_key(upload_id).replace("/", "%2F")
        record["body"] = json.dumps(body)
        record["messageId"] = upload_id
        records.append(record)
    return {"Records": records}


def upload(data: bytes) -> str:
    upload_id = str(uuid.uuid4())
    from assets_core.stores.objects import object_store
    from assets_core.stores.status import status_store

    status_store().put(upload_id, dict(QUEUED))
    object_store().put(upload_key(upload_id), data, "application/zip")
    return upload_id


def run(*upload_ids: str) -> dict[str, Any]:
    return ingest_module.ingest(sqs_event(*upload_ids), LocalContext("ingest"))


def status_of(upload_id: str) -> dict[str, Any]:
    from assets_core.stores.status import status_store

    record = status_store().get(upload_id)
    assert record is not None
    return record


def stored_keys(s3: Any, prefix: str = "assets/") -> list[str]:
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def test_bundle_is_stored_and_registered(s3: Any) -> None:
    # Given a bundle with nested, deflated and stored members, one of them over 5 MiB
    big = os.urandom(6 * 1024 * 1024)
    members = {
        "models/v1/weights.bin": big,
        "config.json": b'{"k": 1}',
        "docs/a/b/readme.md": b"# hi" * 5000,
    }
    asset = bundle_asset(
        files=[
            {
                "asset_file_id": "weights",
                "asset_file_type": "weights",
                "asset_file_mime_type": "application/octet-stream",
                "asset_file_metadata": {"path": "models/v1/weights.bin"},
            }
        ]
    )
    upload_id = upload(zip_bytes(members, stored=("models/v1/weights.bin",), asset=asset))
    # When the ingest function receives its event
    assert run(upload_id) == {"batchItemFailures": []}
    # Then the upload succeeded and every file is stored with its size and sha256
    assert status_of(upload_id) == {
        **QUEUED,
        "upload_id": upload_id,
        "status": "success",
        "asset_id": "bundle-001",
        "asset_version": "v1",
        "ingest_runs": 1,
    }
    document = assets.get("bundle-001", store=assets_store())
    assert document["asset_file_ids"] == ["weights", "config.json", "docs/a/b/readme.md"]
    for entry in document["files"]:
        path = entry["asset_file_metadata"]["path"]
        key = entry["asset_file_url"].removeprefix(f"s3://{BUCKET}/")
        assert key == f"assets/bundle-001/{upload_id}/{path}"
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        assert body == members[path]
        assert entry["asset_file_metadata"]["size"] == len(members[path])
        assert entry["asset_file_metadata"]["sha256"] == hashlib.sha256(members[path]).hexdigest()
    assert stored_keys(s3, "incoming/") == [], "the bundle is removed once ingested"


def multipart_etag(data: bytes, part_bytes: int) -> str:
    """The ETag S3 gives an object assembled from parts of ``part_bytes``: the MD5 of the
    parts' MD5s, then a dash and the number of parts (a single PUT has no dash)."""
    parts = [data[start : start + part_bytes] for start in range(0, len(data), part_bytes)]
    together = b"".join(hashlib.md5(part).digest() for part in parts)
    return f'"{hashlib.md5(together).hexdigest()}-{len(parts)}"'


def test_large_deflated_member_goes_up_in_parts(s3: Any) -> None:
    # Given a deflated member of 20 MiB, more than two of the configured parts
    data = os.urandom(10 * 1024 * 1024).hex().encode()  # 20 MiB that deflates about 2:1
    part_bytes = get_settings().ingest_part_bytes
    assert len(data) > 2 * part_bytes
    upload_id = upload(zip_bytes({"big.txt": data}, asset=bundle_asset()))
    # When it is ingested
    run(upload_id)
    # Then the store assembled the object from parts of the configured size, in order
    assert status_of(upload_id)["status"] == "success"
    key = f"assets/bundle-001/{upload_id}/big.txt"
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == multipart_etag(data, part_bytes)
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data


def test_parts_carry_the_crc32_of_the_bytes_they_hold(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a stored member copied server-side in three parts (5, 5 and 2 MiB), read in 1 MiB
    # chunks that do not line up with the parts, and a deflated member uploaded in parts
    monkeypatch.setattr(get_settings(), "ingest_copy_part_bytes", 5 * 1024 * 1024)
    stored = os.urandom(12 * 1024 * 1024)
    deflated = os.urandom(6 * 1024 * 1024).hex().encode()
    completed: dict[str, list[Part]] = {}
    original = S3ObjectStore.complete_multipart

    def recording(self: S3ObjectStore, key: str, upload_id: str, parts: list[Part]) -> None:
        completed[key.rsplit("/", 1)[-1]] = parts
        original(self, key, upload_id, parts)

    monkeypatch.setattr(S3ObjectStore, "complete_multipart", recording)
    upload_id = upload(
        zip_bytes(
            {"weights.bin": stored, "log.txt": deflated},
            stored=("weights.bin",),
            asset=bundle_asset(),
        )
    )
    # When it is ingested
    run(upload_id)
    assert status_of(upload_id)["status"] == "success"
    # Then each part was completed with the CRC32 of exactly its bytes
    for name, data, size in (("weights.bin", stored, 5), ("log.txt", deflated, 8)):
        step = size * 1024 * 1024
        expected = [zlib.crc32(data[start : start + step]) for start in range(0, len(data), step)]
        assert [part.crc32 for part in completed[name]] == expected, name
        # and the store, which computed its own checksum of the parts it holds, agrees
        key = f"assets/bundle-001/{upload_id}/{name}"
        head = s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
        together = b"".join(crc.to_bytes(4, "big") for crc in expected)
        assert head["ChecksumCRC32"].split("-")[0] == crc32_header(zlib.crc32(together))
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data


@pytest.mark.parametrize("manifest_first", [True, False])
def test_asset_json_leading_the_archive_is_read_on_the_way(
    s3: Any, monkeypatch: pytest.MonkeyPatch, manifest_first: bool
) -> None:
    # Given one read per bundle, and asset.json first (as `assets upload` writes it) or last
    monkeypatch.setattr(get_settings(), "ingest_read_streams", 1)
    reads: list[tuple[int, int]] = []
    original = S3ObjectStore.stream_range

    def counting(self: S3ObjectStore, key: str, start: int, end: int, chunk: int = 1 << 20) -> Any:
        reads.append((start, end))
        return original(self, key, start, end, chunk)

    monkeypatch.setattr(S3ObjectStore, "stream_range", counting)
    members = {"a.bin": os.urandom(3000), "b.txt": b"text " * 1000}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if manifest_first:
            archive.writestr("asset.json", json.dumps(bundle_asset()))
        for name, data in members.items():
            archive.writestr(name, data)
        if not manifest_first:
            archive.writestr("asset.json", json.dumps(bundle_asset()))
    upload_id = upload(buffer.getvalue())
    # When it is ingested
    run(upload_id)
    # Then every file is stored, and a leading asset.json cost no read of its own
    assert status_of(upload_id)["status"] == "success"
    for name, data in members.items():
        key = f"assets/bundle-001/{upload_id}/{name}"
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data
    assert len(reads) == (1 if manifest_first else 2), reads


def test_duplicate_delivery_is_harmless(s3: Any) -> None:
    upload_id = upload(zip_bytes({"a.txt": b"a"}, asset=bundle_asset()))
    assert run(upload_id, upload_id) == {"batchItemFailures": []}
    assert run(upload_id) == {"batchItemFailures": []}
    assert status_of(upload_id)["status"] == "success"
    assert assets_store().count({}) == 1
    assert len(stored_keys(s3)) == 1


def failed(upload_id: str) -> str:
    record = status_of(upload_id)
    assert record["status"].startswith("failed: "), record
    reason: str = record["status"]
    return reason


def assert_nothing_stored(s3: Any) -> None:
    assert stored_keys(s3) == []
    assert assets_store().count({}) == 0


def with_nul_name() -> bytes:
    data = bytearray(zip_bytes({"aXb": b"x"}, asset=bundle_asset()))
    return bytes(data).replace(b"aXb", b"a\x00b")


def too_many_members() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("asset.json", json.dumps(bundle_asset()))
        for n in range(10_001):
            archive.writestr(f"f/{n}", b"")
    return buffer.getvalue()


def duplicate_names() -> bytes:
    data = zip_bytes({"a.txt": b"1", "b.txt": b"2"}, asset=bundle_asset())
    return data.replace(b"b.txt", b"a.txt")


def overlapping_members() -> bytes:
    """Two directory entries pointing at one member's bytes (read on separate streams)."""
    data = bytearray(
        zip_bytes({"a.bin": os.urandom(4000), "b.bin": os.urandom(4000)}, asset=bundle_asset())
    )
    entries = [i for i in range(len(data) - 3) if data[i : i + 4] == b"PK\x01\x02"]
    first = struct.unpack_from("<I", data, entries[1] + 42)[0]
    struct.pack_into("<I", data, entries[2] + 42, first)  # b.bin points at a.bin's header
    return bytes(data)


HOSTILE = {
    "overlapping members": (overlapping_members, "overlap"),
    "not a zip": (lambda: b"this is not a zip file" * 100, "not a ZIP"),
    "truncated": (lambda: zip_bytes({"a": os.urandom(20_000)}, asset=bundle_asset())[:-100], "ZIP"),
    "no asset.json": (lambda: zip_bytes({"a.txt": b"x"}), "no asset.json"),
    "asset.json not JSON": (lambda: zip_bytes({"asset.json": b"{nope"}), "not valid JSON"),
    "asset.json a list": (lambda: zip_bytes({"asset.json": b"[]"}), "JSON object"),
    "invalid asset": (
        lambda: zip_bytes({}, asset={"asset_id": "x", "colour": 1}),
        "not a valid Asset",
    ),
    "absolute name": (lambda: zip_bytes({"/etc/passwd": b"x"}, asset=bundle_asset()), "absolute"),
    "dot-dot name": (lambda: zip_bytes({"a/../../x": b"x"}, asset=bundle_asset()), "'..'"),
    "backslash name": (lambda: zip_bytes({"a\\b": b"x"}, asset=bundle_asset()), "backslash"),
    "NUL in name": (with_nul_name, "NUL"),
    "repeated name": (duplicate_names, "more than once"),
    "too many members": (too_many_members, "at most 10000"),
    "zip bomb": (
        lambda: zip_bytes({"bomb": b"\0" * (8 * 1024 * 1024)}, asset=bundle_asset()),
        "zip bomb",
    ),
    "absent member": (
        lambda: zip_bytes(
            {},
            asset=bundle_asset(
                files=[
                    {"asset_file_id": "w.bin", "asset_file_type": "w", "asset_file_mime_type": "x"}
                ]
            ),
        ),
        "not in the bundle",
    ),
    "asset.json as a file": (
        lambda: zip_bytes(
            {},
            asset=bundle_asset(
                files=[{"asset_file_id": "asset.json", "asset_file_type": "manifest"}]
            ),
        ),
        "names asset.json itself",
    ),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_bundles_fail_cleanly(s3: Any, case: str) -> None:
    make, expected = HOSTILE[case]
    upload_id = upload(make())
    assert run(upload_id) == {"batchItemFailures": []}, "a refused bundle is not retried"
    assert expected in failed(upload_id)
    assert_nothing_stored(s3)


def test_corrupt_member_after_others_were_written_leaves_nothing(s3: Any) -> None:
    data = bytearray(
        zip_bytes(
            {"a.bin": os.urandom(100_000), "z.txt": b"stored text" * 50},
            stored=("z.txt",),
            asset=bundle_asset(),
        )
    )
    index = data.index(b"stored text")
    data[index : index + 4] = b"\xde\xad\xbe\xef"  # flip stored bytes: CRC must catch it
    upload_id = upload(bytes(data))
    run(upload_id)
    assert "CRC-32" in failed(upload_id)
    assert_nothing_stored(s3)


def test_total_beyond_the_configured_limit(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = get_settings()
    monkeypatch.setattr(settings, "bundle_max_expanded_bytes", 1000)
    upload_id = upload(
        zip_bytes({"a": os.urandom(600), "b": os.urandom(600)}, asset=bundle_asset())
    )
    run(upload_id)
    assert "expands to more than 1000 bytes" in failed(upload_id)
    assert_nothing_stored(s3)


def test_object_larger_than_the_presigned_limit(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "upload_max_bytes", 500)
    upload_id = upload(zip_bytes({"a": os.urandom(600)}, asset=bundle_asset()))
    run(upload_id)
    assert "at most 500 are allowed" in failed(upload_id)
    assert_nothing_stored(s3)


def test_an_existing_version_fails_and_the_existing_asset_is_untouched(s3: Any) -> None:
    first = upload(zip_bytes({"a.txt": b"original"}, asset=bundle_asset()))
    run(first)
    before = assets.get("bundle-001", store=assets_store())
    keys_before = stored_keys(s3)
    second = upload(zip_bytes({"a.txt": b"impostor"}, asset=bundle_asset()))
    run(second)
    assert "already has the version 'v1'" in failed(second)
    assert assets.get("bundle-001", store=assets_store()) == before
    assert stored_keys(s3) == keys_before


def test_asset_registered_by_rest_blocks_the_bundle(s3: Any) -> None:
    assets.create(
        Asset.model_validate(make_asset("bundle-001")),
        store=assets_store(),
        versions=versions_store(),
    )
    upload_id = upload(zip_bytes({"a.txt": b"x"}, asset=bundle_asset()))
    run(upload_id)
    assert "already exists" in failed(upload_id)
    assert stored_keys(s3) == []


def test_one_bad_message_does_not_retry_the_others(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assets_core.errors import StoreUnavailable
    from assets_core.stores.documents import MongoDocumentStore

    # Given two bundles, the first of which meets a metadata store that does not answer
    flaky = upload(zip_bytes({"a.txt": b"x"}, asset=bundle_asset("flaky-1")))
    good = upload(zip_bytes({"a.txt": b"x"}, asset=bundle_asset("good-1")))
    insert = MongoDocumentStore.insert

    def refusing_flaky(self: MongoDocumentStore, document: Any) -> None:
        if document.get("asset_id") == "flaky-1":
            raise StoreUnavailable("The metadata store did not answer; try again.")
        insert(self, document)

    monkeypatch.setattr(MongoDocumentStore, "insert", refusing_flaky)
    # When both arrive in one batch
    result = run(flaky, good)
    # Then only the flaky message is handed back, ingest went on to the good one, and the
    # flaky one is queued again with what it had written removed
    assert result == {"batchItemFailures": [{"itemIdentifier": flaky}]}
    assert status_of(good)["status"] == "success"
    assert assets.get("good-1", store=assets_store())["asset_id"] == "good-1"
    assert status_of(flaky)["status"] == "queued"
    assert assets_store().count({"asset_id": "flaky-1"}) == 0
    assert stored_keys(s3) == [f"assets/good-1/{good}/a.txt"]
    assert stored_keys(s3, "incoming/") == [upload_key(flaky)], "kept for the retry"
    # and once the store answers, the message delivered again is ingested
    monkeypatch.setattr(MongoDocumentStore, "insert", insert)
    assert run(flaky) == {"batchItemFailures": []}
    assert status_of(flaky)["status"] == "success"
    # (its a.txt holds what good-1's does: content stored once, its own copy removed)
    assert stored_keys(s3) == [f"assets/good-1/{good}/a.txt"]
    flaky_file = assets.get("flaky-1", store=assets_store())["files"][0]
    assert flaky_file["asset_file_url"].endswith(f"assets/good-1/{good}/a.txt")


def test_transient_failure_is_retried_and_leaves_nothing(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assets_core.errors import StoreUnavailable
    from assets_core.stores.documents import MongoDocumentStore

    upload_id = upload(zip_bytes({"a.txt": b"x" * 100}, asset=bundle_asset()))

    def refuse(self: Any, document: Any) -> None:
        raise StoreUnavailable("down")

    monkeypatch.setattr(MongoDocumentStore, "insert", refuse)
    assert run(upload_id) == {"batchItemFailures": [{"itemIdentifier": upload_id}]}
    assert status_of(upload_id)["status"] == "queued"
    assert stored_keys(s3) == []
    monkeypatch.undo()
    assert run(upload_id) == {"batchItemFailures": []}
    assert status_of(upload_id)["status"] == "success"


@pytest.mark.parametrize("insert_fails", [False, True])
def test_ingest_leaves_the_status_record_it_read_as_it_was(
    monkeypatch: pytest.MonkeyPatch, insert_fails: bool
) -> None:
    from assets_core.errors import StoreUnavailable
    from assets_core.logic.bundles import Limits
    from assets_core.logic.ingest import ingest_upload
    from assets_core.stores.documents import MongoDocumentStore
    from assets_core.stores.factory import upload_stores

    # Given an upload, and a status store that hands ingest one record, kept by this test
    upload_id = upload(zip_bytes({"a.txt": b"x"}, asset=bundle_asset("unchanged-1")))
    stores = upload_stores()
    record = {**QUEUED, "upload_id": upload_id, "filename": "model.zip"}
    read = copy.deepcopy(record)

    def refuse(self: Any, document: Any) -> None:
        raise StoreUnavailable("down")

    # When the upload is ingested, or fails once the asset it describes is known
    with monkeypatch.context() as patched:
        patched.setattr(stores.status, "get", lambda _: record)
        if insert_fails:
            patched.setattr(MongoDocumentStore, "insert", refuse)
        try:
            ingest_upload(upload_id, upload_key(upload_id), stores, Limits(10**9))
        except StoreUnavailable:
            assert insert_fails

    # Then the record it read is unchanged, and the last it wrote names the asset
    assert record == read
    expected = "queued" if insert_fails else "success"
    assert status_of(upload_id) == {
        **read,
        "status": expected,
        "asset_id": "unchanged-1",
        "asset_version": "v1",
        **({} if insert_fails else {"ingest_runs": 1}),
    }


def test_message_being_processed_elsewhere_is_retried_later(s3: Any) -> None:
    from assets_core.stores.status import status_store

    upload_id = upload(zip_bytes({"a.txt": b"x"}, asset=bundle_asset()))
    token = status_store().lock(upload_id, 60)
    assert token is not None
    assert run(upload_id) == {"batchItemFailures": [{"itemIdentifier": upload_id}]}
    status_store().unlock(upload_id, token)
    assert run(upload_id) == {"batchItemFailures": []}


def test_objects_outside_incoming_and_test_events_are_ignored(s3: Any) -> None:
    from assets_core.stores.objects import object_store
    from assets_core.stores.status import status_store

    # Given valid bundles named by an upload id but stored outside incoming/<upload_id>.zip
    upload_id = str(uuid.uuid4())
    outside = [f"assets/{upload_id}.zip", f"incoming/{upload_id}.zip.tmp", "assets/whatever.zip"]
    for key in outside:
        object_store().put(key, zip_bytes({"a.txt": b"x"}, asset=bundle_asset()))
    event = sqs_event(*(str(uuid.uuid4()) for _ in outside), str(uuid.uuid4()))
    for record, key in zip(event["Records"][:-1], outside, strict=True):
        body = json.loads(record["body"])
        body["Records"][0]["s3"]["object"]["key"] = key
        record["body"] = json.dumps(body)
    # and S3's test event, sent when the notification is set up
    event["Records"][-1]["body"] = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})
    # When the ingest function receives them
    assert ingest_module.ingest(event, LocalContext("ingest")) == {"batchItemFailures": []}
    # Then nothing was ingested, recorded, registered or removed
    assert status_store().get(upload_id) is None
    assert assets_store().count({}) == 0
    assert stored_keys(s3, "") == sorted(outside)


def test_lying_directory_sizes_are_caught_while_streaming(s3: Any) -> None:
    data = bytearray(zip_bytes({"a.bin": b"\0" * 200_000}, asset=bundle_asset()))
    central = data.rindex(b"PK\x01\x02")
    while central > 0 and not data[central + 46 : central + 51].startswith(b"a.bin"):
        central = data.rindex(b"PK\x01\x02", 0, central)
    struct.pack_into("<I", data, central + 24, 1000)
    upload_id = upload(bytes(data))
    run(upload_id)
    assert "declared size" in failed(upload_id)
    assert_nothing_stored(s3)
