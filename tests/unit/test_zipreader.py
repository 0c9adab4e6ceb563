"""The ZIP reader over ranged reads: directory, sequential members, integrity checks."""

from __future__ import annotations

import io
import os
import struct
import zipfile
from collections.abc import Iterator

import pytest

from assets_core.logic.zipreader import BadArchive, read_directory, read_members
from tests.support import zip_bytes


class BytesSource:
    """An object store of one object, counting the bytes it hands out."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.served = 0
        self.requests = 0

    def read_range(self, key: str, start: int, end: int) -> bytes:
        self.requests += 1
        self.served += max(0, min(end, len(self.data)) - start)
        return self.data[start:end]

    def stream_range(self, key: str, start: int, end: int, chunk: int = 65536) -> Iterator[bytes]:
        self.requests += 1
        for offset in range(start, min(end, len(self.data)), chunk):
            piece = self.data[offset : min(end, offset + chunk)]
            self.served += len(piece)
            yield piece


def read_all(data: bytes) -> dict[str, bytes]:
    source = BytesSource(data)
    members, end = read_directory(source, "k", len(data))
    return {
        item.member.name: b"".join(item.chunks) for item in read_members(source, "k", members, end)
    }


def test_reads_deflated_and_stored_members_in_one_pass() -> None:
    payload = {"a.txt": b"hello" * 1000, "dir/b.bin": os.urandom(300_000), "c": b""}
    data = zip_bytes(payload, stored=("dir/b.bin",))
    source = BytesSource(data)
    members, end = read_directory(source, "k", len(data))
    assert {m.name for m in members} == set(payload)
    requests_for_directory = source.requests
    found = {i.member.name: b"".join(i.chunks) for i in read_members(source, "k", members, end)}
    assert found == payload
    assert source.requests == requests_for_directory + 1, "one sequential read for all members"


def test_the_directory_costs_a_tail_read_not_the_archive() -> None:
    data = zip_bytes({"big.bin": os.urandom(3_000_000)}, stored=("big.bin",))
    source = BytesSource(data)
    read_directory(source, "k", len(data))
    assert source.served <= 256 * 1024


def test_zip64_and_prefixed_archives() -> None:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w") as archive,
        archive.open("z.bin", "w", force_zip64=True) as member,
    ):
        member.write(b"x" * 1000)
    assert read_all(b"MZ-prefix-bytes" + buffer.getvalue()) == {"z.bin": b"x" * 1000}


@pytest.mark.parametrize("data", [b"", b"not a zip at all" * 10, b"PK\x03\x04" + b"\x00" * 40])
def test_not_a_zip(data: bytes) -> None:
    with pytest.raises(BadArchive, match="not a ZIP"):
        read_directory(BytesSource(data), "k", len(data))


def test_truncated_archive() -> None:
    data = zip_bytes({"a": os.urandom(50_000)})
    with pytest.raises(BadArchive):
        read_all(data[: len(data) // 2])


def test_corrupt_member_fails_crc_or_inflate() -> None:
    data = bytearray(zip_bytes({"a": b"abc" * 10_000, "s": b"stored data" * 100}, stored=("s",)))
    index = data.index(b"stored data")
    data[index : index + 6] = b"broken"  # flip stored bytes: CRC must catch it
    with pytest.raises(BadArchive, match="CRC-32"):
        read_all(bytes(data))


def test_member_lying_about_its_size_is_refused() -> None:
    data = bytearray(zip_bytes({"a": b"\x00" * 100_000}))
    central = data.rindex(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 10)  # declared uncompressed size: 10 bytes
    local = data.index(b"PK\x03\x04")
    struct.pack_into("<I", data, local + 22, 10)
    with pytest.raises(BadArchive, match="declared size"):
        read_all(bytes(data))


def test_overlapping_members_are_refused() -> None:
    data = bytearray(zip_bytes({"a": b"one", "b": b"two"}))
    first = data.index(b"PK\x01\x02")
    second = data.index(b"PK\x01\x02", first + 4)
    offset = struct.unpack_from("<I", data, first + 42)[0]
    struct.pack_into("<I", data, second + 42, offset)  # b points at a's header too
    with pytest.raises(BadArchive):
        read_all(bytes(data))


def test_a_long_gap_between_members_is_not_read_through() -> None:
    # members an earlier ingest run stored lie between those still to read
    payload = {"a.txt": b"a" * 100, "gap.bin": os.urandom(9 * 1024 * 1024), "z.txt": b"z" * 100}
    data = zip_bytes(payload, stored=("gap.bin",))
    source = BytesSource(data)
    members, end = read_directory(source, "k", len(data))
    wanted = [m for m in members if m.name != "gap.bin"]
    before = (source.requests, source.served)
    found = {i.member.name: b"".join(i.chunks) for i in read_members(source, "k", wanted, end)}
    assert found == {"a.txt": payload["a.txt"], "z.txt": payload["z.txt"]}
    assert source.requests - before[0] == 2  # one read, started again past the gap
    assert source.served - before[1] < 2 * 1024 * 1024  # a chunk or two, not the 9 MiB
