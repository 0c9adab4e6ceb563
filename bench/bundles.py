"""Seeded bundles written to disk (never held in memory): a mix of one large deflated member,
one large stored member and 1,000 small files; or large stored members only."""

from __future__ import annotations

import json
import random
import zipfile
from collections.abc import Iterator
from pathlib import Path

MIB = 1024 * 1024
CHUNK = 4 * MIB


def _random_chunks(rng: random.Random, size: int) -> Iterator[bytes]:
    left = size
    while left > 0:
        step = min(left, CHUNK)
        yield rng.randbytes(step)
        left -= step


def _text_chunks(rng: random.Random, size: int) -> Iterator[bytes]:
    """Data that deflates about 2:1 (hex of random bytes), like logs or CSV."""
    left = size
    while left > 0:
        step = min(left, CHUNK)
        yield rng.randbytes(step // 2 + 1).hex().encode()[:step]
        left -= step


def _write(archive: zipfile.ZipFile, name: str, chunks: Iterator[bytes], method: int) -> None:
    info = zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0))
    info.compress_type = method
    with archive.open(info, "w", force_zip64=True) as member:
        for chunk in chunks:
            member.write(chunk)


def asset_json(asset_id: str) -> bytes:
    return json.dumps(
        {
            "asset_id": asset_id,
            "asset_uri": f"bench://{asset_id}",
            "asset_version": "v1",
            "asset_profile_id": "bench",
            "asset_file_ids": [],
        }
    ).encode()


def mixed_bundle(path: Path, asset_id: str, total: int, seed: int = 7) -> Path:
    """``total`` bytes of content: 45% one deflated member, 45% one stored member, 10% in
    1,000 small deflated files."""
    rng = random.Random(seed)
    big = int(total * 0.45)
    small = max(1, int(total * 0.10) // 1000)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("asset.json", asset_json(asset_id))
        _write(archive, "data/large-deflated.txt", _text_chunks(rng, big), zipfile.ZIP_DEFLATED)
        _write(archive, "models/large-stored.bin", _random_chunks(rng, big), zipfile.ZIP_STORED)
        for n in range(1000):
            _write(
                archive,
                f"samples/{n // 100:02d}/{n:04d}.bin",
                _random_chunks(rng, small),
                zipfile.ZIP_DEFLATED,
            )
    return path


def stored_bundle(path: Path, asset_id: str, total: int, members: int = 2, seed: int = 11) -> Path:
    """``total`` bytes in a few large stored members: the server-side copy path."""
    rng = random.Random(seed)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("asset.json", asset_json(asset_id))
        for n in range(members):
            _write(
                archive,
                f"weights/shard-{n}.bin",
                _random_chunks(rng, total // members),
                zipfile.ZIP_STORED,
            )
    return path
