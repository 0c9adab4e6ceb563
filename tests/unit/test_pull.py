"""``assets pull`` through its content cache, against an in-memory registry: what moves over
the network, what the folder holds, and what a bad cache entry, an interrupted pull and an
offline pull do."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assets_client.api import VerificationError
from assets_client.cache import ContentCache
from assets_client.pull import PullError, pull


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FakeRegistry:
    """Versions of one asset, and a count of the bytes each fetch moved."""

    def __init__(self, versions: dict[str, dict[str, bytes]], aliases: dict[str, str]) -> None:
        self.versions = versions
        self.aliases = aliases
        self.fetched: list[str] = []
        self.fail_on: str | None = None
        self.lock = threading.Lock()

    def _version(self, ref: str | None) -> str:
        ref = ref or "latest"
        return self.aliases.get(ref, ref)

    def get(self, asset_id: str, version: str | None = None) -> dict[str, Any]:
        return {"asset_id": asset_id, "asset_version": self._version(version)}

    def files(self, asset_id: str, version: str | None = None) -> Iterator[dict[str, Any]]:
        for path, data in sorted(self.versions[self._version(version)].items()):
            yield {"path": path, "sha256": sha(data), "size": len(data)}

    def file_location(self, asset_id: str, path: str, version: str | None = None) -> str:
        return f"{self._version(version)}|{path}"

    def save(
        self,
        location: str,
        destination: Path,
        progress: Callable[[int], None],
        *,
        sha256: str | None = None,
    ) -> Path:
        version, path = location.split("|", 1)
        if path == self.fail_on:
            raise ConnectionError("the network went away")
        data = self.versions[version][path]
        destination.write_bytes(data)
        if sha256 and sha(data) != sha256:
            destination.unlink()
            raise VerificationError(f"{path} does not match")
        with self.lock:
            self.fetched.append(path)
        progress(len(data))
        return destination


V1 = {f"shards/{n:02}.bin": os.urandom(20_000) for n in range(6)} | {"config.json": b"{}"}
V2 = {**V1, "shards/03.bin": os.urandom(20_000), "extra/new.txt": b"new"}
del V2["config.json"]


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry({"v1": V1, "v2": V2}, {"latest": "v2", "stable": "v1"})


@pytest.fixture
def cache(tmp_path: Path) -> ContentCache:
    return ContentCache(tmp_path / "cache")


def contents(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)).replace(os.sep, "/"): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_a_second_pull_moves_nothing_and_the_next_version_only_what_changed(
    registry: FakeRegistry, cache: ContentCache, tmp_path: Path
) -> None:
    folder = tmp_path / "work"
    first = pull(registry, "model", "stable", folder, cache=cache)  # type: ignore[arg-type]
    assert first.asset_version == "v1"
    assert contents(folder) == V1
    assert len(first.fetched) == len(V1)
    inode = (folder / "config.json").stat().st_ino

    again = pull(registry, "model", "v1", folder, cache=cache)  # type: ignore[arg-type]
    assert (again.fetched, again.fetched_bytes, again.removed) == ([], 0, [])
    assert (folder / "config.json").stat().st_ino == inode  # not rewritten

    registry.fetched.clear()
    nxt = pull(registry, "model", None, folder, cache=cache)  # type: ignore[arg-type]
    assert nxt.asset_version == "v2"
    assert sorted(registry.fetched) == ["extra/new.txt", "shards/03.bin"]
    assert nxt.fetched_bytes == len(V2["shards/03.bin"]) + 3
    assert contents(folder) == V2
    assert nxt.removed == ["config.json"]  # not in v2: gone from the folder
    # the folder's files are hard links to the cache: no second copy on disk
    assert (folder / "shards/00.bin").stat().st_nlink >= 2


def test_a_cache_entry_whose_bytes_do_not_match_its_name_is_refetched(
    registry: FakeRegistry, cache: ContentCache, tmp_path: Path
) -> None:
    pull(registry, "model", "v1", tmp_path / "a", cache=cache)  # type: ignore[arg-type]
    blob = cache.blob_path(sha(V1["config.json"]))
    blob.chmod(0o644)
    blob.write_bytes(b"bit rot")  # through the hard link too
    registry.fetched.clear()
    result = pull(registry, "model", "v1", tmp_path / "b", cache=cache)  # type: ignore[arg-type]
    assert registry.fetched == ["config.json"]
    assert (tmp_path / "b" / "config.json").read_bytes() == b"{}"
    assert result.files == len(V1)


def test_an_interrupted_pull_leaves_the_folder_as_it_was(
    registry: FakeRegistry, cache: ContentCache, tmp_path: Path
) -> None:
    folder = tmp_path / "work"
    pull(registry, "model", "v1", folder, cache=cache)  # type: ignore[arg-type]
    (folder / "notes.txt").write_text("mine")
    before = contents(folder)
    registry.fail_on = "shards/03.bin"
    with pytest.raises(ConnectionError):
        pull(registry, "model", "v2", folder, cache=cache)  # type: ignore[arg-type]
    assert contents(folder) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging
    assert list((cache.root / "tmp").iterdir()) == []  # no partial content left
    registry.fail_on = None
    assert contents(pull(registry, "model", "v2", folder, cache=cache).folder) == V2  # type: ignore[arg-type]


def test_offline_pulls_use_the_cache_alone_and_say_what_is_missing(
    registry: FakeRegistry, cache: ContentCache, tmp_path: Path
) -> None:
    pull(registry, "model", "stable", tmp_path / "online", cache=cache)  # type: ignore[arg-type]
    offline = pull(None, "model", "stable", tmp_path / "offline", cache=cache, offline=True)
    assert (offline.asset_version, offline.fetched) == ("v1", [])
    assert contents(tmp_path / "offline") == V1
    with pytest.raises(PullError, match="never pulled here"):
        pull(None, "model", "v2", tmp_path / "x", cache=cache, offline=True)
    cache.discard(sha(V1["config.json"]))
    with pytest.raises(PullError, match=r"lacks 1 file\(s\): config.json"):
        pull(None, "model", "v1", tmp_path / "y", cache=cache, offline=True)
    assert not (tmp_path / "y").exists()


@pytest.mark.parametrize("path", ["../escape.bin", "/etc/passwd", "a/../../b", "c\\d"])
def test_a_listing_that_could_escape_the_folder_is_refused_before_any_write(
    cache: ContentCache, tmp_path: Path, path: str
) -> None:
    registry = FakeRegistry({"v1": {path: b"x"}}, {"latest": "v1"})
    with pytest.raises(PullError, match="refusing file"):
        pull(registry, "model", None, tmp_path / "work", cache=cache)  # type: ignore[arg-type]
    assert not (tmp_path / "work").exists()


def test_the_cache_lists_sizes_and_prunes(
    registry: FakeRegistry, cache: ContentCache, tmp_path: Path
) -> None:
    pull(registry, "model", "v1", tmp_path / "work", cache=cache)  # type: ignore[arg-type]
    held = list(cache.entries())
    assert len(held) == len(V1)
    assert cache.size() == sum(len(d) for d in V1.values())
    old = cache.blob_path(sha(V1["config.json"]))
    os.utime(old, (1, 1))
    assert [e.path for e in cache.prune(3600)] == [old]
    assert len(cache.prune(None)) == len(V1) - 1
    assert cache.size() == 0
    assert contents(tmp_path / "work") == V1  # a pulled folder keeps its files


def test_concurrent_pulls_share_the_cache_safely(
    registry: FakeRegistry, cache: ContentCache, tmp_path: Path
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        folders = [tmp_path / f"w{n}" for n in range(4)]
        results = list(
            pool.map(
                lambda folder: pull(registry, "model", "v2", folder, cache=cache),  # type: ignore[arg-type]
                folders,
            )
        )
    assert all(contents(r.folder) == V2 for r in results)
    assert len(list(cache.entries())) == len({sha(d) for d in V2.values()})
    assert list((cache.root / "tmp").iterdir()) == []
