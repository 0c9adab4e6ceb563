"""The CLI's folder bundles: what goes into the ZIP, and in which order."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from assets_client.bundle import scan_folder, zip_folder


def test_asset_json_leads_the_bundle(tmp_path: Path) -> None:
    # Given a folder whose files sort before asset.json
    for name, data in {
        "README.md": b"# model",
        "a/weights.bin": b"\x00" * 1000,
        "asset.json": b'{"asset_id": "x"}',
        "zz.txt": b"last",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    # When it is zipped as `assets upload` sends it
    archive = zipfile.ZipFile(io.BytesIO(b"".join(zip_folder(scan_folder(tmp_path)))))
    # Then asset.json is the first member (ingest reads it on its way), the rest in name order
    assert archive.namelist() == ["asset.json", "README.md", "a/weights.bin", "zz.txt"]
    assert archive.read("a/weights.bin") == b"\x00" * 1000
