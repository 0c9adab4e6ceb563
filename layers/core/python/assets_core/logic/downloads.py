"""Downloads (spec 000): the asset's ZIP, built as it streams."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Protocol

from stream_zip import NO_COMPRESSION_64, ZIP_64, MemberFile, stream_zip

from assets_core.logic.names import unsafe_name

ZIP_CHUNK = 1024 * 1024


class ReadableObjects(Protocol):
    def key_of(self, url: str) -> str | None: ...
    def size(self, key: str) -> int | None: ...
    def stream_range(self, key: str, start: int, end: int, chunk: int = ...) -> Iterator[bytes]: ...


def stored_files(asset: dict[str, Any], objects: ReadableObjects) -> list[dict[str, Any]]:
    """The asset's files held in this deployment's bucket, one per path."""
    found: dict[str, dict[str, Any]] = {}
    for entry in asset.get("files") or []:
        if not isinstance(entry, dict):
            continue
        key = objects.key_of(str(entry.get("asset_file_url") or ""))
        if key is None:
            continue  # an external reference: it stays in asset.json
        metadata = entry.get("asset_file_metadata") or {}
        path = metadata.get("path") or entry.get("asset_file_id")
        if not isinstance(path, str) or path == "asset.json" or path in found:
            continue
        if unsafe_name(path) is not None:
            continue  # never a member that could escape the folder it is extracted into
        found[path] = {
            "path": path,
            "key": key,
            "size": metadata.get("size"),
            "crc32": metadata.get("crc32"),
        }
    return list(found.values())


def zip_stream(asset: dict[str, Any], objects: ReadableObjects) -> Iterable[bytes]:
    """The asset as a ZIP, produced as it is sent: every stored file at its path (stored, not
    recompressed, when its size and CRC-32 are known) and asset.json with the stored document."""
    modified = datetime.now(UTC).replace(tzinfo=None)

    def members() -> Iterator[MemberFile]:
        for item in stored_files(asset, objects):
            size = item["size"]
            if not isinstance(size, int):
                size = objects.size(item["key"]) or 0
            crc = item["crc32"]
            method = NO_COMPRESSION_64(size, crc) if isinstance(crc, int) else ZIP_64
            chunks = objects.stream_range(item["key"], 0, size, ZIP_CHUNK)
            yield item["path"], modified, 0o644, method, chunks
        document = json.dumps(asset, indent=2).encode()
        yield "asset.json", modified, 0o644, ZIP_64, (document,)

    return stream_zip(members(), chunk_size=ZIP_CHUNK)
