"""Reading a ZIP archive held in an object store without downloading it whole.

The central directory is read with ranged reads (zipfile over a seekable view of the object).
``read_members`` then reads a run of consecutive members with one sequential ranged read (a
caller may read several runs at once, each its own stream), each member inflated (or passed
through when stored), checked against the central directory's size and CRC-32, and handed on
in chunks. Memory stays at a few chunks per stream whatever the archive's size.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Protocol

LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
LOCAL_SIGNATURE = b"PK\x03\x04"
STORED, DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
CHUNK = 1024 * 1024


class BadArchive(Exception):
    """The archive is not a ZIP, is corrupt, or breaks a rule; the message says which."""


class RangeSource(Protocol):
    def read_range(self, key: str, start: int, end: int) -> bytes: ...
    def stream_range(self, key: str, start: int, end: int, chunk: int = ...) -> Iterator[bytes]: ...


@dataclass(frozen=True)
class Member:
    """One entry of the central directory."""

    name: str
    offset: int
    method: int
    compressed_size: int
    size: int
    crc: int
    flags: int

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")


class _RangeFile(io.RawIOBase):
    """A read-only, seekable view of an object, fetching what is read with ranged reads and
    keeping the archive's tail (where the central directory is) in one block."""

    def __init__(self, source: RangeSource, key: str, size: int, tail: int = 256 * 1024) -> None:
        self.source, self.key, self.length, self.pos = source, key, size, 0
        self.tail_start = max(0, size - tail)
        self.tail = source.read_range(key, self.tail_start, size)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.length}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def read(self, size: int = -1) -> bytes:
        end = self.length if size is None or size < 0 else min(self.length, self.pos + size)
        if end <= self.pos:
            return b""
        if self.pos >= self.tail_start:
            data = self.tail[self.pos - self.tail_start : end - self.tail_start]
        else:
            data = self.source.read_range(self.key, self.pos, end)
        self.pos += len(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def read_directory(source: RangeSource, key: str, size: int) -> tuple[list[Member], int]:
    """The archive's members, in central-directory order, and where its central directory
    starts; ``BadArchive`` for anything that is not a readable ZIP."""
    if size < 22:
        raise BadArchive("the upload is not a ZIP archive (too short)")
    try:
        with zipfile.ZipFile(_RangeFile(source, key, size)) as archive:
            infos = archive.infolist()
            directory_start = archive.start_dir
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, struct.error) as exc:
        raise BadArchive(f"the upload is not a ZIP archive or is corrupt ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise BadArchive("a member name is not valid text") from exc
    members = [
        Member(
            name=info.orig_filename,
            offset=info.header_offset,
            method=info.compress_type,
            compressed_size=info.compress_size,
            size=info.file_size,
            crc=info.CRC,
            flags=info.flag_bits,
        )
        for info in infos
    ]
    return members, directory_start


# A gap between members at least this long is not read through: the read starts again past
# it (members an earlier ingest run stored lie between those still to store).
REOPEN_GAP = 8 * 1024 * 1024


class _Cursor:
    """Sequential reads over a stream of chunks; ``reopen`` starts a stream at a position."""

    def __init__(
        self,
        chunks: Iterator[bytes],
        position: int,
        reopen: Callable[[int], Iterator[bytes]] | None = None,
    ) -> None:
        self.chunks = chunks
        self.buffer = b""
        self.position = position
        self.reopen = reopen

    def _fill(self) -> bool:
        for chunk in self.chunks:
            if chunk:
                self.buffer += chunk
                return True
        return False

    def read_exact(self, count: int) -> bytes:
        while len(self.buffer) < count:
            if not self._fill():
                raise BadArchive("the archive ends in the middle of a member (truncated)")
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        self.position += count
        return data

    def pieces(self, count: int) -> Iterator[bytes]:
        """The next ``count`` bytes, in the chunks they arrive in."""
        left = count
        while left > 0:
            if not self.buffer and not self._fill():
                raise BadArchive("the archive ends in the middle of a member (truncated)")
            piece = self.buffer[:left]
            self.buffer = self.buffer[len(piece) :]
            self.position += len(piece)
            left -= len(piece)
            yield piece

    def skip_to(self, position: int) -> None:
        if position < self.position:
            raise BadArchive("members overlap each other")
        if self.reopen is not None and position - self.position - len(self.buffer) >= REOPEN_GAP:
            close = getattr(self.chunks, "close", None)
            if close is not None:
                close()
            self.chunks, self.buffer, self.position = self.reopen(position), b"", position
            return
        for _ in self.pieces(position - self.position):
            pass


@dataclass
class MemberData:
    """A member being read: its uncompressed chunks, and where its stored bytes lie."""

    member: Member
    data_offset: int
    chunks: Iterator[bytes]


def read_members(
    source: RangeSource, key: str, members: list[Member], end: int
) -> Generator[MemberData]:
    """Every member in archive order, from one sequential read of the archive. Each member's
    chunks must be consumed before the next member is asked for."""
    ordered = sorted(members, key=lambda m: m.offset)
    if not ordered:
        return
    cursor = _Cursor(
        source.stream_range(key, ordered[0].offset, end, CHUNK),
        ordered[0].offset,
        lambda start: source.stream_range(key, start, end, CHUNK),
    )
    for member in ordered:
        cursor.skip_to(member.offset)
        header = LOCAL_HEADER.unpack(cursor.read_exact(LOCAL_HEADER.size))
        if header[0] != LOCAL_SIGNATURE:
            raise BadArchive(f"member '{member.name}' has no valid local header (corrupt)")
        name_length, extra_length = header[9], header[10]
        cursor.read_exact(name_length + extra_length)
        data_offset = cursor.position
        if data_offset + member.compressed_size > end:
            raise BadArchive(f"member '{member.name}' runs past the end of the archive")
        raw = cursor.pieces(member.compressed_size)
        chunks = _checked(
            member, _stored(raw) if member.method == STORED else _inflated(member, raw)
        )
        yield MemberData(member, data_offset, chunks)
        for _ in chunks:  # whatever the consumer left unread
            pass


def _stored(raw: Iterator[bytes]) -> Iterator[bytes]:
    yield from raw


def _inflated(member: Member, raw: Iterator[bytes]) -> Iterator[bytes]:
    """Inflate, producing never more than the declared size (plus one byte to detect a lie)."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    budget = member.size + 1
    try:
        for piece in raw:
            data = piece
            while data and budget > 0:
                out = inflater.decompress(data, min(budget, CHUNK))
                budget -= len(out)
                if out:
                    yield out
                data = inflater.unconsumed_tail
            if budget <= 0:
                raise BadArchive(f"member '{member.name}' expands beyond its declared size")
        tail = inflater.flush()
        if tail:
            yield tail
    except zlib.error as exc:
        raise BadArchive(f"member '{member.name}' is corrupt ({exc})") from exc
    if not inflater.eof:
        raise BadArchive(f"member '{member.name}' is truncated or corrupt")


def _checked(member: Member, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Pass the chunks on, then check their total size and CRC-32 against the directory."""
    size, crc = 0, 0
    for chunk in chunks:
        size += len(chunk)
        if size > member.size:
            raise BadArchive(f"member '{member.name}' is larger than its declared size")
        crc = zlib.crc32(chunk, crc)
        yield chunk
    if size != member.size:
        raise BadArchive(f"member '{member.name}' is shorter than its declared size (corrupt)")
    if crc != member.crc:
        raise BadArchive(f"member '{member.name}' fails its CRC-32 check (corrupt)")
