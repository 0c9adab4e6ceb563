"""Content stored once (the contract's "Files of an asset"): every distinct sha256 is one
stored object, whichever assets and versions hold it, kept while a reference holds it.

A version holds its stored files' content by its ``ref`` (``versions.new_ref``): ``hold``
records each reference before the version is committed, pointing a file whose content was
stored before at that object (and returning the object just written, a duplicate, for the
caller to remove); ``let_go`` releases them after the version is gone (or was never
committed) and removes the content nobody holds any more.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from assets_core.collections import VERSION_KEY
from assets_core.errors import AppError
from assets_core.ports import BlobStore, DocumentStore

log = logging.getLogger(__name__)

SHA256 = re.compile(r"^[0-9a-f]{64}$")


class Keyed(Protocol):
    def key_of(self, url: str) -> str | None: ...
    def url_of(self, key: str) -> str: ...
    def delete(self, keys: Iterable[str]) -> None: ...


@dataclass
class Held:
    """A version's document with each stored file pointing at the object that holds its
    content, the objects that turned out to be duplicates, and the contents held."""

    document: dict[str, Any]
    duplicates: list[str] = field(default_factory=list)
    contents: list[str] = field(default_factory=list)


def stored_content(entry: Any, objects: Keyed) -> tuple[str, str, int] | None:
    """A file entry's (key, sha256, size) when it is a file stored in this bucket with its
    digest recorded; None for an external reference."""
    if not isinstance(entry, dict):
        return None
    key = objects.key_of(str(entry.get("asset_file_url") or ""))
    metadata = entry.get("asset_file_metadata")
    if key is None or not isinstance(metadata, dict):
        return None
    sha256, size = metadata.get("sha256"), metadata.get("size")
    if not isinstance(sha256, str) or not SHA256.fullmatch(sha256):
        return None
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return None
    return key, sha256, size


def hold(document: dict[str, Any], ref: str, *, blobs: BlobStore, objects: Keyed) -> Held:
    """Record that ``ref`` holds the content of each stored file of ``document``."""
    entries = list(document.get("files") or [])
    found = [stored_content(entry, objects) for entry in entries]
    holders = blobs.reference(
        [(sha256, key, size) for key, sha256, size in filter(None, found)], ref
    )
    held = Held(document)
    files: list[Any] = []
    for entry, content in zip(entries, found, strict=True):
        if content is not None:
            key, sha256, _ = content
            holder = holders[sha256]
            held.contents.append(sha256)
            if holder != key:
                entry = {**entry, "asset_file_url": objects.url_of(holder)}
                held.duplicates.append(key)
        files.append(entry)
    held.document = {**document, "files": files}
    return held


# A content named by sha256 (``assets push``, a bundle naming files it does not carry): at
# most this many in one request or bundle (one answer, or a few queries, each).
MAX_NAMED_CONTENTS = 10_000


def readable(
    sha256s: Iterable[str], *, blobs: BlobStore, versions: DocumentStore
) -> dict[str, dict[str, Any]]:
    """The contents among ``sha256s`` that this registry holds and the current caller may
    read (a live version it can see holds each), by sha256: their records (``key``, ``size``).
    A content the caller may not read is answered as one that is not held, so asking never
    tells whether another user's private file exists."""
    records = blobs.get_many(sha256s)
    keys: dict[str, set[str]] = {}
    for sha256, record in records.items():
        for ref in record.get("refs") or []:
            keys.setdefault(str(ref).split("#", 1)[0], set()).add(sha256)
    visible: set[str] = set()
    wanted = sorted(keys)
    for start in range(0, len(wanted), 500):
        batch = wanted[start : start + 500]
        # ``versions`` reads as the caller: live versions it may see
        for document in versions.find({VERSION_KEY: {"$in": batch}}, limit=len(batch)):
            visible.update(keys.get(str(document.get(VERSION_KEY)), set()))
    return {sha256: records[sha256] for sha256 in sorted(visible)}


def missing(sha256s: Iterable[str], *, blobs: BlobStore, versions: DocumentStore) -> list[str]:
    """Those of ``sha256s`` a bundle must still carry: not held, or not the caller's to read
    (``readable``), in order."""
    wanted = set(sha256s)
    return sorted(wanted - set(readable(wanted, blobs=blobs, versions=versions)))


def let_go(
    ref: str, *, blobs: BlobStore, objects: Keyed, contents: Iterable[str] | None = None
) -> int:
    """Release what ``ref`` holds (``contents``, else every content recorded for it) and
    delete each object no reference holds any more; how many were deleted."""
    removed = 0
    for sha256 in sorted(set(contents if contents is not None else blobs.holding(ref))):
        blobs.release(sha256, ref)
        key = blobs.collect(sha256)
        if key is not None:
            objects.delete([key])
            removed += 1
    return removed


def discard(keys: list[str], objects: Keyed) -> None:
    """Delete objects that turned out to be duplicates (their content is held elsewhere);
    one that stays is swept later."""
    if not keys:
        return
    try:
        objects.delete(keys)
    except AppError:
        log.warning("Could not delete %d duplicate objects; the sweep will", len(keys))
