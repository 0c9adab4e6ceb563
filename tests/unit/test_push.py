"""``assets push``'s plan: which files a bundle carries and how its asset.json names the
rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assets_client.push import PushError, plan, scan


def test_the_bundle_carries_the_missing_and_names_the_rest_by_sha256(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "big.bin").write_bytes(b"big" * 1000)
    (tmp_path / "new.txt").write_text("new")
    (tmp_path / "doc.md").write_text("doc")
    entry = {
        "asset_file_id": "the-doc",
        "asset_file_type": "document",
        "asset_file_mime_type": "text/markdown",
        "asset_file_metadata": {"path": "doc.md", "author": "ann"},
    }
    external = {"asset_file_id": "paper", "asset_file_url": "https://example.com/paper.pdf"}
    (tmp_path / "asset.json").write_text(
        json.dumps({"asset_id": "a-1", "asset_version": "v2", "files": [entry, external]})
    )
    document, found = scan(tmp_path)
    assert sorted(found) == ["doc.md", "new.txt", "w/big.bin"]
    missing = {found["new.txt"][1]}
    bundle, carried, named = plan(document, found, missing)
    assert carried == ["new.txt"]
    assert sorted(named) == ["doc.md", "w/big.bin"]
    files = {f["asset_file_id"]: f for f in bundle["files"]}
    # the user's own entry keeps its fields and gains the content's sha256
    assert files["the-doc"]["asset_file_type"] == "document"
    assert files["the-doc"]["asset_file_metadata"] == {
        "path": "doc.md",
        "author": "ann",
        "sha256": found["doc.md"][1],
    }
    assert files["paper"] == external
    assert files["w/big.bin"]["asset_file_metadata"] == {
        "path": "w/big.bin",
        "sha256": found["w/big.bin"][1],
    }
    assert "new.txt" not in files  # carried: ingest adds its entry from the member


def test_a_folder_without_asset_json_or_with_a_bad_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PushError, match=r"no asset\.json"):
        scan(tmp_path)
    (tmp_path / "asset.json").write_text("{not json")
    with pytest.raises(PushError, match="not valid JSON"):
        scan(tmp_path)
    (tmp_path / "asset.json").write_text("[]")
    with pytest.raises(PushError, match="with an asset_id"):
        scan(tmp_path)
