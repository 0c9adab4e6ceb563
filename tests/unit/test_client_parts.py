"""The ``assets`` command's uploads in parts, without a network: how a stream is cut into
parts and checked on resume, and how a part that fails is sent again with a fresh URL."""

from __future__ import annotations

import os
import zlib
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from assets_client import parts

MIB = 1024 * 1024


def crc(data: bytes) -> str:
    return f"{zlib.crc32(data):08x}"


def test_a_stream_is_cut_into_parts_in_order_whatever_its_chunks() -> None:
    data = os.urandom(3 * 1000 + 17)
    chunks = [data[i : i + 333] for i in range(0, len(data), 333)]
    cut = list(parts.stream_parts(chunks, 1000, {}))
    assert [p.number for p in cut] == [1, 2, 3, 4]
    assert b"".join(p.load() for p in cut) == data
    assert [p.checksum for p in cut] == [crc(data[i : i + 1000]) for i in range(0, len(data), 1000)]


def test_resuming_a_stream_skips_the_parts_held_and_refuses_a_changed_one() -> None:
    data = os.urandom(2500)
    held = {1: crc(data[:1000])}
    assert [p.number for p in parts.stream_parts([data], 1000, held)] == [2, 3]
    with pytest.raises(parts.PartRefused, match="folder changed"):
        list(parts.stream_parts([data], 1000, {2: "00000000"}))


def test_an_empty_stream_is_one_empty_part() -> None:
    assert [p.load() for p in parts.stream_parts([], 1000, {})] == [b""]


def test_file_checksums_and_parts_agree(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    data = os.urandom(2 * MIB + 5)
    path.write_bytes(data)
    checksums, whole = parts.file_checksums(path, MIB)
    assert whole == crc(data)
    loaded = list(parts.file_parts(path, MIB, checksums, {1, 3}))
    assert [p.number for p in loaded] == [1, 3]
    assert loaded[1].load() == data[2 * MIB :]


def test_part_size_keeps_within_10000_parts() -> None:
    assert parts.part_size_for(10 * MIB) == 16 * MIB
    size = 5 * 1024**4
    assert -(-size // parts.part_size_for(size)) <= 10_000


def sender(handler: Any, signed: list[int]) -> parts.PartSender:
    def sign(group: list[parts.Part]) -> list[dict[str, Any]]:
        signed.extend(p.number for p in group)
        return [{"url": f"http://store/{p.number}", "headers": {}} for p in group]

    storage = httpx.Client(transport=httpx.MockTransport(handler))
    return parts.PartSender(sign, storage, parallel=3, progress=lambda _: None)


def test_a_failing_part_is_sent_again_with_a_fresh_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parts.time, "sleep", lambda _: None)
    failures = {2: 2}

    def store(request: httpx.Request) -> httpx.Response:
        number = int(request.url.path.rsplit("/", 1)[-1])
        if failures.get(number):
            failures[number] -= 1
            return httpx.Response(503)
        return httpx.Response(200, headers={"etag": f'"e{number}"'})

    signed: list[int] = []
    pending = [parts.Part(n, "00000000", lambda: b"x") for n in range(1, 6)]
    sent = sender(store, signed).send_all(pending, batch=2)
    assert sorted(sent) == [1, 2, 3, 4, 5]
    assert sent[2]["etag"] == '"e2"'
    assert signed.count(2) == 3  # its batch, then once after each failure


def test_a_part_the_store_refuses_for_its_bytes_stops_the_upload() -> None:
    def store(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, text="<Error><Code>BadDigest</Code></Error>")

    with pytest.raises(parts.PartRefused, match="part 1"):
        sender(store, []).send_all([parts.Part(1, "00000000", lambda: b"x")], batch=1)


def test_a_part_that_never_goes_through_says_to_resume(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parts.time, "sleep", lambda _: None)

    def store(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down")

    with pytest.raises(ConnectionError, match="resume"):
        sender(store, []).send_all([parts.Part(1, "00000000", lambda: b"x")], batch=1)


def test_sessions_are_saved_found_by_path_and_forgotten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    target = tmp_path / "bundle.zip"
    parts.save_session("u-1", {"path": str(target.resolve()), "session_url": "/x"})
    assert parts.unfinished_for(target) == ["u-1"]
    assert parts.saved_session("u-1")["session_url"] == "/x"  # type: ignore[index]
    parts.forget_session("u-1")
    assert parts.unfinished_for(target) == []
    assert parts.saved_session("../u-1") is None


def test_parts_whose_checksum_is_known_once_read_are_signed_one_by_one() -> None:
    def store(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"etag": '"e"'})

    signed: list[int] = []
    pending = [parts.Part(n, "", partial(bytes, [n] * 10)) for n in range(1, 4)]
    sent = sender(store, signed).send_all(pending, batch=200)
    assert sorted(signed) == [1, 2, 3]
    assert sent[2]["checksum"] == crc(bytes([2]) * 10)
