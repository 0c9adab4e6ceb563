"""``assets download --extract`` unzips the ZIP as it streams: every file written with its
sha256 checked, nothing written outside the folder, a damaged ZIP refused; served here by a
stand-in object store (no network)."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from assets_client.api import AssetsClient, VerificationError


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            method = zipfile.ZIP_STORED if len(data) > 1000 else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data, method)
    return buffer.getvalue()


def client_serving(body: bytes) -> AssetsClient:
    client = AssetsClient("http://registry.test", token="t")
    client.storage = httpx.Client(
        transport=httpx.MockTransport(lambda _: httpx.Response(200, content=body))
    )
    return client


def asset_of(members: dict[str, bytes]) -> dict[str, Any]:
    return {
        "files": [
            {"asset_file_metadata": {"path": name, "sha256": hashlib.sha256(data).hexdigest()}}
            for name, data in members.items()
        ]
    }


def test_every_file_is_written_and_checked_in_one_pass(tmp_path: Path) -> None:
    members = {"weights/big.bin": os.urandom(3 * 1024 * 1024), "readme.md": b"# model\n" * 50}
    body = zipped({**members, "asset.json": b"{}"})
    seen: list[int] = []
    checked = client_serving(body).extract(
        "https://bucket.test/archive.zip", asset_of(members), tmp_path, progress=seen.append
    )
    assert sorted(checked) == sorted(members)
    for name, data in members.items():
        assert (tmp_path / name).read_bytes() == data
    assert sum(seen) == len(body)
    assert not list(tmp_path.rglob("*.part"))


def test_a_file_that_differs_from_its_sha256_is_not_left(tmp_path: Path) -> None:
    members = {"a.bin": os.urandom(5000)}
    asset = asset_of({"a.bin": b"something else"})
    with pytest.raises(VerificationError, match=r"a\.bin does not match its stored sha256"):
        client_serving(zipped(members)).extract("https://bucket.test/z", asset, tmp_path)
    assert not (tmp_path / "a.bin").exists()
    assert not list(tmp_path.rglob("*.part"))


def test_names_that_escape_the_folder_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    body = zipped({"../outside.txt": b"x"})
    with pytest.raises(VerificationError, match="refusing member"):
        client_serving(body).extract("https://bucket.test/z", {"files": []}, out)
    assert not (tmp_path / "outside.txt").exists()


def test_a_damaged_zip_and_a_missing_file_are_refused(tmp_path: Path) -> None:
    members = {"a.bin": os.urandom(5000)}
    body = bytearray(zipped(members))
    body[100] ^= 0xFF  # inside a.bin's stored bytes: its CRC-32 no longer matches
    with pytest.raises(VerificationError):
        client_serving(bytes(body)).extract("https://bucket.test/z", asset_of(members), tmp_path)
    with pytest.raises(VerificationError, match=r"missing from the download: b\.bin"):
        client_serving(zipped(members)).extract(
            "https://bucket.test/z", asset_of({**members, "b.bin": b"b"}), tmp_path / "again"
        )


def test_a_large_zip_comes_in_ranges_four_at_a_time_and_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assets_client import api

    monkeypatch.setattr(api, "RANGE_BYTES", 64 * 1024)
    members = {"big.bin": os.urandom(1024 * 1024 + 17), "small.txt": b"s" * 10}
    body = zipped(members)
    asked: list[str] = []

    def store(request: httpx.Request) -> httpx.Response:
        start, end = request.headers["range"].removeprefix("bytes=").split("-")
        first, last = int(start), min(int(end), len(body) - 1)
        asked.append(request.headers["range"])
        return httpx.Response(
            206,
            content=body[first : last + 1],
            headers={"Content-Range": f"bytes {first}-{last}/{len(body)}"},
        )

    client = AssetsClient("http://registry.test", token="t")
    client.storage = httpx.Client(transport=httpx.MockTransport(store))
    checked = client.extract("https://bucket.test/z", asset_of(members), tmp_path)
    assert sorted(checked) == sorted(members)
    assert (tmp_path / "big.bin").read_bytes() == members["big.bin"]
    assert len(asked) == -(-len(body) // (64 * 1024))
