"""The local content cache of ``assets pull``: every file ever pulled, kept once under its
SHA-256, so a second pull of a version moves no bytes and the next version moves only what
changed (as huggingface_hub's snapshot cache does), and a pull can work offline.

Layout, under ``$ASSETS_CACHE`` (else the platform's cache folder, ``.../assets``)::

    blobs/ab/abcdef...      one file per content, named by its sha256, read-only
    manifests/<asset>/<v>   the files of a version pulled before (for --offline)
    refs/<asset>/<ref>      which version an alias or ``latest`` named when last pulled
    tmp/                    downloads in progress (never visible under blobs/)

Safe under concurrent pulls: a content is written to ``tmp/`` and renamed into place (an
atomic replace on one filesystem), so no partial file is ever visible under its name, and two
pulls writing the same content both write the same bytes. An entry whose bytes do not match
its name (a disk error, an edited hard link) is found when it is used and discarded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHUNK = 1024 * 1024
SHA256 = re.compile(r"^[0-9a-f]{64}$")
# A name that is one path segment: asset ids and versions go into paths here.
SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9._:@+-]{1,200}$")


def default_root() -> Path:
    configured = os.environ.get("ASSETS_CACHE")
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("assets", appauthor=False))


@dataclass(frozen=True)
class Entry:
    sha256: str
    size: int
    last_used: float  # seconds since the epoch (the file's mtime, renewed on every use)
    path: Path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _segment(value: str) -> str:
    """``value`` as one file name: refused when it could name another folder."""
    if not SAFE_SEGMENT.match(value) or value in (".", ".."):
        # a version with other characters is kept under its hash, still one segment
        return "~" + hashlib.sha256(value.encode()).hexdigest()[:32]
    return value


class ContentCache:
    """Files by sha256, shared by every pull of every asset."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or default_root()).expanduser()

    # -- contents ---------------------------------------------------------------------------

    def blob_path(self, sha256: str) -> Path:
        if not SHA256.match(sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / "blobs" / sha256[:2] / sha256

    def tmp_path(self) -> Path:
        folder = self.root / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{secrets.token_hex(8)}.part"

    def holds(self, sha256: str, *, verify: bool = True) -> bool:
        """Whether the cache holds this content; with ``verify`` its bytes are hashed, and an
        entry that does not match its name is discarded (so it is fetched again)."""
        path = self.blob_path(sha256)
        if not path.is_file():
            return False
        if verify and file_sha256(path) != sha256:
            self.discard(sha256)
            return False
        self.touch(sha256)
        return True

    def add(self, sha256: str, written: Path) -> Path:
        """Move a fully written, already checked file in under its name (atomically)."""
        target = self.blob_path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        written.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.replace(written, target)
        return target

    def discard(self, sha256: str) -> None:
        path = self.blob_path(sha256)
        path.unlink(missing_ok=True)

    def touch(self, sha256: str) -> None:
        now = time.time()
        os.utime(self.blob_path(sha256), (now, now))

    def entries(self) -> Iterator[Entry]:
        for path in sorted((self.root / "blobs").glob("??/*")):
            if SHA256.match(path.name) and path.is_file():
                info = path.stat()
                yield Entry(path.name, info.st_size, info.st_mtime, path)

    def size(self) -> int:
        return sum(entry.size for entry in self.entries())

    def prune(self, older_than_seconds: float | None = None) -> list[Entry]:
        """Remove the contents not used for ``older_than_seconds`` (all when None), and
        downloads left in ``tmp/`` by pulls that were killed; what was removed."""
        cutoff = time.time() - older_than_seconds if older_than_seconds is not None else None
        removed = []
        for entry in self.entries():
            if cutoff is None or entry.last_used < cutoff:
                entry.path.unlink(missing_ok=True)
                removed.append(entry)
        day_ago = time.time() - 86400
        for stale in (self.root / "tmp").glob("*.part"):
            if cutoff is None or stale.stat().st_mtime < day_ago:
                stale.unlink(missing_ok=True)
        return removed

    # -- what versions hold, for --offline ---------------------------------------------------

    def _manifest_path(self, asset_id: str, version: str) -> Path:
        return self.root / "manifests" / _segment(asset_id) / _segment(version)

    def _ref_path(self, asset_id: str, ref: str) -> Path:
        return self.root / "refs" / _segment(asset_id) / _segment(ref)

    def save_manifest(
        self, asset_id: str, version: str, refs: Iterable[str], files: list[dict[str, Any]]
    ) -> None:
        """Remember a version's files, and that each of ``refs`` named it."""
        document = {"asset_id": asset_id, "asset_version": version, "files": files}
        writes = [(self._manifest_path(asset_id, version), document)]
        writes += [(self._ref_path(asset_id, ref), {"asset_version": version}) for ref in refs]
        for path, value in writes:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + f".{secrets.token_hex(4)}.part")
            partial.write_text(json.dumps(value))
            os.replace(partial, path)

    def manifest(self, asset_id: str, ref: str) -> dict[str, Any] | None:
        """The files of the version ``ref`` named when it was last pulled, or None."""
        named = self._ref_path(asset_id, ref)
        version = ref
        if named.is_file():
            version = str(json.loads(named.read_text())["asset_version"])
        path = self._manifest_path(asset_id, version)
        if not path.is_file():
            return None
        found: dict[str, Any] = json.loads(path.read_text())
        return found
