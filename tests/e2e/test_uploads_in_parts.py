"""Uploads in parts through the local stack, as the ``assets`` command sends them: a folder
zipped into parts as it goes, a bundle whose client is killed halfway and resumed, and an
Assets DB file; every file downloaded again and compared."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from assets_client.cli import main
from tests.e2e.stack import bearer, token_for

pytestmark = pytest.mark.e2e
MIB = 1024 * 1024
PART = 5 * MIB


def asset_json(asset_id: str) -> str:
    return json.dumps(
        {
            "asset_id": asset_id,
            "asset_uri": f"models://parts/{asset_id}",
            "asset_version": "v1",
            "asset_profile_id": "p1",
            "asset_file_ids": [],
        }
    )


@pytest.fixture
def state(tmp_path: Path) -> dict[str, str]:
    """Where the command saves its sessions, for this test alone."""
    return {"XDG_STATE_HOME": str(tmp_path / "state")}


@pytest.fixture
def assets(stack_url: str, state: dict[str, str]) -> Any:
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(
            main,
            ["--endpoint", stack_url, *args],
            catch_exceptions=False,
            env={"ASSETS_TOKEN": token_for(stack_url), **state},
        )

    return run


def extracted_equal(assets: Any, asset_id: str, out: Path, expected: dict[str, bytes]) -> None:
    downloaded = assets("--json", "download", asset_id, "--extract", str(out))
    assert downloaded.exit_code == 0, downloaded.output
    for name, data in expected.items():
        assert (out / name).read_bytes() == data, name


def test_a_folder_is_zipped_into_parts_as_it_is_sent(assets: Any, tmp_path: Path) -> None:
    folder = tmp_path / "parts-folder"
    folder.mkdir()
    weights = os.urandom(12 * MIB + 123)
    (folder / "weights.bin").write_bytes(weights)
    (folder / "asset.json").write_text(asset_json("parts-folder"))
    uploaded = assets("upload", str(folder), "--multipart", "--part-size", str(PART))
    assert uploaded.exit_code == 0, uploaded.output
    assert uploaded.stdout.strip() == "parts-folder@v1"
    extracted_equal(assets, "parts-folder", tmp_path / "out", {"weights.bin": weights})


def session_of(stack_url: str, upload_id: str) -> dict[str, Any]:
    answer = httpx.get(
        f"{stack_url}/registry/uploads/{upload_id}", headers=bearer(stack_url), timeout=10
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_a_killed_upload_resumes_from_the_parts_the_store_holds(
    assets: Any, stack_url: str, state: dict[str, str], tmp_path: Path
) -> None:
    # Given a 160 MiB bundle sent in 32 parts, two at a time, by a client killed halfway
    weights = os.urandom(160 * MIB)
    bundle = tmp_path / "resumed.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("asset.json", asset_json("parts-resumed"))
        archive.writestr("weights.bin", weights)
    command = [sys.executable, "-m", "assets_client", "--endpoint", stack_url, "upload"]
    env = {**os.environ, "ASSETS_TOKEN": token_for(stack_url), **state}
    first = subprocess.Popen(
        [*command, str(bundle), "--part-size", str(PART), "--parallel", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    saved = Path(state["XDG_STATE_HOME"]) / "assets" / "uploads"
    upload_id = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and first.poll() is None:
        names = list(saved.glob("*.json")) if saved.is_dir() else []
        if names:
            upload_id = names[0].stem
            if len(session_of(stack_url, upload_id).get("received") or []) >= 4:
                break
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert upload_id is not None, first.stderr.read() if first.stderr else ""
    interrupted = session_of(stack_url, upload_id)
    assert interrupted["status"] == "uploading", interrupted
    held = len(interrupted["received"])
    assert 4 <= held < 32, interrupted["missing"]

    # When it is resumed, with four parts at a time
    resumed = assets("upload", str(bundle), "--resume", upload_id, "--parallel", "4")

    # Then the missing parts alone are sent, ingest runs, and the file comes back the same
    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout.strip() == "parts-resumed@v1"
    assert not list(saved.glob("*.json"))  # a completed session is forgotten
    extracted_equal(assets, "parts-resumed", tmp_path / "out", {"weights.bin": weights})


def test_resuming_with_another_file_is_refused(assets: Any, stack_url: str, tmp_path: Path) -> None:
    original = tmp_path / "a.zip"
    original.write_bytes(os.urandom(6 * MIB))
    started = httpx.post(
        f"{stack_url}/registry/zip/upload",
        json={"size": 6 * MIB, "multipart": True, "part_size": PART},
        headers=bearer(stack_url),
        timeout=10,
    ).json()
    upload_id = started["upload"]["upload_id"]
    for size in (7 * MIB, 6 * MIB):  # another size; the same size, other bytes
        other = tmp_path / f"other-{size}.zip"
        other.write_bytes(os.urandom(size))
        first = httpx.get(
            f"{stack_url}/registry/uploads/{upload_id}", headers=bearer(stack_url), timeout=10
        ).json()
        if size == 6 * MIB:  # a part the store holds, which the other file's does not match
            assert first["missing"] == [1, 2]
            send_first_part(stack_url, upload_id, original.read_bytes()[:PART])
        refused = assets("upload", str(other), "--resume", upload_id)
        assert refused.exit_code == 1, refused.output
        assert "not the file this upload started with" in refused.output or (
            "differs from the part the store holds" in refused.output
        )


def send_first_part(stack_url: str, upload_id: str, data: bytes) -> None:
    checksum = f"{zlib.crc32(data):08x}"
    signed = httpx.post(
        f"{stack_url}/registry/uploads/{upload_id}/parts",
        json={"parts": [{"part_number": 1, "checksum": checksum}]},
        headers=bearer(stack_url),
        timeout=10,
    ).json()["parts"][0]
    assert httpx.put(signed["url"], content=data, headers=signed["headers"]).status_code == 200


def test_an_assets_db_file_in_parts(assets: Any, tmp_path: Path) -> None:
    data = os.urandom(101 * MIB)  # past the threshold: in parts without being asked
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    metadata = json.dumps({"asset_name": "parts", "asset_version": {"version": "1", "tag": "p"}})
    uploaded = assets("--json", "db", "upload", str(path), "--metadata", metadata)
    assert uploaded.exit_code == 0, uploaded.output
    record = json.loads(uploaded.stdout)
    out = tmp_path / "back.bin"
    deadline = time.monotonic() + 60
    while True:  # the record completes when the assembled file's event is ingested
        fetched = assets("db", "object", record["asset_id"], "-o", str(out))
        if fetched.exit_code == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert fetched.exit_code == 0, fetched.output
    assert out.read_bytes() == data
