"""The client's downloads that go straight to the object store: what it sends there, and what
it refuses from a service that answers something hostile."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest

from assets_client.api import AssetsClient, VerificationError

ENDPOINT = "https://api.example.test"
BUCKET = "https://bucket.example.test"
DATA = b"weights" * 1000


def client_with(service: httpx.MockTransport, storage: httpx.MockTransport) -> AssetsClient:
    client = AssetsClient(ENDPOINT, token="secret-token")
    client.http = httpx.Client(base_url=ENDPOINT, headers=client.http.headers, transport=service)
    client.storage = httpx.Client(headers=client.storage.headers, transport=storage)
    return client


def listing(*paths: str, sha256: str | None = None) -> httpx.Response:
    items = [
        {"path": p, "size": len(DATA), "sha256": sha256 or hashlib.sha256(DATA).hexdigest()}
        for p in paths
    ]
    return httpx.Response(200, json={"asset_id": "a1", "revision": 1, "items": items})


def service(paths: tuple[str, ...], sha256: str | None = None) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/registry/assets/a1/files":
            return listing(*paths, sha256=sha256)
        name = path.removeprefix("/registry/assets/a1/files/")
        headers = {"x-checksum-sha256": sha256 or hashlib.sha256(DATA).hexdigest()}
        if request.method == "HEAD":
            return httpx.Response(200, headers=headers)
        return httpx.Response(307, headers={"location": f"{BUCKET}/assets/{name}?X-Amz-Sig=1"})

    return httpx.MockTransport(answer)


def test_presigned_gets_never_carry_the_token(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def bucket(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=DATA)

    client = client_with(service(("a.bin", "b/c.bin")), httpx.MockTransport(bucket))
    assert sorted(client.download_files("a1", tmp_path)) == ["a.bin", "b/c.bin"]
    assert client.download_file("a1", "a.bin", tmp_path / "one.bin") is not None
    # S3 refuses a presigned request that also carries an Authorization header, and the
    # bearer token is the registry's, not the bucket's to see
    assert len(seen) == 3
    assert all("authorization" not in request.headers for request in seen)
    assert (tmp_path / "b" / "c.bin").read_bytes() == DATA


def test_a_listed_path_that_escapes_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    fetched: list[httpx.Request] = []

    def bucket(request: httpx.Request) -> httpx.Response:
        fetched.append(request)
        return httpx.Response(200, content=DATA)

    client = client_with(service(("ok.bin", "../../escape.bin")), httpx.MockTransport(bucket))
    target = tmp_path / "inside"
    with pytest.raises(VerificationError, match=r"'\.\.' component"):
        client.download_files("a1", target)
    assert fetched == []
    assert not (tmp_path.parent / "escape.bin").exists()
    assert not target.exists()


def test_bytes_that_do_not_match_leave_no_file(tmp_path: Path) -> None:
    other = hashlib.sha256(b"something else").hexdigest()
    storage = httpx.MockTransport(lambda _: httpx.Response(200, content=DATA))
    client = client_with(service(("a.bin",), sha256=other), storage)
    with pytest.raises(VerificationError, match="does not match its stored sha256"):
        client.download_file("a1", "a.bin", tmp_path / "a.bin")
    with pytest.raises(VerificationError, match="does not match its stored sha256"):
        client.download_files("a1", tmp_path / "all")
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_stream_cut_short_leaves_no_partial_file(tmp_path: Path) -> None:
    def cut(_: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("connection reset")

    client = client_with(service(("a.bin",)), httpx.MockTransport(cut))
    from assets_client.api import NetworkError

    with pytest.raises(NetworkError):
        client.download_file("a1", "a.bin", tmp_path / "a.bin")
    assert list(tmp_path.iterdir()) == []


def test_the_service_own_urls_keep_the_token() -> None:
    client = AssetsClient(ENDPOINT, token="t")
    assert client._ours("/registry/zip/download/a1")
    assert client._ours(f"{ENDPOINT}/registry/download?token=x")
    assert not client._ours(f"{BUCKET}/archives/a1/1.zip")
    assert not client._ours(f"{ENDPOINT}.evil.test/steal")
    assert json.dumps(dict(client.storage.headers)).find("Bearer") == -1
