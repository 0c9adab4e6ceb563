"""Downloads (spec 000): what an asset's ZIP holds, written down once as a manifest, then
streamed (small ZIPs, from the download function) or assembled in S3 (large ones,
``logic/archives.py``) from the same manifest, so both give the same bytes.

The manifest is a snapshot: the API function that authorized the caller reads the asset and
writes the file list (keys, sizes, CRC-32s) and the shown document; the stream and the
builder read only the object store."""

from __future__ import annotations

import json
import uuid
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from stream_zip import NO_COMPRESSION_64, MemberFile, stream_zip

from assets_core.logic.names import unsafe_name
from assets_core.logic.ziplayout import Entry, size_of
from assets_core.ports import ObjectHead

ZIP_CHUNK = 1024 * 1024
MANIFEST_MAX_BYTES = 64 * 1024 * 1024  # 10,000 files and a 16 MiB document fit many times
ASSET_JSON = "asset.json"


class ReadableObjects(Protocol):
    def key_of(self, url: str) -> str | None: ...
    def head(self, key: str) -> ObjectHead | None: ...
    def stream_range(self, key: str, start: int, end: int, chunk: int = ...) -> Iterator[bytes]: ...


class ManifestInvalid(ValueError):
    """A manifest that is not one this code wrote."""


def stored_files(asset: dict[str, Any], objects: ReadableObjects) -> list[dict[str, Any]]:
    """The asset's files held in this deployment's bucket, one per path, with what their
    entries record (size, CRC-32, SHA-256, type)."""
    found: dict[str, dict[str, Any]] = {}
    for entry in asset.get("files") or []:
        if not isinstance(entry, dict):
            continue
        key = objects.key_of(str(entry.get("asset_file_url") or ""))
        if key is None:
            continue  # an external reference: it stays in asset.json
        metadata = entry.get("asset_file_metadata") or {}
        path = metadata.get("path") or entry.get("asset_file_id")
        if not isinstance(path, str) or path == ASSET_JSON or path in found:
            continue
        if unsafe_name(path) is not None:
            continue  # never a member that could escape the folder it is extracted into
        found[path] = {
            "path": path,
            "key": key,
            "asset_file_id": entry.get("asset_file_id"),
            "size": metadata.get("size"),
            "crc32": metadata.get("crc32"),
            "sha256": metadata.get("sha256"),
            "mime_type": entry.get("asset_file_mime_type"),
        }
    return list(found.values())


@dataclass(frozen=True)
class Manifest:
    """One download of one revision of an asset: its stored files and its asset.json."""

    asset_id: str
    revision: int
    modified: datetime  # naive UTC: every member's time, in the stream and the archive
    files: tuple[Entry, ...]
    document: bytes
    # Names this state of the version among the asset's archives: the revision for the
    # current version, else ``VersionRead.label``.
    version_label: str = ""

    @property
    def label(self) -> str:
        return self.version_label or str(self.revision)

    @property
    def entries(self) -> tuple[Entry, ...]:
        document = Entry(
            ASSET_JSON, len(self.document), zlib.crc32(self.document), data=self.document
        )
        return (*self.files, document)

    @property
    def zip_size(self) -> int:
        """The ZIP's exact size in bytes."""
        return size_of(self.entries)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "asset_id": self.asset_id,
                "revision": self.revision,
                "modified": self.modified.isoformat(),
                "files": [
                    {"path": f.path, "key": f.key, "size": f.size, "crc32": f.crc32}
                    for f in self.files
                ],
                "document": self.document.decode(),
                "label": self.label,
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            raw = json.loads(data)
            files = tuple(
                Entry(str(f["path"]), _count(f["size"]), _count(f["crc32"]), key=str(f["key"]))
                for f in raw["files"]
            )
            return cls(
                asset_id=str(raw["asset_id"]),
                revision=_count(raw["revision"]),
                modified=datetime.fromisoformat(str(raw["modified"])),
                files=files,
                document=str(raw["document"]).encode(),
                version_label=str(raw.get("label") or ""),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ManifestInvalid(f"not a download manifest: {exc}") from None


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{value!r} is not a count")
    return value


def new_manifest_name() -> str:
    return uuid.uuid4().hex


def manifest_of(
    asset: dict[str, Any],
    revision: int,
    objects: ReadableObjects,
    now: datetime | None = None,
    label: str = "",
) -> Manifest:
    """The manifest of the asset as read (the shown document, at ``revision``). A file whose
    entry lacks its size or CRC-32 (none that ingest wrote) is measured from the store."""
    files = []
    for item in stored_files(asset, objects):
        size, crc = item["size"], item["crc32"]
        if not isinstance(size, int) or not isinstance(crc, int):
            size, crc = _measure(objects, item["key"])
        files.append(Entry(item["path"], size, crc, key=item["key"]))
    modified = (now or datetime.now(UTC)).replace(tzinfo=None, microsecond=0)
    document = json.dumps(asset, indent=2).encode()
    return Manifest(str(asset["asset_id"]), revision, modified, tuple(files), document, label)


def _measure(objects: ReadableObjects, key: str) -> tuple[int, int]:
    head = objects.head(key)
    if head is None:
        return 0, 0  # the stream and the builder both fail on it, naming the file
    if head.crc32 is not None:
        return head.size, head.crc32
    crc = 0
    for chunk in objects.stream_range(key, 0, head.size, ZIP_CHUNK):
        crc = zlib.crc32(chunk, crc)
    return head.size, crc


def zip_stream(manifest: Manifest, objects: ReadableObjects) -> Iterable[bytes]:
    """The manifest's ZIP, produced as it is sent (stream-zip checks each member's size and
    CRC-32 against the manifest as its bytes pass)."""

    def members() -> Iterator[MemberFile]:
        for entry in manifest.entries:
            chunks: Iterable[bytes] = (
                objects.stream_range(entry.key, 0, entry.size, ZIP_CHUNK)
                if entry.key is not None
                else (entry.data or b"",)
            )
            method = NO_COMPRESSION_64(entry.size, entry.crc32)
            yield entry.path, manifest.modified, 0o644, method, chunks

    return stream_zip(members(), chunk_size=ZIP_CHUNK)
