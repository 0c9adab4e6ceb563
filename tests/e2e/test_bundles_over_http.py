"""ZIP bundles through the running local stack, as a client sees them: presigned POST to the
object store, the queue-driven ingest, status polling, and the redirected streamed download."""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import uuid
import zipfile
from typing import Any

import httpx
import pytest

from tests.e2e.stack import client

pytestmark = pytest.mark.e2e
MIB = 1024 * 1024


def fifty_mib_bundle(asset_id: str) -> tuple[bytes, dict[str, bytes]]:
    members = {
        "models/large/weights.bin": os.urandom(40 * MIB),  # stored: the server-side copy path
        "data/train/part-0.txt": os.urandom(9 * MIB).hex().encode(),  # 18 MiB, deflated
        "configs/nested/deeper/config.json": json.dumps({"layers": 12}).encode(),
    }
    members.update({f"samples/{n:03d}.txt": f"sample {n}\n".encode() * 50 for n in range(40)})
    asset = {
        "asset_id": asset_id,
        "asset_uri": f"models://e2e/{asset_id}",
        "asset_version": "v1",
        "asset_profile_id": "p1",
        "asset_file_ids": [],
        "files": [
            {
                "asset_file_id": "weights",
                "asset_file_type": "weights",
                "asset_file_mime_type": "application/octet-stream",
                "asset_file_metadata": {"path": "models/large/weights.bin"},
            }
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("asset.json", json.dumps(asset))
        for name, data in members.items():
            method = zipfile.ZIP_STORED if name.endswith(".bin") else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=method)
    return buffer.getvalue(), members


def wait_for(http: httpx.Client, status_url: str, seconds: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        record: dict[str, Any] = http.get(status_url).json()
        if record["status"] == "success" or record["status"].startswith("failed"):
            return record
        time.sleep(0.3)
    pytest.fail(f"the upload did not finish: {record}")


def test_fifty_mib_bundle_round_trip(stack_url: str) -> None:
    asset_id = f"e2e-{uuid.uuid4().hex[:8]}"
    bundle, members = fifty_mib_bundle(asset_id)
    assert len(bundle) >= 50 * MIB
    with client(stack_url, timeout=120) as http:
        # 1. ask for a presigned upload
        answer = http.post("/registry/zip/upload", json={"filename": "b.zip", "size": len(bundle)})
        assert answer.status_code == 202, answer.text
        ticket = answer.json()
        upload = ticket["upload"]
        # 2. send the bytes straight to the object store: fields first, the file last
        sent = httpx.post(
            upload["url"],
            data=upload["fields"],
            files={"file": ("b.zip", bundle, "application/zip")},
            timeout=120,
        )
        assert sent.status_code in (200, 201, 204), sent.text
        # 3. poll until the queue-driven ingest has finished
        record = wait_for(http, ticket["status_url"])
        assert record == {
            "upload_id": ticket["upload_id"],
            "status": "success",
            "asset_id": asset_id,
            "asset_version": "v1",
            "ingest_runs": 1,
        }
        # the metadata holds each file's size and sha256
        document = http.get(f"/registry/assets/{asset_id}").json()
        for entry in document["files"]:
            data = members[entry["asset_file_metadata"]["path"]]
            assert entry["asset_file_metadata"]["size"] == len(data)
            assert entry["asset_file_metadata"]["sha256"] == hashlib.sha256(data).hexdigest()
        # 4. download: past the stack's STREAM_MAX_BYTES the ZIP is assembled in S3 first (202
        # while it is built), then a 307 to a presigned GET of it
        redirect = http.get(f"/registry/zip/download/{asset_id}")
        deadline = time.monotonic() + 60
        while redirect.status_code == 202 and time.monotonic() < deadline:
            assert redirect.json()["status"] == "building"
            time.sleep(0.5)
            redirect = http.get(f"/registry/zip/download/{asset_id}")
        assert redirect.status_code == 307
        assert "/archives/" in redirect.headers["location"]
        with httpx.stream("GET", redirect.headers["location"], timeout=120) as download:
            assert download.headers["content-type"] == "application/zip"
            assert f'filename="{asset_id}.zip"' in download.headers["content-disposition"]
            received = b"".join(download.iter_bytes())
    archive = zipfile.ZipFile(io.BytesIO(received))
    assert {name: archive.read(name) for name in members} == members
    assert json.loads(archive.read("asset.json"))["asset_id"] == asset_id


def test_direct_upload_and_a_failing_bundle(stack_url: str) -> None:
    with client(stack_url, timeout=60, follow_redirects=True) as http:
        answer = http.post(
            "/registry/zip/upload", files={"file": ("b.zip", b"not a zip", "application/zip")}
        )
        assert answer.status_code == 202
        record = wait_for(http, f"/registry/zip/status/{answer.json()['upload_id']}")
        assert record["status"].startswith("failed: the upload is not a ZIP archive")
        too_big = http.post("/registry/zip/upload", files={"file": ("b.zip", os.urandom(6 * MIB))})
        assert too_big.status_code == 413
        assert "presigned" in too_big.json()["error"]["message"]
        assert (
            http.get("/registry/zip/status/00000000-0000-0000-0000-000000000000").status_code == 404
        )
        assert http.get("/registry/zip/download/no-such-asset").status_code == 404
