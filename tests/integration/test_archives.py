"""Large downloads on the faithful S3 (LocalStack): past STREAM_MAX_BYTES the download route
queues a server-side build and answers 202; the builder assembles the ZIP from part copies;
the same route then redirects to a presigned GET of bytes identical to the stream's."""

from __future__ import annotations

import io
import json
import os
import threading
import urllib.request
import zipfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from assets_core.config import get_settings
from assets_core.keys import ARCHIVE_REQUEST_SUFFIX, archive_key
from assets_core.logic import archives
from assets_core.logic.downloads import Manifest, zip_stream
from assets_core.stores.objects import object_store
from functions.archive_builder.handler import build as builder
from functions.registry_zip.handler import handler
from local.apigw import LocalContext
from tests.integration.test_ingest import run, upload
from tests.support import bundle_asset, event, object_created, zip_bytes

BUCKET = get_settings().bucket_name
MIB = 1024 * 1024


@pytest.fixture
def small_stream_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every ZIP past 1 KB goes by the archive, so a few MiB exercise the whole path."""
    monkeypatch.setenv("STREAM_MAX_BYTES", "1000")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def get(path: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    asset_id = path.split("/")[4]
    request = event(
        "apigw_registry_zip_download",
        path=path,
        path_parameters={"asset_id": asset_id},
    )
    result = handler(request, LocalContext("zip"))
    return result["statusCode"], json.loads(result["body"]), result["headers"]


def build_queued(s3: Any, asset_id: str) -> dict[str, Any]:
    """Deliver the build request the route wrote to the builder, as S3 and SQS would."""
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"archives/{asset_id}/")
    requests = [o["Key"] for o in listed.get("Contents", []) if o["Key"].endswith(".build.json")]
    assert len(requests) == 1, requests
    return builder(object_created(requests[0]), LocalContext("archive_builder"))


def ingested(asset_id: str, members: dict[str, bytes]) -> None:
    stored = tuple(name for name, data in members.items() if len(data) > 1 * MIB)
    run(upload(zip_bytes(members, stored=stored, asset=bundle_asset(asset_id))))


def fetch(url: str, filename: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as answer:
        assert answer.headers["Content-Type"] == "application/zip"
        assert answer.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
        return bytes(answer.read())


def test_a_large_download_is_built_once_then_redirected(s3: Any, small_stream_limit: None) -> None:
    # Given an asset with a large stored member, a small one and one just past a part
    members = {
        "model.bin": os.urandom(21 * MIB),
        "config.json": b'{"layers": 3}',
        "tok/vocab.txt": os.urandom(9 * MIB),
    }
    ingested("archive-1", members)
    # When its download is requested, the archive is queued and the answer is 202 building
    status, body, headers = get("/registry/zip/download/archive-1")
    assert status == 202, body
    assert body["status"] == "building"
    assert body["delivery"] == "archive"
    assert body["status_url"] == "/registry/zip/download/archive-1/status"
    assert headers["Cache-Control"] == "no-store"
    # and asking again does not queue a second build
    assert get("/registry/zip/download/archive-1")[0] == 202
    assert get(body["status_url"])[1]["status"] == "building"
    # When the builder runs
    request_key = archive_key("archive-1", body["revision"], ARCHIVE_REQUEST_SUFFIX)
    manifest = Manifest.from_json(s3.get_object(Bucket=BUCKET, Key=request_key)["Body"].read())
    assert build_queued(s3, "archive-1") == {"batchItemFailures": []}
    # Then the status is ready, the build request is gone, no upload is left open
    status_now = get(body["status_url"])[1]
    assert (status_now["status"], status_now["size"]) == ("ready", manifest.zip_size)
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix=request_key)
    assert not s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads")
    # And the download redirects to a presigned GET of the ZIP the stream would have sent
    revision = body["revision"]
    status, body, headers = get("/registry/zip/download/archive-1")
    assert status == 307
    assert urlsplit(headers["Location"]).path.endswith(f"/archives/archive-1/{revision}.zip")
    data = fetch(headers["Location"], "archive-1.zip")
    assert data == b"".join(zip_stream(manifest, object_store()))
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert {name: archive.read(name) for name in members} == members
    assert json.loads(archive.read("asset.json"))["asset_id"] == "archive-1"


def test_a_build_whose_file_is_gone_fails_leaves_nothing_and_is_retried(
    s3: Any, small_stream_limit: None
) -> None:
    ingested("archive-2", {"big.bin": os.urandom(12 * MIB), "small.txt": b"s"})
    status, body, _ = get("/registry/zip/download/archive-2")
    assert status == 202
    stored = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="assets/archive-2/")["Contents"]
        if o["Key"].endswith("big.bin")
    ]
    s3.delete_object(Bucket=BUCKET, Key=stored[0])
    assert build_queued(s3, "archive-2") == {"batchItemFailures": []}
    failed = get(body["status_url"])[1]["status"]
    assert failed == "failed: 'big.bin' is no longer stored"
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="archives/archive-2/").get("Contents", [])
    assert [o["Key"].rsplit("/", 1)[1] for o in listed] == [f"{body['revision']}.failed"]
    assert not s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads")
    # The next request retries: building again
    status, body, _ = get("/registry/zip/download/archive-2")
    assert (status, body["status"]) == (202, "building")


def test_a_file_changed_behind_the_registry_fails_its_crc_check(
    s3: Any, small_stream_limit: None
) -> None:
    ingested("archive-3", {"big.bin": os.urandom(20 * MIB)})
    assert get("/registry/zip/download/archive-3")[0] == 202
    key = next(
        o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="assets/archive-3/")["Contents"]
    )
    s3.put_object(Bucket=BUCKET, Key=key, Body=os.urandom(20 * MIB))  # same size, other bytes
    build_queued(s3, "archive-3")
    status = get("/registry/zip/download/archive-3/status")[1]["status"]
    assert status == "failed: 'big.bin' does not match its recorded CRC-32"
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="archives/archive-3/").get("Contents", [])
    assert not [o["Key"] for o in listed if o["Key"].endswith(".zip")]


def test_racing_requests_queue_one_build(s3: Any, small_stream_limit: None) -> None:
    ingested("archive-4", {"a.bin": os.urandom(2 * MIB)})
    written: list[bool] = []
    objects = object_store()
    put_new = objects.put_new

    def counted(*args: Any, **kwargs: Any) -> bool:
        wrote = put_new(*args, **kwargs)
        written.append(wrote)
        return wrote

    barrier = threading.Barrier(4)
    answers: list[int] = []

    def request() -> None:
        barrier.wait()
        answers.append(get("/registry/zip/download/archive-4")[0])

    objects.put_new = counted  # type: ignore[method-assign]
    try:
        threads = [threading.Thread(target=request) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        del objects.put_new
    assert answers == [202] * 4
    assert written.count(True) == 1


def test_a_small_asset_still_streams_and_its_status_says_so(s3: Any) -> None:
    ingested("archive-5", {"a.txt": b"hello"})
    status, _body, headers = get("/registry/zip/download/archive-5")
    assert status == 307
    assert "/registry/zip/stream?" in headers["Location"]
    described = get("/registry/zip/download/archive-5/status")[1]
    assert (described["status"], described["delivery"]) == ("ready", "stream")
    assert get("/registry/zip/download/nobody/status")[0] == 404


def test_a_build_request_that_is_no_manifest_is_dropped(s3: Any) -> None:
    key = archive_key("x", 1, ARCHIVE_REQUEST_SUFFIX)
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"not json")
    assert archives.run(object_store(), key).startswith("failed: not a download manifest")
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix=key)
    assert archives.run(object_store(), key) == "gone"
