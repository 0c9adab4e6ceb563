"""The Assets Registry from Python: ``Registry(endpoint, token)``.

    from assets_client import Registry

    with Registry("http://127.0.0.1:3000", token) as registry:
        model = registry.get("my-model@stable")
        for asset in registry.search({"profiles.asset_type": "model"}):
            print(asset["asset_id"], asset["asset_version"])
        folder = registry.pull("my-model@v2", "./my-model").folder

Every method names assets as ``ID`` (the current version) or ``ID@VERSION`` (a version or an
alias). Failures are exceptions: ``ApiError`` (the service refused: ``status``, ``code`` and its
``message``), ``NetworkError``, ``UploadFailed``, ``VerificationError`` (bytes that do not match
their sha256), ``PullError`` and ``PushError``. It wraps ``AssetsClient``, the transport the
``assets`` command uses too."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from assets_client.api import AssetsClient, split_ref
from assets_client.cache import ContentCache
from assets_client.pull import PullResult, pull
from assets_client.push import PushResult, push

Progress = Callable[[int], None]


def _nothing(_: int) -> None:
    return None


class Registry:
    """A session with one deployment (or ``make run``'s local stack).

    ``endpoint`` defaults to ``$ASSETS_ENDPOINT``, else ``http://127.0.0.1:3000``; ``token``
    to ``$ASSETS_TOKEN``, else what ``assets login`` saved for the endpoint. ``cache`` is the
    folder of ``pull``'s content cache (default ``$ASSETS_CACHE``, else the platform's)."""

    def __init__(
        self,
        endpoint: str | None = None,
        token: str | None = None,
        *,
        cache: str | Path | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.client = AssetsClient(endpoint, token, timeout=timeout)
        self.cache = ContentCache(Path(cache) if cache is not None else None)

    @property
    def endpoint(self) -> str:
        return self.client.endpoint

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- reading --------------------------------------------------------------------------------

    def get(self, ref: str) -> dict[str, Any]:
        """The asset's document at ``ref`` (``ID`` or ``ID@VERSION``)."""
        asset_id, version = split_ref(ref)
        return self.client.get(asset_id, version)

    def search(
        self, filters: dict[str, Any] | None = None, *, page_size: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every asset matching a MongoDB-style filter (the API's operators), page after
        page as the iteration goes; no filter: every asset the caller may see."""
        return self.client.search(filters or {}, page_size)

    def versions(self, asset_id: str) -> list[dict[str, Any]]:
        """The asset's versions, newest first: ``asset_version``, ``created_at``,
        ``created_by``, ``file_count``, ``total_bytes``, ``aliases``."""
        return list(self.client.versions(asset_id))

    def files(self, ref: str) -> list[dict[str, Any]]:
        """The stored files of a version: ``path``, ``size``, ``sha256``, ``mime_type``."""
        asset_id, version = split_ref(ref)
        return list(self.client.files(asset_id, version))

    def lineage(self, ref: str, *, direction: str = "both", depth: int = 1) -> dict[str, Any]:
        """What a version comes from (``upstream``) and what comes from it (``downstream``):
        ``{"nodes": [...], "edges": [{"from", "to", "relation"}]}``."""
        asset_id, version = split_ref(ref)
        return self.client.lineage(asset_id, version, direction=direction, depth=depth)

    # -- writing --------------------------------------------------------------------------------

    def upload(
        self,
        path: str | Path,
        *,
        wait: bool = True,
        timeout: float = 3600,
        progress: Progress = _nothing,
    ) -> dict[str, Any]:
        """Upload a folder with ``asset.json`` (zipped as it is sent) or a ``.zip`` bundle;
        past 100 MiB in resumable parts. With ``wait`` (the default), the upload's record once
        ingested (``asset_id``, ``asset_version``, ``status: success``), else ``UploadFailed``
        with the reason; without, ``{"upload_id", "status": "queued"}``."""
        upload_id = self.client.upload(Path(path), progress=progress)
        if not wait:
            return {"upload_id": upload_id, "status": "queued"}
        return self.client.wait(upload_id, timeout=timeout)

    def push(
        self,
        folder: str | Path,
        *,
        wait: bool = True,
        timeout: float = 3600,
        progress: Progress = _nothing,
    ) -> PushResult:
        """Push a folder (its ``asset.json`` naming a new ``asset_version``) as a new version,
        sending only the files whose content the registry does not hold for you; the others
        are named by sha256. ``.record`` is the upload's record once ingested."""
        return push(self.client, Path(folder), wait=wait, timeout=timeout, progress=progress)

    def link(self, ref: str, relation: str, target: str) -> dict[str, Any]:
        """Record lineage: the version ``ref`` is ``relation`` (``derived_from``, ``trained_on``,
        ...) the version ``target`` (``ID@VERSION``)."""
        asset_id, version = split_ref(ref)
        target_id, target_version = split_ref(target)
        if target_version is None:
            target_version = str(self.client.get(target_id)["asset_version"])
        return self.client.link(asset_id, relation, target_id, target_version, version)

    # -- getting files back ---------------------------------------------------------------------

    def download(self, ref: str, destination: str | Path, *, progress: Progress = _nothing) -> Path:
        """The version's ZIP saved at ``destination``, every file in it checked against its
        recorded sha256 (``VerificationError`` names a bad one)."""
        asset_id, version = split_ref(ref)
        archive = Path(destination)
        asset = self.client.get(asset_id, version)
        location = self.client.download_location(asset_id, version=version)
        self.client.save(location, archive, progress)
        self.client.verify(archive, asset)
        return archive

    def pull(
        self,
        ref: str,
        folder: str | Path | None = None,
        *,
        offline: bool = False,
        workers: int = 4,
        progress: Progress = _nothing,
        on_total: Progress = _nothing,
    ) -> PullResult:
        """The version's files in ``folder`` (default ``ID-VERSION``), through the content
        cache: only contents the cache lacks are fetched; the folder then holds exactly the
        version's files, each verified. ``offline``: from the cache alone. ``progress`` hears
        each chunk's bytes as they arrive; ``on_total`` the bytes to fetch, once known."""
        asset_id, version = split_ref(ref)
        return pull(
            None if offline else self.client,
            asset_id,
            version,
            Path(folder) if folder is not None else None,
            cache=self.cache,
            offline=offline,
            workers=workers,
            progress=progress,
            on_total=on_total,
        )
