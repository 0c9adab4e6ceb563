"""The ``assets`` command against the running local stack, as a person or a script uses it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from click.testing import CliRunner

from assets_client.cli import main
from tests.e2e.conftest import E2E_STREAM_MAX_BYTES
from tests.e2e.stack import bearer, client, token_for
from tests.support import make_asset

pytestmark = pytest.mark.e2e


@pytest.fixture
def assets(stack_url: str) -> Any:
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(
            main,
            ["--endpoint", stack_url, *args],
            catch_exceptions=False,
            env={"ASSETS_TOKEN": token_for(stack_url)},
        )

    return run


def make_folder(root: Path, asset_id: str) -> Path:
    folder = root / asset_id
    (folder / "models" / "nested").mkdir(parents=True)
    (folder / "models" / "nested" / "weights.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    (folder / "readme.md").write_text("# model\n")
    (folder / "asset.json").write_text(
        json.dumps(
            {
                "asset_id": asset_id,
                "asset_uri": f"models://cli/{asset_id}",
                "asset_version": "v1",
                "asset_profile_id": "p1",
                "asset_file_ids": [],
            }
        )
    )
    return folder


def test_folder_upload_then_verified_extract(assets: Any, tmp_path: Path) -> None:
    folder = make_folder(tmp_path, "cli-folder-1")
    uploaded = assets("upload", str(folder))
    assert uploaded.exit_code == 0, uploaded.output
    assert uploaded.stdout.strip() == "cli-folder-1@v1"
    out = tmp_path / "out"
    downloaded = assets("--json", "download", "cli-folder-1", "--extract", str(out))
    assert downloaded.exit_code == 0, downloaded.output
    report = json.loads(downloaded.stdout)
    assert sorted(report["verified"]) == ["models/nested/weights.bin", "readme.md"]
    for name in ("models/nested/weights.bin", "readme.md"):
        assert (out / name).read_bytes() == (folder / name).read_bytes()


def test_zip_upload_json_output_download_and_search(assets: Any, tmp_path: Path) -> None:
    folder = make_folder(tmp_path, "cli-zip-1")
    archive = Path(shutil.make_archive(str(tmp_path / "bundle"), "zip", folder))
    uploaded = assets("--json", "upload", str(archive))
    assert uploaded.exit_code == 0, uploaded.output
    assert json.loads(uploaded.stdout)["status"] == "success"
    target = tmp_path / "copy.zip"
    assert assets("download", "cli-zip-1", "-o", str(target)).exit_code == 0
    with zipfile.ZipFile(target) as zipped:
        assert zipped.read("readme.md") == b"# model\n"
    assets("upload", str(make_folder(tmp_path / "second", "cli-zip-2")))
    found = assets(
        "--json", "search", '{"asset_uri": {"$regex": "^models://cli/cli-zip"}}', "--page-size", "1"
    )
    assert [a["asset_id"] for a in json.loads(found.stdout)] == ["cli-zip-1", "cli-zip-2"]
    assert json.loads(assets("--json", "get", "cli-zip-1").stdout)["asset_version"] == "v1"
    assert assets("delete", "cli-zip-2").exit_code == 0
    assert assets("get", "cli-zip-2").exit_code == 3


def test_a_large_asset_downloads_by_the_archive_assembled_in_s3(
    assets: Any, tmp_path: Path, stack_url: str
) -> None:
    # Given an asset whose ZIP is past the stack's STREAM_MAX_BYTES
    folder = make_folder(tmp_path, "cli-large-1")
    (folder / "models" / "big.bin").write_bytes(os.urandom(E2E_STREAM_MAX_BYTES + 4 * 1024 * 1024))
    assert assets("upload", str(folder)).exit_code == 0
    # When it is downloaded, the CLI waits for the build and fetches the archive from S3
    out = tmp_path / "out"
    downloaded = assets("--json", "download", "cli-large-1", "--extract", str(out))
    assert downloaded.exit_code == 0, downloaded.output
    assert sorted(json.loads(downloaded.stdout)["verified"]) == [
        "models/big.bin",
        "models/nested/weights.bin",
        "readme.md",
    ]
    for name in ("models/big.bin", "models/nested/weights.bin", "readme.md"):
        assert (out / name).read_bytes() == (folder / name).read_bytes()
    # And the route's status says it was the archive, ready
    status = httpx.get(
        f"{stack_url}/registry/zip/download/cli-large-1/status",
        headers=bearer(stack_url),
        timeout=10,
    ).json()
    assert (status["delivery"], status["status"]) == ("archive", "ready")
    assert status["size"] > E2E_STREAM_MAX_BYTES
    # A second download reuses the archive: a redirect at once, straight to the bucket
    again = httpx.get(
        f"{stack_url}/registry/zip/download/cli-large-1", headers=bearer(stack_url), timeout=10
    )
    assert again.status_code == 307
    assert "/archives/cli-large-1/" in again.headers["location"]


def stored_weights(assets: Any, asset_id: str) -> tuple[str, str]:
    document = json.loads(assets("--json", "get", asset_id).stdout)
    weights = next(f for f in document["files"] if f["asset_file_id"].endswith("weights.bin"))
    bucket, key = weights["asset_file_url"].removeprefix("s3://").split("/", 1)
    return bucket, key


def test_corrupted_stored_file_stops_the_download(
    assets: Any, tmp_path: Path, s3_endpoint: str
) -> None:
    assert assets("upload", str(make_folder(tmp_path, "cli-corrupt-1"))).exit_code == 0
    bucket, key = stored_weights(assets, "cli-corrupt-1")
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.put_object(Bucket=bucket, Key=key, Body=bytes(reversed(original)))  # same size, other bytes
    result = assets("download", "cli-corrupt-1", "-o", str(tmp_path / "bad.zip"))
    assert result.exit_code == 6
    assert "stopped before its end" in result.stderr
    assert not (tmp_path / "bad.zip").exists(), "a partial download is never left as the ZIP"


def same_crc32(data: bytes, target: int) -> bytes:
    """``data`` with its last four bytes replaced so that its CRC-32 is ``target``: a change
    the archive's own check cannot see (CRC-32 is linear, so it can be steered back)."""
    table = []
    for index in range(256):
        value = index
        for _ in range(8):
            value = (value >> 1) ^ 0xEDB88320 if value & 1 else value >> 1
        table.append(value)
    by_top_byte = {value >> 24: index for index, value in enumerate(table)}
    state = zlib.crc32(data[:-4]) ^ 0xFFFFFFFF
    register = target ^ 0xFFFFFFFF
    for _ in range(4):  # run the last four steps backwards
        index = by_top_byte[register >> 24]
        register = (((register ^ table[index]) << 8) & 0xFFFFFFFF) | index
    return data[:-4] + (register ^ state).to_bytes(4, "little")


def test_download_not_matching_the_stored_sha256_is_detected(
    assets: Any, tmp_path: Path, s3_endpoint: str
) -> None:
    assert assets("upload", str(make_folder(tmp_path, "cli-corrupt-2"))).exit_code == 0
    # The stored object changes under its record, with its size and CRC-32 kept: only the
    # recorded sha256 can tell (a client can no longer rewrite a stored file's entry)
    bucket, key = stored_weights(assets, "cli-corrupt-2")
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    changed = same_crc32(bytes([original[0] ^ 0xFF]) + original[1:], zlib.crc32(original))
    assert (len(changed), zlib.crc32(changed)) == (len(original), zlib.crc32(original))
    s3.put_object(Bucket=bucket, Key=key, Body=changed)
    result = assets("download", "cli-corrupt-2", "-o", str(tmp_path / "c2.zip"))
    assert result.exit_code == 7
    assert "models/nested/weights.bin does not match its stored sha256" in result.stderr


def test_tampered_archive_fails_verification_naming_the_file(
    assets: Any, tmp_path: Path, stack_url: str
) -> None:
    from assets_client.api import AssetsClient, VerificationError

    assert assets("upload", str(make_folder(tmp_path, "cli-corrupt-3"))).exit_code == 0
    target = tmp_path / "c3.zip"
    assert assets("download", "cli-corrupt-3", "-o", str(target)).exit_code == 0
    data = bytearray(target.read_bytes())
    with zipfile.ZipFile(target) as zipped:
        info = zipped.getinfo("models/nested/weights.bin")
    middle = info.header_offset + 100 + info.compress_size // 2
    data[middle] ^= 0xFF
    target.write_bytes(bytes(data))
    client = AssetsClient(stack_url, token=token_for(stack_url))
    with pytest.raises(VerificationError, match=r"models/nested/weights\.bin"):
        client.verify(target, client.get("cli-corrupt-3"))


def test_one_file_by_its_path_straight_from_the_bucket(
    assets: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_folder(tmp_path, "cli-file-1")
    assert assets("upload", str(folder)).exit_code == 0
    target = tmp_path / "w.bin"
    result = assets(
        "--json", "download", "cli-file-1", "--file", "models/nested/weights.bin", "-o", str(target)
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verified"] == ["models/nested/weights.bin"]
    assert target.read_bytes() == (folder / "models/nested/weights.bin").read_bytes()
    assert not target.with_name("w.bin.part").exists()
    # Without -o the file lands under its own name, here
    monkeypatch.chdir(tmp_path)
    assert assets("download", "cli-file-1", "--file", "readme.md").exit_code == 0
    assert (tmp_path / "readme.md").read_text() == "# model\n"


def test_unknown_file_and_escaping_path_are_refused(assets: Any, tmp_path: Path) -> None:
    assert assets("upload", str(make_folder(tmp_path, "cli-file-2"))).exit_code == 0
    missing = assets("download", "cli-file-2", "--file", "nope.bin", "-o", str(tmp_path / "x"))
    assert missing.exit_code == 3
    assert "FILE_NOT_FOUND" in missing.stderr
    escaping = assets("download", "cli-file-2", "--file", "a/../../etc", "-o", str(tmp_path / "y"))
    assert escaping.exit_code == 4
    assert "'..' component" in escaping.stderr
    assert not (tmp_path / "x").exists()
    assert not (tmp_path / "y").exists()
    assert assets("download", "cli-file-2", "--file", "x", "--no-zip").exit_code == 2


def test_no_zip_fetches_every_file_in_parallel_and_verifies_each(
    assets: Any, tmp_path: Path
) -> None:
    folder = make_folder(tmp_path, "cli-nozip-1")
    for index in range(6):
        (folder / "shards" / f"{index}.bin").parent.mkdir(exist_ok=True)
        (folder / "shards" / f"{index}.bin").write_bytes(os.urandom(256 * 1024 + index))
    assert assets("upload", str(folder)).exit_code == 0
    out = tmp_path / "files"
    result = assets("--json", "download", "cli-nozip-1", "--no-zip", "--extract", str(out))
    assert result.exit_code == 0, result.output
    names = ["models/nested/weights.bin", "readme.md", *(f"shards/{i}.bin" for i in range(6))]
    assert sorted(json.loads(result.stdout)["verified"]) == sorted(names)
    for name in names:
        assert (out / name).read_bytes() == (folder / name).read_bytes()
    assert not list(out.rglob("*.part"))


def test_no_zip_detects_a_stored_file_that_changed(
    assets: Any, tmp_path: Path, s3_endpoint: str
) -> None:
    assert assets("upload", str(make_folder(tmp_path, "cli-nozip-2"))).exit_code == 0
    bucket, key = stored_weights(assets, "cli-nozip-2")
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.put_object(Bucket=bucket, Key=key, Body=bytes(reversed(original)))
    out = tmp_path / "files"
    result = assets("download", "cli-nozip-2", "--no-zip", "--extract", str(out))
    assert result.exit_code == 7
    assert "weights.bin does not match its stored sha256" in result.stderr
    assert not (out / "models/nested/weights.bin").exists(), "a bad file is never left behind"
    single = assets(
        "download", "cli-nozip-2", "--file", "models/nested/weights.bin", "-o", str(out / "w")
    )
    assert single.exit_code == 7
    assert not (out / "w").exists()


def test_extract_refuses_unsafe_member_names(tmp_path: Path, stack_url: str) -> None:
    from assets_client.api import AssetsClient, VerificationError

    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("../../outside.txt", b"x")
    with pytest.raises(VerificationError, match=r"'\.\.' component"):
        AssetsClient(stack_url, token=token_for(stack_url)).verify(
            archive, {"files": []}, extract_to=tmp_path / "out"
        )
    assert not (tmp_path.parent / "outside.txt").exists()


def test_failing_bundle_reports_its_reason(assets: Any, tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "asset.json").write_text('{"asset_id": "x", "colour": "red"}')
    result = assets("upload", str(folder))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: upload failed: asset.json is not a valid Asset")
    not_zip = tmp_path / "not.zip"
    not_zip.write_bytes(b"this is not a zip")
    result = assets("upload", str(not_zip))
    assert (result.exit_code, "not a ZIP" in result.stderr) == (1, True)


def test_errors_are_one_line_with_an_exit_code(assets: Any, tmp_path: Path) -> None:
    assert (
        assets("upload", str(tmp_path)).stderr.strip()
        == f"error: {tmp_path} has no asset.json at its top"
    )
    refused = assets("search", '{"$where": "1"}')
    assert (refused.exit_code, refused.stderr.count("\n")) == (4, 1)
    assert assets("search", "{not json").exit_code == 4
    unreachable = CliRunner().invoke(main, ["--endpoint", "http://127.0.0.1:9", "get", "x"])
    assert unreachable.exit_code == 6
    assert "Traceback" not in unreachable.output
    file_from_nowhere = CliRunner().invoke(
        main, ["--endpoint", "http://127.0.0.1:9", "db", "object", "x", "-o", str(tmp_path / "f")]
    )
    assert file_from_nowhere.exit_code == 6
    assert not (tmp_path / "f").exists()


def test_assets_db_and_components_from_the_shell(assets: Any, tmp_path: Path) -> None:
    data = tmp_path / "model.onnx"
    data.write_bytes(os.urandom(1000))
    metadata = json.dumps(
        {"asset_name": "CliModel", "asset_version": {"version": "1", "tag": "cli"}}
    )
    created = assets("--json", "db", "upload", str(data), "--metadata", metadata)
    assert created.exit_code == 0, created.output
    record = json.loads(created.stdout)
    assert json.loads(assets("--json", "db", "get", "CliModel:1-cli").stdout) == record
    fetched = tmp_path / "fetched.onnx"
    assert assets("db", "object", record["asset_id"], "-o", str(fetched)).exit_code == 0
    assert fetched.read_bytes() == data.read_bytes()
    assert (
        len(json.loads(assets("--json", "db", "query", '{"asset_name": "CliModel"}').stdout)) == 1
    )
    component = tmp_path / "component.json"
    component.write_text(
        json.dumps(
            {
                "componentId": {"name": "cli-tool", "version": "1", "releaseTag": "x"},
                "componentType": "tool",
            }
        )
    )
    assert assets("component", "register", str(component)).stdout.strip() == "tool.cli-tool:1-x"
    got = json.loads(assets("--json", "component", "get", "tool.cli-tool:1-x").stdout)
    assert got["componentType"] == "tool"
    assert (
        len(json.loads(assets("--json", "component", "query", '{"componentType": "tool"}').stdout))
        == 1
    )
    gql = assets(
        "--json",
        "gql",
        "query($t: String) { componentMany(filter: {componentType: $t}) { componentURI } }",
        "--var",
        "t=tool",
        "--service",
        "components",
    )
    assert json.loads(gql.stdout)["data"]["componentMany"] == [
        {"componentURI": "tool.cli-tool:1-x"}
    ]


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "assets"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "upload" in result.stdout


def test_login_keeps_a_local_token_for_the_next_commands(
    stack_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("ASSETS_TOKEN", raising=False)
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(main, ["--endpoint", stack_url, *args], catch_exceptions=False)

    assert run("get", "anything").exit_code != 0  # no token yet: 401
    signed_in = run("login", "--sub", "cli-login-e2e", "--role", "assets-writer")
    assert signed_in.exit_code == 0, signed_in.output
    token_file = tmp_path / "assets" / "token.json"
    assert token_file.stat().st_mode & 0o777 == 0o600
    missing = run("get", "no-such-asset")
    assert missing.exit_code == 3, missing.output  # reached the service: 404, not 401
    assert run("logout").exit_code == 0
    assert not token_file.exists()


def test_versions_aliases_and_restore_from_the_cli(assets: Any, tmp_path: Path) -> None:
    # Given a folder uploaded as v1, then again as v2 with its readme changed
    folder = make_folder(tmp_path, "cli-versions-1")
    assert assets("upload", str(folder)).stdout.strip() == "cli-versions-1@v1"
    document = json.loads((folder / "asset.json").read_text())
    (folder / "asset.json").write_text(json.dumps({**document, "asset_version": "v2"}))
    (folder / "readme.md").write_text("# model, second version\n")
    assert assets("upload", str(folder)).stdout.strip() == "cli-versions-1@v2"
    # When v1 gets an alias
    aliased = assets("alias", "cli-versions-1", "stable", "v1")
    assert aliased.exit_code == 0, aliased.output
    assert aliased.stdout.strip() == "cli-versions-1@stable -> v1"
    # Then the versions list shows both, newest first, with their aliases
    listed = assets("--json", "versions", "cli-versions-1")
    items = json.loads(listed.stdout)
    assert [(v["asset_version"], v["aliases"]) for v in items] == [
        ("v2", ["latest"]),
        ("v1", ["stable"]),
    ]
    # and each version downloads as it was, by version or by alias, verified
    for ref, readme in (("cli-versions-1@stable", "# model\n"), ("cli-versions-1", "second")):
        out = tmp_path / ref.replace("@", "-")
        downloaded = assets("--json", "download", ref, "--extract", str(out))
        assert downloaded.exit_code == 0, downloaded.output
        assert readme in (out / "readme.md").read_text()
    one = tmp_path / "one.md"
    got = assets("download", "cli-versions-1@v1", "--file", "readme.md", "-o", str(one))
    assert got.exit_code == 0, got.output
    assert one.read_text() == "# model\n"
    assert json.loads(assets("--json", "get", "cli-versions-1@v1").stdout)["asset_version"] == "v1"
    # When the asset is deleted, it is gone, until restored
    assert "restorable until" in assets("delete", "cli-versions-1").stdout
    assert assets("get", "cli-versions-1").exit_code != 0
    restored = assets("restore", "cli-versions-1")
    assert restored.exit_code == 0, restored.output
    assert restored.stdout.strip() == "restored cli-versions-1 (current: v2)"
    assert assets("--json", "get", "cli-versions-1@stable").exit_code == 0
    # An unknown version is a clear error
    missing = assets("get", "cli-versions-1@v9")
    assert missing.exit_code != 0
    assert "no version or alias 'v9'" in missing.output
    deleted_alias = assets("alias", "cli-versions-1", "stable", "--delete")
    assert deleted_alias.stdout.strip() == "deleted alias stable"


def test_lineage_and_audit_from_the_cli(assets: Any, tmp_path: Path, stack_url: str) -> None:
    # Given a dataset and a base model, and a model uploaded with both in its asset.json
    with client(stack_url) as http:
        for asset_id in ("cli-data-1", "cli-base-1"):
            assert http.post("/registry/assets", json=make_asset(asset_id)).status_code == 201
    folder = make_folder(tmp_path, "cli-model-1")
    document = json.loads((folder / "asset.json").read_text())
    document["lineage"] = [
        {"relation": "trained_on", "asset_id": "cli-data-1", "asset_version": "v1"}
    ]
    (folder / "asset.json").write_text(json.dumps(document))
    assert assets("upload", str(folder)).stdout.strip() == "cli-model-1@v1"
    # and the base recorded afterwards, by the command
    linked = assets("link", "cli-model-1", "derived_from", "cli-base-1@v1")
    assert linked.exit_code == 0, linked.output
    assert linked.stdout.strip() == "cli-model-1/v1 derived_from cli-base-1/v1"
    # Then the model's tree shows both upstream, and each shows it downstream
    tree = assets("lineage", "cli-model-1", "--up")
    assert tree.exit_code == 0, tree.output
    assert tree.stdout.splitlines() == [
        "cli-model-1@v1",
        "├── derived_from -> cli-base-1@v1 (model)",
        "└── trained_on -> cli-data-1@v1 (model)",
    ]
    down = assets("lineage", "cli-data-1@v1", "--down", "--depth", "2")
    assert down.stdout.splitlines() == ["cli-data-1@v1 (model)", "└── trained_on <- cli-model-1@v1"]
    # A cycle is refused with the conflict's exit code
    cycle = assets("link", "cli-data-1", "derived_from", "cli-model-1@v1")
    assert cycle.exit_code == 1, cycle.output
    # and the audit trail names each change, newest first
    trail = assets("audit", "--resource", "asset", "--id", "cli-model-1")
    assert trail.exit_code == 0, trail.output
    actions = [line.split("\t")[2] for line in trail.stdout.splitlines()]
    assert actions == ["LineageAdded", "AssetVersionCreated"]
