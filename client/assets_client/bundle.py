"""Bundles on the client: a folder zipped as it is sent, with its exact size known up front
(S3's POST upload needs a Content-Length), and safe, verified reading of downloaded ZIPs."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from stream_zip import NO_COMPRESSION_64, MemberFile, stream_zip

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FolderEntry:
    path: Path
    name: str
    size: int
    crc: int
    modified: datetime


def scan_folder(folder: Path) -> list[FolderEntry]:
    """Every regular file below ``folder`` with its CRC-32, read once in chunks (the stored
    ZIP members need it up front); symbolic links are not followed."""
    if not (folder / "asset.json").is_file():
        raise ValueError(f"{folder} has no asset.json at its top")
    entries = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        crc = 0
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                crc = zlib.crc32(chunk, crc)
        stat = path.stat()
        modified = datetime.fromtimestamp(int(stat.st_mtime)).replace(microsecond=0)
        name = path.relative_to(folder).as_posix()
        entries.append(FolderEntry(path, name, stat.st_size, crc, modified))
    # asset.json first: the registry reads it on its way into the archive instead of with a
    # request of its own.
    entries.sort(key=lambda entry: entry.name != "asset.json")
    return entries


def _members(
    entries: list[FolderEntry],
    content: Callable[[FolderEntry], Iterator[bytes]],
    crc: Callable[[FolderEntry], int],
) -> Iterator[MemberFile]:
    for entry in entries:
        method = NO_COMPRESSION_64(entry.size, crc(entry))
        yield entry.name, entry.modified, 0o644, method, content(entry)


def _read(entry: FolderEntry) -> Iterator[bytes]:
    with entry.path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _zeros(entry: FolderEntry) -> Iterator[bytes]:
    left = entry.size
    while left > 0:
        step = min(left, CHUNK)
        yield bytes(step)
        left -= step


def _zeros_crc(entry: FolderEntry) -> int:
    crc, left = 0, entry.size
    while left > 0:
        step = min(left, CHUNK)
        crc = zlib.crc32(bytes(step), crc)
        left -= step
    return crc


def zipped_size(entries: list[FolderEntry]) -> int:
    """The exact size of ``zip_folder``'s output: stored members make it depend on names and
    sizes only, so a dry run over zeros (with their own CRC, which stream-zip checks) measures
    it without reading the files again."""
    return sum(len(chunk) for chunk in stream_zip(_members(entries, _zeros, _zeros_crc)))


def zip_folder(entries: list[FolderEntry]) -> Iterator[bytes]:
    """The folder as a ZIP, produced chunk by chunk as it is sent."""
    return iter(stream_zip(_members(entries, _read, lambda entry: entry.crc)))


def unsafe_member_name(name: str) -> str | None:
    """Why a downloaded member name may not be extracted, or None when it is safe."""
    if not name or "\x00" in name:
        return "empty or NUL"
    if "\\" in name:
        return "backslash"
    path = PurePosixPath(name)
    if path.is_absolute() or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if ".." in path.parts:
        return "'..' component"
    return None
