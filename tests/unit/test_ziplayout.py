"""The download ZIP laid out ahead of time: byte-identical to what stream-zip streams, its
size known exactly, valid past 4 GiB (ZIP64), and split into parts S3 accepts."""

from __future__ import annotations

import io
import itertools
import os
import zipfile
import zlib
from collections.abc import Iterator
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assets_core.logic.archives import CopyPart, UploadPart, plan_parts
from assets_core.logic.downloads import Manifest, zip_stream
from assets_core.logic.ziplayout import Entry, Span, crc32_combine, layout, size_of
from assets_core.ports import ObjectHead

MODIFIED = datetime(2026, 12, 2, 21, 30, 7)
MIB = 1024 * 1024


class Objects:
    """Stored objects in memory, as the stream reads them."""

    def __init__(self, data: dict[str, bytes]) -> None:
        self.data = data

    def key_of(self, url: str) -> str | None:
        return None

    def head(self, key: str) -> ObjectHead | None:
        return None

    def stream_range(self, key: str, start: int, end: int, chunk: int = MIB) -> Iterator[bytes]:
        body = self.data[key][start:end]
        return iter([body[n : n + chunk] for n in range(0, len(body), chunk)])


def manifest_of(files: dict[str, bytes], document: bytes = b'{"asset_id": "a"}') -> Manifest:
    entries = tuple(
        Entry(path, len(data), zlib.crc32(data), key=f"k/{n}")
        for n, (path, data) in enumerate(files.items())
    )
    return Manifest("a", 3, MODIFIED, entries, document)


def assembled(manifest: Manifest, objects: dict[str, bytes]) -> bytes:
    parts = []
    for segment in layout(manifest.entries, manifest.modified):
        if isinstance(segment, bytes):
            parts.append(segment)
        else:
            parts.append(objects[segment.key][segment.start : segment.end])
    return b"".join(parts)


names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\"),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(names, st.binary(max_size=3000), max_size=6))
def test_the_layout_is_byte_identical_to_the_stream(files: dict[str, bytes]) -> None:
    manifest = manifest_of(files)
    objects = {f"k/{n}": data for n, data in enumerate(files.values())}
    streamed = b"".join(zip_stream(manifest, Objects(objects)))
    laid_out = assembled(manifest, objects)
    assert laid_out == streamed
    assert manifest.zip_size == len(streamed)
    archive = zipfile.ZipFile(io.BytesIO(laid_out))
    assert archive.testzip() is None
    assert {info.filename: archive.read(info) for info in archive.infolist()} == {
        **files,
        "asset.json": manifest.document,
    }


class Sparse(io.RawIOBase):
    """A file of the layout's bytes with every stored object's bytes as zeros (never held)."""

    def __init__(self, segments: list[bytes | Span]) -> None:
        self.segments, self.position = segments, 0
        self.size = sum(len(s) if isinstance(s, bytes) else s.size for s in segments)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = (0, self.position, self.size)[whence] + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        want, start, out = len(buffer), 0, bytearray()
        for segment in self.segments:
            length = len(segment) if isinstance(segment, bytes) else segment.size
            if start + length > self.position and len(out) < want:
                offset = self.position + len(out) - start
                take = min(length - offset, want - len(out))
                out += (
                    segment[offset : offset + take] if isinstance(segment, bytes) else bytes(take)
                )
            start += length
        buffer[: len(out)] = out
        self.position += len(out)
        return len(out)


def test_past_four_gib_the_offsets_and_sizes_are_zip64() -> None:
    big = 3 * 1024 * MIB  # two of them: the third member starts past 4 GiB
    document = Entry("asset.json", 2, zlib.crc32(b"{}"), data=b"{}")
    entries = [Entry("a.bin", big, 0, key="a"), Entry("b.bin", big, 0, key="b"), document]
    segments = layout(entries, MODIFIED)
    archive = zipfile.ZipFile(io.BufferedReader(Sparse(segments)))
    infos = archive.infolist()
    assert [i.filename for i in infos] == ["a.bin", "b.bin", "asset.json"]
    assert [i.file_size for i in infos] == [big, big, 2]
    assert infos[2].header_offset > 2 * big > 0xFFFFFFFF
    assert archive.read("asset.json") == b"{}"
    assert size_of(entries) == Sparse(segments).size


def test_crc32_combine_matches_zlib() -> None:
    for a, b in ((b"", b"x"), (b"abc", b""), (os.urandom(999), os.urandom(4097))):
        assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


@pytest.mark.parametrize(
    "sizes",
    [
        [0],
        [1, 2, 3],
        [20 * MIB],
        [9 * MIB, 100, 30 * MIB, 1, 7 * MIB, 5 * MIB],
        [3000 * MIB, 2500 * MIB],
    ],
)
def test_every_part_but_the_last_is_at_least_the_minimum_and_they_cover_the_zip(
    sizes: list[int],
) -> None:
    entries = [Entry(f"f{n}", size, 0, key=f"k{n}") for n, size in enumerate(sizes)]
    segments = layout(entries, MODIFIED)
    parts = plan_parts(segments, min_part=8 * MIB, max_copy=1024 * MIB)
    lengths = [p.size if isinstance(p, UploadPart) else p.span.size for p in parts]
    assert sum(lengths) == size_of(entries)
    assert all(length >= 8 * MIB for length in lengths[:-1])
    assert all(p.span.size <= 1024 * MIB for p in parts if isinstance(p, CopyPart))
    # the pieces, in order, are the layout's bytes
    pieces = [s for p in parts for s in (p.pieces if isinstance(p, UploadPart) else [p.span])]
    for key in {s.key for s in segments if isinstance(s, Span)}:
        ranges = [(s.start, s.end) for s in pieces if isinstance(s, Span) and s.key == key]
        assert ranges[0][0] == 0
        assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    big_members = [s for s in segments if isinstance(s, Span) and s.size >= 16 * MIB]
    copied = sum(p.span.size for p in parts if isinstance(p, CopyPart))
    assert copied >= sum(s.size for s in big_members) - len(big_members) * 8 * MIB
