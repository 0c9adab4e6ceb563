"""The web console in a real browser (Debian's Chromium, driven by playwright-core) against
the local stack as ``make run`` starts it: every step a new user takes (tests/browser/
console.mjs), then what it did checked here against the API and the bytes on disk. The
screenshots of each page go to tests/browser/screenshots/ (the README shows copies)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest

from infra_cdk.constants import ROOT
from tests.e2e.stack import client
from tests.support import make_asset, zip_bytes

pytestmark = pytest.mark.e2e
SCRIPT = ROOT / "tests" / "browser" / "console.mjs"
SHOTS = ROOT / "tests" / "browser" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
PAGES = (
    "sign-in",
    "upload",
    "upload-resumed",
    "search",
    "error",
    "asset",
    "hidden",
    "assetdb",
    "dbregistry",
    "components",
)
PARTS = ("versions", "lineage", "audit")


def folder(root: Path, files: dict[str, bytes]) -> Path:
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return root


@pytest.fixture(scope="module")
def console_run(
    stack_url: str, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    if not CHROMIUM.exists() or shutil.which("node") is None:
        pytest.fail("The browser tests need Node.js and /usr/bin/chromium (make test installs it)")
    if not (ROOT / "console" / "dist" / "index.html").is_file():
        pytest.fail("The console is not built (make console; make test builds it)")
    run_id = uuid.uuid4().hex[:8]
    work = tmp_path_factory.mktemp("console")
    files = {
        "weights.bin": os.urandom(300_000),
        "config/params.json": b'{"layers": 3}',
        "README.md": "# Détecteur\n".encode(),
    }
    big = {"shard.bin": os.urandom(12 * 1024 * 1024 + 17), "notes.txt": b"in parts"}
    base_asset = f"base-{run_id}"
    with client(stack_url, timeout=30) as http:
        made = http.post("/registry/assets", json=make_asset(base_asset, visibility="public"))
        assert made.status_code == 201, made.text
        entry = {
            "asset_registry_name": f"DB {run_id}",
            "asset_registry_public_url": f"{stack_url}/assetdb",
        }
        assert http.post("/dbregistry/asset_registry", json=entry).status_code == 201
        component = json.loads((ROOT / "tests" / "component_example.json").read_text())
        component["componentId"]["name"] = f"detector-{run_id}"
        component.pop("componentURI", None)
        assert http.post("/components/api/registerComponent", json=component).status_code == 201
        metadata = {
            "asset_name": f"Sample{run_id}",
            "asset_version": {"version": "1.0", "tag": "a"},
        }
        uploaded = http.post(
            "/assetdb/upload_asset",
            files={"asset": ("f.png", b"\x89PNG" + os.urandom(500), "image/png")},
            data={"asset_metadata": json.dumps(metadata)},
        )
        assert uploaded.status_code == 201, uploaded.text
    zipped = work / "bundle.zip"
    zipped.write_bytes(
        zip_bytes({"data/table.csv": b"a,b\n1,2\n"}, asset=make_asset(f"dropped-{run_id}"))
    )
    shots = work / "shots"
    shots.mkdir()
    spec = {
        "base": stack_url,
        "s3": s3_endpoint,
        "shots": str(shots),
        "folder": str(folder(work / "model", files)),
        "bigFolder": str(folder(work / "shards", big)),
        "zipBundle": str(zipped),
        "assetId": f"detector-{run_id}",
        "baseAsset": base_asset,
        "tag": f"ct-{run_id}",
        "alice": f"alice-{run_id}",
        "bob": f"bob-{run_id}",
        "admin": f"root-{run_id}",
    }
    (work / "spec.json").write_text(json.dumps(spec))
    run = subprocess.run(
        ["node", str(SCRIPT), str(work / "spec.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result: dict[str, Any] = json.loads(run.stdout)
    SHOTS.mkdir(exist_ok=True)
    for shot in shots.glob("*.png"):
        shutil.copy(shot, SHOTS / shot.name)
    return {"result": result, "spec": spec, "files": files, "big": big, "shots": shots}


def test_a_new_user_does_every_step_in_the_browser(console_run: dict[str, Any]) -> None:
    result = console_run["result"]
    assert result.get("failure") is None, result.get("failure")
    assert [s["name"] for s in result["steps"]] == [
        "signed in",
        "uploaded",
        "resumed",
        "found",
        "4xx shown",
        "downloaded",
        "versioned",
        "lineage",
        "hidden from bob",
        "audit",
        "zip dropped",
        "services",
    ]
    assert result["errors"] == []  # no script error on any page
    assert result["serverErrors"] == []  # nothing the console sent produced a 5xx
    assert result["offSite"] == []  # nothing from a CDN or any host but the stack and its S3


def test_the_upload_showed_each_step_and_each_files_progress(console_run: dict[str, Any]) -> None:
    result = console_run["result"]
    assert result["phasesSeen"] == [
        "Packing the bundle",
        "Uploading",
        "Uploaded: waiting for ingest",
        "Ingesting",
        "Ingested",
    ]
    assert result["fileBars"] == [100, 100, 100]


def test_an_upload_in_parts_resumed_without_sending_a_held_part_again(
    console_run: dict[str, Any], stack_url: str
) -> None:
    result, spec = console_run["result"], console_run["spec"]
    assert result["savedUploads"] == 1  # the stopped session, remembered (ids only)
    # Part 1 reached the store before the stop: the resumed upload did not send it again;
    # part 2 was cut off once and sent once more.
    assert result["partPuts"] == {"1": 1, "2": 2}
    with client(stack_url, timeout=30) as http:
        listed = http.get(f"/registry/assets/{spec['assetId']}-big/files").json()["items"]
    shard = console_run["big"]["shard.bin"]
    assert {f["path"]: f["sha256"] for f in listed}["shard.bin"] == hashlib.sha256(
        shard
    ).hexdigest()


def test_a_zip_dropped_on_the_page_is_described_by_its_own_asset_json(
    console_run: dict[str, Any], stack_url: str
) -> None:
    result, spec = console_run["result"], console_run["spec"]
    run_id = spec["assetId"].removeprefix("detector-")
    assert result["zipFormShown"] == 0  # no form: the ZIP carries asset.json
    assert f"dropped-{run_id}" in result["zipIngested"]
    with client(stack_url, timeout=30) as http:
        listed = http.get(f"/registry/assets/dropped-{run_id}/files").json()["items"]
    assert [f["path"] for f in listed] == ["data/table.csv"]


def test_found_by_search_and_by_a_facet(console_run: dict[str, Any]) -> None:
    result, spec = console_run["result"], console_run["spec"]
    assert result["searchFound"] is True
    assert result["facetUrl"].endswith(f"#/?tag={spec['tag']}")


def test_the_downloads_are_the_uploaded_bytes(console_run: dict[str, Any]) -> None:
    result, files = console_run["result"], console_run["files"]
    assert result["downloads"]["file"] == {
        "name": "weights.bin",
        "sha256": hashlib.sha256(files["weights.bin"]).hexdigest(),
    }
    assert result["shaShown"] in {hashlib.sha256(data).hexdigest() for data in files.values()}
    with zipfile.ZipFile(result["downloads"]["zip"]["path"]) as bundle:
        assert {name: bundle.read(name) for name in files} == files
        stored = json.loads(bundle.read("asset.json"))
    assert stored["asset_id"] == console_run["spec"]["assetId"]
    assert result["downloads"]["zip"]["name"] == f"{stored['asset_id']}.zip"


def test_versions_aliases_lineage_and_audit(console_run: dict[str, Any], stack_url: str) -> None:
    result, spec = console_run["result"], console_run["spec"]
    rows = result["versionRows"]
    assert rows[0].startswith("v2")
    assert "latest" in rows[0]
    assert rows[1].startswith("v1")
    assert "production" in rows[1]
    assert result["lineageNodes"] == 2
    assert result["lineageEdges"] == [f"{spec['assetId']} v2 derived_from {spec['baseAsset']} v1"]
    with client(stack_url, timeout=30) as http:
        production = http.get(f"/registry/assets/{spec['assetId']}/versions/production").json()
        assert production["asset_version"] == "v1"
        graph = http.get(f"/registry/assets/{spec['assetId']}/lineage").json()
    assert [e["relation"] for e in graph["edges"]] == ["derived_from"]
    assert {"AssetVersionCreated", "AliasSet", "LineageAdded"} <= set(result["auditActions"])


def test_a_private_asset_is_hidden_from_another_user_and_errors_are_the_apis_words(
    console_run: dict[str, Any],
) -> None:
    result, spec = console_run["result"], console_run["spec"]
    assert f"No asset has asset_id '{spec['assetId']}'" in result["hiddenMessage"]
    assert "404" in result["hiddenMessage"]
    assert "Operator '$where' is not allowed" in result["errorShown"]
    assert "HTTP 400" in result["errorShown"]


def test_the_other_services_pages_list_their_records(console_run: dict[str, Any]) -> None:
    result, spec = console_run["result"], console_run["spec"]
    run_id = spec["assetId"].removeprefix("detector-")
    assert any(f"DB {run_id}" in row and "healthy" in row for row in result["dbregistry"])
    assert any(f"detector-{run_id}" in row for row in result["components"])
    assert any(f"Sample{run_id}" in row for row in result["assetdb"])


def test_pages_are_accessible_and_the_token_stays_out_of_local_storage(
    console_run: dict[str, Any],
) -> None:
    result = console_run["result"]
    serious = {
        page: [v for v in found if v["impact"] in ("serious", "critical")]
        for page, found in result["axe"].items()
    }
    assert set(serious) == {
        "sign-in",
        "upload",
        "search",
        "asset",
        "assetdb",
        "dbregistry",
        "components",
    }
    assert all(found == [] for found in serious.values()), serious
    assert result["firstTab"] == "Skip to content"
    assert result["tokenInLocalStorage"] is False
    assert result["tokenInSessionStorage"] is True
    assert "script-src 'self'" in result["csp"]
    assert "unsafe-inline" not in result["csp"]


def test_every_page_was_photographed(console_run: dict[str, Any]) -> None:
    shots = console_run["shots"]
    for name in (*PAGES, *PARTS):
        assert (shots / f"{name}.png").stat().st_size > 10_000, name  # a rendered page


def test_the_console_serves_only_its_own_files(stack_url: str) -> None:
    with client(stack_url, timeout=10, follow_redirects=False) as http:
        assert http.get("/console").headers["location"] == "/console/"
        page = http.get("/console/")
        assert page.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert http.get("/console/config.json").json() == {"api_url": "", "auth": {"kind": "local"}}
        for name in (
            "..%2F..%2Fpyproject.toml",
            "../Makefile",
            "assets/nope.js",
            "%2e%2e/README.md",
        ):
            answer = http.get(f"/console/{name}")
            assert answer.status_code == 404, name
            assert answer.json()["success"] is False
