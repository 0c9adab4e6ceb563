"""``assets pull``: a version's files into a folder, through the content cache: only the
files whose sha256 the cache does not hold are fetched (by presigned GET, side by side, each
checked as it arrives); the folder is then made from the cache — hard links where the
filesystem allows, copies otherwise — holding exactly the version's files, each verified.

The folder is built beside its destination and swapped in whole, so a pull interrupted
halfway leaves the destination as it was; a file already there with the right content keeps
its inode."""

from __future__ import annotations

import os
import secrets
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assets_client.bundle import unsafe_member_name
from assets_client.cache import ContentCache, file_sha256

if TYPE_CHECKING:
    from assets_client.api import AssetsClient


class PullError(Exception):
    """A pull that cannot be done as asked (offline with something missing, a bad listing)."""


@dataclass
class PullResult:
    asset_id: str
    asset_version: str
    folder: Path
    files: int = 0
    fetched: list[str] = field(default_factory=list)  # paths whose content was downloaded
    fetched_bytes: int = 0
    removed: list[str] = field(default_factory=list)  # paths no longer in the version
    discarded: list[str] = field(default_factory=list)  # cache entries that failed their hash

    def summary(self) -> dict[str, Any]:
        return {
            "asset_id": self.asset_id,
            "asset_version": self.asset_version,
            "folder": str(self.folder),
            "files": self.files,
            "fetched": len(self.fetched),
            "fetched_bytes": self.fetched_bytes,
            "removed": self.removed,
        }


def default_folder(asset_id: str, version: str) -> Path:
    return Path(f"{asset_id}-{version}")


def _checked_listing(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    for item in files:
        path = str(item.get("path") or "")
        reason = unsafe_member_name(path)
        if reason:
            raise PullError(f"refusing file {path!r}: {reason}")
        if path in seen:
            raise PullError(f"the listing names {path!r} twice")
        seen.add(path)
        if not isinstance(item.get("sha256"), str):
            raise PullError(f"{path} has no recorded sha256: it cannot be cached or verified")
    return files


def resolve(
    client: AssetsClient | None, cache: ContentCache, asset_id: str, ref: str | None, offline: bool
) -> tuple[str, list[dict[str, Any]]]:
    """The version ``ref`` names (default: the current one) and its files."""
    name = ref or "latest"
    if offline or client is None:
        manifest = cache.manifest(asset_id, name)
        if manifest is None:
            raise PullError(
                f"{asset_id}@{name} was never pulled here: nothing to pull offline "
                "(pull it once online)"
            )
        return str(manifest["asset_version"]), list(manifest["files"])
    document = client.get(asset_id, ref)
    version = str(document["asset_version"])
    listed = [
        {"path": f["path"], "sha256": f.get("sha256"), "size": int(f.get("size") or 0)}
        for f in client.files(asset_id, version)
    ]
    return version, _checked_listing(listed)


def pull(
    client: AssetsClient | None,
    asset_id: str,
    ref: str | None = None,
    folder: Path | None = None,
    *,
    cache: ContentCache | None = None,
    offline: bool = False,
    workers: int = 4,
    progress: Callable[[int], None] = lambda _: None,
    on_total: Callable[[int], None] = lambda _: None,
) -> PullResult:
    """Pull ``asset_id`` at ``ref`` (a version or an alias; default the current one) into
    ``folder`` (default ``<asset_id>-<version>``); what it did."""
    cache = cache or ContentCache()
    version, files = resolve(client, cache, asset_id, ref, offline)
    destination = (folder or default_folder(asset_id, version)).absolute()
    result = PullResult(asset_id, version, destination, files=len(files))

    # Which contents must come over the network: what the cache lacks (or holds wrongly).
    missing: dict[str, dict[str, Any]] = {}
    checked: set[str] = set()
    for item in files:
        sha = str(item["sha256"])
        if sha in checked:  # the same content at two paths: hashed once
            continue
        checked.add(sha)
        if not cache.holds(sha):  # absent, or its bytes do not match its name (discarded)
            missing[sha] = item
    # The folder's files may already be the content (a folder pulled before a cache prune).
    for sha, item in list(missing.items()):
        here = destination.joinpath(*str(item["path"]).split("/"))
        if here.is_file() and file_sha256(here) == sha:
            copied = cache.tmp_path()
            _link_or_copy(here, copied)
            cache.add(sha, copied)
            del missing[sha]
    if missing and offline:
        names = ", ".join(sorted(str(i["path"]) for i in missing.values())[:5])
        raise PullError(f"offline, and the cache lacks {len(missing)} file(s): {names}")
    if missing:
        assert client is not None
        on_total(sum(int(i.get("size") or 0) for i in missing.values()))
        _fetch(client, cache, asset_id, version, list(missing.values()), workers, progress, result)

    cache.save_manifest(asset_id, version, {ref or "latest", version}, files)
    _materialize(cache, files, destination, result)
    return result


def _fetch(
    client: AssetsClient,
    cache: ContentCache,
    asset_id: str,
    version: str,
    items: list[dict[str, Any]],
    workers: int,
    progress: Callable[[int], None],
    result: PullResult,
) -> None:
    lock = threading.Lock()

    def counted(n: int) -> None:
        with lock:
            progress(n)

    def fetch(item: dict[str, Any]) -> None:
        sha = str(item["sha256"])
        partial = cache.tmp_path()
        try:
            location = client.file_location(asset_id, str(item["path"]), version)
            client.save(location, partial, counted, sha256=sha)  # checked as it arrives
            cache.add(sha, partial)
        finally:
            partial.unlink(missing_ok=True)
        with lock:
            result.fetched.append(str(item["path"]))
            result.fetched_bytes += int(item.get("size") or 0)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for _ in pool.map(fetch, items):
            pass


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another filesystem, or one without hard links
        shutil.copyfile(source, target)


def _materialize(
    cache: ContentCache, files: list[dict[str, Any]], destination: Path, result: PullResult
) -> None:
    """Build the version's folder beside ``destination`` and swap it in."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = destination.with_name(f".{destination.name}.pull-{secrets.token_hex(4)}")
    staging.mkdir()
    try:
        for item in files:
            path = str(item["path"])
            sha = str(item["sha256"])
            target = staging.joinpath(*path.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            blob = cache.blob_path(sha)
            # a link to the cache entry: the file a folder pulled before holds, inode and all
            _link_or_copy(blob, target)
            # The cache entry was hashed as this pull began (or fetched and checked): a link
            # to it is those bytes; a copy is hashed again.
            if not os.path.samefile(target, blob) and file_sha256(target) != sha:
                raise PullError(f"{path} does not match its sha256 after it was placed")
        if destination.exists():
            held = {
                p.relative_to(destination).as_posix() for p in destination.rglob("*") if p.is_file()
            }
            result.removed = sorted(held - {str(i["path"]) for i in files})
            retired = destination.with_name(f".{destination.name}.old-{secrets.token_hex(4)}")
            os.replace(destination, retired)
            os.replace(staging, destination)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
