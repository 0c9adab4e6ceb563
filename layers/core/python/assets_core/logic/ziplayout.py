"""The bytes of a download's ZIP laid out ahead of time: every member stored (not compressed)
with its size and CRC-32 known, in exactly the form stream-zip writes for
``NO_COMPRESSION_64(size, crc)`` (ZIP64 local and central records, an extended timestamp,
no data descriptors). The layout is a list of segments, each either bytes this process
writes (headers, the central directory, asset.json) or a range of a stored object, so the
archive can be assembled server-side in S3 from its parts and come out byte-identical to the
streamed ZIP of the same manifest (``tests/unit/test_ziplayout.py`` compares them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from struct import Struct

LOCAL_HEADER = Struct("<4sHHH4sIIIHH")
LOCAL_ZIP64 = Struct("<2sHQQ")
CENTRAL_HEADER = Struct("<4sBBBBHH4sIIIHHHHHII")
CENTRAL_ZIP64 = Struct("<2sHQQQ")
UNIX_TIME = Struct("<2sH1sl")
DOS_TIME = Struct("<HH")
END_ZIP64 = Struct("<4sQHHIIQQQQ")
END_ZIP64_LOCATOR = Struct("<4sIQI")
END = Struct("<4sHHHHIIH")

VERSION = 45  # ZIP64
UTF8 = 0x800
UNIX = 3
MODE = 0o644
FULL = 0xFFFFFFFF


@dataclass(frozen=True)
class Entry:
    """One member: its path, size and CRC-32, and where its bytes are: a stored object
    (``key``) or in memory (``data``, for asset.json)."""

    path: str
    size: int
    crc32: int
    key: str | None = None
    data: bytes | None = None


@dataclass(frozen=True)
class Span:
    """Bytes ``start`` to ``end`` (exclusive) of the stored object ``key``."""

    key: str
    start: int
    end: int
    member: str = ""  # the path of the member whose bytes these are

    @property
    def size(self) -> int:
        return self.end - self.start


Segment = bytes | Span


def _times(modified: datetime) -> tuple[bytes, bytes]:
    dos = DOS_TIME.pack(
        modified.second // 2 | modified.minute << 5 | modified.hour << 11,
        modified.day | modified.month << 5 | (modified.year - 1980) << 9,
    )
    # stream-zip's: the naive datetime's timestamp(), as the stream computes it.
    unix = UNIX_TIME.pack(b"UT", 5, b"\x01", int(modified.timestamp()))
    return dos, unix


def _local_header(entry: Entry, dos: bytes, unix: bytes) -> bytes:
    name = entry.path.encode()
    extra = LOCAL_ZIP64.pack(b"\x01\x00", 16, entry.size, entry.size) + unix
    head = LOCAL_HEADER.pack(
        b"PK\x03\x04", VERSION, UTF8, 0, dos, entry.crc32, FULL, FULL, len(name), len(extra)
    )
    return head + name + extra


def _central_header(entry: Entry, offset: int, dos: bytes, unix: bytes) -> bytes:
    name = entry.path.encode()
    extra = CENTRAL_ZIP64.pack(b"\x01\x00", 24, entry.size, entry.size, offset) + unix
    external = MODE << 16 | (0x10 if name.endswith(b"/") else 0)
    head = CENTRAL_HEADER.pack(
        b"PK\x01\x02",
        VERSION,
        UNIX,
        VERSION,
        0,
        UTF8,
        0,
        dos,
        entry.crc32,
        FULL,
        FULL,
        len(name),
        len(extra),
        0,
        0,
        0,
        external,
        FULL,
    )
    return head + name + extra


def _end(count: int, directory_start: int, directory_size: int) -> bytes:
    directory_end = directory_start + directory_size
    return (
        END_ZIP64.pack(
            b"PK\x06\x06",
            44,
            VERSION,
            VERSION,
            0,
            0,
            count,
            count,
            directory_size,
            directory_start,
        )
        + END_ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, directory_end, 1)
        + END.pack(b"PK\x05\x06", 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, FULL, FULL, 0)
    )


def layout(entries: Sequence[Entry], modified: datetime) -> list[Segment]:
    """The ZIP as segments, in order; adjacent bytes are joined."""
    dos, unix = _times(modified)
    segments: list[Segment] = []
    directory: list[bytes] = []
    offset = 0

    def add(segment: Segment) -> None:
        if isinstance(segment, bytes) and segments and isinstance(segments[-1], bytes):
            segments[-1] += segment
        elif not isinstance(segment, Span) or segment.size:
            segments.append(segment)

    for entry in entries:
        header = _local_header(entry, dos, unix)
        directory.append(_central_header(entry, offset, dos, unix))
        add(header)
        if entry.key is not None:
            add(Span(entry.key, 0, entry.size, entry.path))
        else:
            add(entry.data or b"")
        offset += len(header) + entry.size
    central = b"".join(directory)
    add(central + _end(len(entries), offset, len(central)))
    return segments


def size_of(entries: Sequence[Entry]) -> int:
    """The ZIP's size in bytes, without laying it out."""
    total = END_ZIP64.size + END_ZIP64_LOCATOR.size + END.size
    for entry in entries:
        name = len(entry.path.encode())
        total += LOCAL_HEADER.size + name + LOCAL_ZIP64.size + UNIX_TIME.size + entry.size
        total += CENTRAL_HEADER.size + name + CENTRAL_ZIP64.size + UNIX_TIME.size
    return total


# -- CRC-32 of joined byte ranges (zlib's crc32_combine, which Python's zlib does not expose)


def _gf2_times(matrix: list[int], vector: int) -> int:
    total, row = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, matrix[n]) for n in range(32)]


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC-32 of A + B from the CRC-32 of A, the CRC-32 of B and B's length."""
    if len2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]  # the operator for one zero bit
    even = _gf2_square(odd)  # two zero bits
    odd = _gf2_square(even)  # four zero bits
    while True:
        even = _gf2_square(odd)  # the first pass: one zero byte
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2
