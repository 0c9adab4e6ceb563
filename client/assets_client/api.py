"""The HTTP client: one method per operation of the services, errors as exceptions."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx

from assets_client import parts
from assets_client.bundle import (
    CHUNK,
    scan_folder,
    unsafe_member_name,
    zip_folder,
    zipped_size,
)

DEFAULT_ENDPOINT = "http://127.0.0.1:3000"
# The most contents POST /registry/content/missing answers at once.
MAX_NAMED_CONTENTS = 10_000
# A download from the object store: ranged GETs of this size, this many at once (what
# s3transfer does; one stream of an object is slower than the store).
RANGE_BYTES = 16 * 1024 * 1024
RANGES = 4
Progress = Callable[[int], None]


class ApiError(Exception):
    """The service answered with an error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message} (HTTP {status})")
        self.status, self.code, self.message = status, code, message


class NetworkError(Exception):
    """The service could not be reached."""


class VerificationError(Exception):
    """Downloaded bytes do not match the stored checksums."""


class UploadFailed(Exception):
    """The service refused an uploaded bundle; the message is its reason."""


class BadResponse(Exception):
    """The service answered something that is not the JSON it should send (a proxy's error
    page, a wrong endpoint)."""


def _decoded(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        kind = response.headers.get("content-type", "no content type")
        raise BadResponse(
            f"{response.request.url} answered HTTP {response.status_code} with {kind}, "
            f"not JSON: {response.text[:120]!r}"
        ) from exc


def _nothing(_: int) -> None:
    pass


class AssetsClient:
    def __init__(
        self, endpoint: str | None = None, token: str | None = None, timeout: float = 60.0
    ) -> None:
        self.endpoint = (endpoint or os.environ.get("ASSETS_ENDPOINT") or DEFAULT_ENDPOINT).rstrip(
            "/"
        )
        if token is None:  # $ASSETS_TOKEN, else what ``assets login`` saved for this endpoint
            from assets_client import login

            token = os.environ.get("ASSETS_TOKEN") or login.stored(self.endpoint)
        headers = {"User-Agent": "assets-cli/0.1", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(base_url=self.endpoint, headers=headers, timeout=timeout)
        self.storage = httpx.Client(headers={"User-Agent": headers["User-Agent"]}, timeout=timeout)

    def close(self) -> None:
        self.http.close()
        self.storage.close()

    # -- plumbing ---------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise NetworkError(f"cannot reach {self.endpoint}: {exc}") from exc
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        _raise_for(response)
        return _decoded(response)

    def pages(self, path: str, body: Any, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a paginated POST query, following next_cursor."""
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": limit} if limit else {}
            if cursor:
                params["cursor"] = cursor
            page = self._json("POST", path, json=body, params=params)
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def health(self, prefix: str) -> dict[str, Any]:
        """A service's health answer (``{"status": "ok"}``); ``prefix`` as ``/registry``."""
        result: dict[str, Any] = self._json("GET", f"{prefix}/health")
        return result

    # -- Assets Registry ------------------------------------------------------------------------

    def create(self, asset: dict[str, Any]) -> dict[str, Any]:
        """Register an asset document (no files uploaded); the stored document."""
        result: dict[str, Any] = self._json("POST", "/registry/assets", json=asset)
        return result

    def get(self, asset_id: str, version: str | None = None) -> dict[str, Any]:
        """The asset's current version, or the version (or alias) named."""
        result: dict[str, Any] = self._json(
            "GET", f"/registry/assets/{_quote(asset_id)}", params=_version(version)
        )
        return result

    def delete(self, asset_id: str) -> dict[str, Any]:
        """Delete the asset (restorable for the deployment's retention days)."""
        result: dict[str, Any] = self._json("DELETE", f"/registry/assets/{_quote(asset_id)}")
        return result

    def restore(self, asset_id: str) -> dict[str, Any]:
        """Bring back a deleted asset with its versions and aliases."""
        result: dict[str, Any] = self._json("POST", f"/registry/assets/{_quote(asset_id)}/restore")
        return result

    def versions(self, asset_id: str) -> Iterator[dict[str, Any]]:
        """The asset's versions, newest first, with their aliases."""
        path = f"/registry/assets/{_quote(asset_id)}/versions"
        cursor: str | None = None
        while True:
            page = self._json("GET", path, params={"cursor": cursor} if cursor else {})
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def add_version(self, asset: dict[str, Any]) -> dict[str, Any]:
        """Add a version (a complete asset document, no files uploaded) as the current one."""
        path = f"/registry/assets/{_quote(str(asset.get('asset_id', '')))}/versions"
        result: dict[str, Any] = self._json("POST", path, json=asset)
        return result

    def set_alias(self, asset_id: str, alias: str, version: str) -> dict[str, Any]:
        """Point an alias at a version (set or move it)."""
        path = f"/registry/assets/{_quote(asset_id)}/aliases/{_quote(alias)}"
        result: dict[str, Any] = self._json("PUT", path, json={"asset_version": version})
        return result

    def delete_alias(self, asset_id: str, alias: str) -> dict[str, Any]:
        path = f"/registry/assets/{_quote(asset_id)}/aliases/{_quote(alias)}"
        result: dict[str, Any] = self._json("DELETE", path)
        return result

    def lineage(
        self,
        asset_id: str,
        version: str | None = None,
        *,
        direction: str = "both",
        depth: int = 1,
    ) -> dict[str, Any]:
        """The lineage around a version: ``{"nodes", "edges"}`` as the caller may see it."""
        params = {**_version(version), "direction": direction, "depth": str(depth)}
        path = f"/registry/assets/{_quote(asset_id)}/lineage"
        result: dict[str, Any] = self._json("GET", path, params=params)
        return result

    def link(
        self,
        asset_id: str,
        relation: str,
        target_id: str,
        target_version: str,
        version: str | None = None,
    ) -> dict[str, Any]:
        """Record that a version (the current one by default) ``relation`` another."""
        path = f"/registry/assets/{_quote(asset_id)}/lineage"
        body = {"relation": relation, "asset_id": target_id, "asset_version": target_version}
        result: dict[str, Any] = self._json("POST", path, json=body, params=_version(version))
        return result

    def audit(self, **filters: str | None) -> Iterator[dict[str, Any]]:
        """The audit trail (admins), newest first, following every page."""
        cursor: str | None = None
        while True:
            params: dict[str, str] = {k: v for k, v in filters.items() if v is not None}
            if cursor:
                params["cursor"] = cursor
            page = self._json("GET", "/registry/audit", params=params)
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def search(
        self, filters: dict[str, Any], page_size: int | None = None
    ) -> Iterator[dict[str, Any]]:
        return self.pages("/registry/query/search", filters, page_size)

    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, path: str = "/registry/graphql"
    ) -> dict[str, Any]:
        response = self._send("POST", path, json={"query": query, "variables": variables or {}})
        _raise_for(response)
        result: dict[str, Any] = _decoded(response)
        return result

    def upload(
        self,
        path: Path,
        progress: Progress = _nothing,
        on_total: Callable[[int], None] = _nothing,
        *,
        parallel: int = 4,
        multipart: bool | None = None,
        part_size: int | None = None,
        on_session: Callable[[str], None] | None = None,
    ) -> str:
        """Send a .zip (bound to its SHA-256: the object store refuses other bytes), or a
        folder with asset.json zipped as it goes; the upload id. Past ``MULTIPART_THRESHOLD``
        (or with ``multipart``) it goes in parts, ``parallel`` at once, resumable
        (``resume_upload``): ``on_session`` is told the session's id as it starts."""
        if path.is_dir():
            entries = scan_folder(path)
            size = zipped_size(entries)
            filename = f"{path.name or 'bundle'}.zip"
        else:
            entries, size, filename = None, path.stat().st_size, path.name
        on_total(size)
        if multipart if multipart is not None else size > parts.MULTIPART_THRESHOLD:
            return self._upload_in_parts(
                "/registry/zip/upload",
                {"filename": filename, "size": size},
                path,
                parallel=parallel,
                part_size=part_size or parts.part_size_for(size),
                progress=progress,
                on_session=on_session or (lambda _: None),
            )["upload_id"]
        request: dict[str, Any] = {"filename": filename, "size": size, "multipart": False}
        content: Iterable[bytes]
        if entries is not None:
            content = zip_folder(entries)
        else:
            content = _file_chunks(path)
            digest = hashlib.sha256()
            for chunk in _file_chunks(path):
                digest.update(chunk)
            request["sha256"] = digest.hexdigest()
        ticket = self._json("POST", "/registry/zip/upload", json=request)
        upload = ticket["upload"]
        self._post_to_storage(upload, filename, content, size, progress)
        return str(ticket["upload_id"])

    # -- uploads in parts --------------------------------------------------------------------

    def _upload_in_parts(
        self,
        route: str,
        request: dict[str, Any],
        path: Path,
        *,
        parallel: int,
        part_size: int,
        progress: Progress,
        on_session: Callable[[str], None],
    ) -> dict[str, Any]:
        """Open a session at ``route``, send every part, complete it; the route's answer
        (with the session under ``upload``, and ``upload_id``)."""
        # No pass over the file first: each part's CRC32 is computed by the worker that reads
        # it, then signed (a resume reads the file first, to compare the parts held).
        body = {**request, "multipart": True, "part_size": part_size}
        answer: dict[str, Any] = self._json("POST", route, json=body)
        session = answer["upload"]
        upload_id = str(session["upload_id"])
        answer.setdefault("upload_id", upload_id)
        parts.save_session(
            upload_id,
            {
                "endpoint": self.endpoint,
                "path": str(path.resolve()),
                "session_url": session["session_url"],
            },
        )
        on_session(upload_id)
        self._send_parts(session, path, {}, None, parallel, progress)
        return answer

    def resume_upload(
        self,
        upload_id: str,
        path: Path,
        *,
        base: str = "/registry/uploads",
        parallel: int = 4,
        progress: Progress = _nothing,
        on_total: Callable[[int], None] = _nothing,
    ) -> dict[str, Any]:
        """Continue an interrupted upload in parts from the parts the store holds: the
        session (its status, once completed)."""
        saved = parts.saved_session(upload_id) or {}
        url = saved.get("session_url") or f"{base}/{_quote(upload_id)}"
        session: dict[str, Any] = self._json("GET", url)
        on_total(int(session["size"]))
        if session["status"] != "uploading":
            if session["status"] in ("aborted", "expired"):
                raise UploadFailed(f"the upload session is {session['status']}; start a new upload")
            return session  # completed already: ingest follows
        received = {int(p["part_number"]): p for p in session.get("received") or []}
        progress(sum(int(p["size"]) for p in received.values()))
        checksums = None
        size = zipped_size(scan_folder(path)) if path.is_dir() else path.stat().st_size
        if size != session["size"]:
            raise UploadFailed(f"{path} is not the file this upload started with (its size)")
        if not path.is_dir():
            checksums, whole = parts.file_checksums(path, int(session["part_size"]))
            if session.get("crc32") not in (None, whole):
                raise UploadFailed(f"{path} is not the file this upload started with")
        return self._send_parts(session, path, received, checksums, parallel, progress)

    def _send_parts(
        self,
        session: dict[str, Any],
        path: Path,
        received: dict[int, dict[str, Any]],
        checksums: list[str] | None,
        parallel: int,
        progress: Progress,
    ) -> dict[str, Any]:
        part_size = int(session["part_size"])
        held = {number: str(part["checksum"]) for number, part in received.items()}
        if checksums is not None:
            for number, checksum in held.items():
                if checksums[number - 1] != checksum:
                    raise UploadFailed(
                        f"part {number} of {path} differs from the part the store holds: the "
                        "file changed since the upload started; start a new upload"
                    )
            wanted = set(range(1, len(checksums) + 1)) - set(held)
            pending = parts.file_parts(path, part_size, checksums, wanted)
            batch = parts.SIGN_BATCH
        elif not path.is_dir():  # a new upload: each part's checksum computed as it is sent
            unknown = [""] * int(session["part_count"])
            pending = parts.file_parts(path, part_size, unknown)
            batch = parts.SIGN_BATCH
        else:
            pending = parts.stream_parts(zip_folder(scan_folder(path)), part_size, held)
            # A batch is cut, and held, before it is signed: half the parts in flight keeps
            # what a stream holds at once near 1.5 x parallel parts.
            batch = max(1, parallel // 2)

        def sign(group: list[parts.Part]) -> list[dict[str, Any]]:
            declared = [{"part_number": p.number, "checksum": p.checksum} for p in group]
            signed = self._json("POST", session["parts_url"], json={"parts": declared})
            return list(signed["parts"])

        sender = parts.PartSender(sign, self.storage, parallel, progress)
        try:
            sent = sender.send_all(pending, batch)
        except parts.PartRefused as exc:
            raise UploadFailed(str(exc)) from exc
        except ConnectionError as exc:
            raise NetworkError(
                f"{exc} (assets upload PATH --resume {session['upload_id']})"
            ) from exc
        named = [
            {key: part[key] for key in ("part_number", "etag", "checksum")}
            for part in sorted([*received.values(), *sent.values()], key=lambda p: p["part_number"])
        ]
        completed: dict[str, Any] = self._json(
            "POST", session["complete_url"], json={"parts": named}
        )
        parts.forget_session(str(session["upload_id"]))
        return completed

    def _post_to_storage(
        self,
        upload: dict[str, Any],
        filename: str,
        content: Iterable[bytes],
        size: int,
        progress: Progress,
    ) -> None:
        """The bundle to the object store, streamed with an exact Content-Length: a
        multipart/form-data POST (every field first, the file last), or for a ticket bound
        to its SHA-256 a PUT of the bytes alone with the ticket's signed headers."""
        if upload.get("method") == "PUT":
            self._put_to_storage(upload, content, size, progress)
            return
        boundary = uuid.uuid4().hex

        def part(disposition: str, extra: str = "") -> bytes:
            header = f"Content-Disposition: form-data; {disposition}\r\n{extra}"
            return f"--{boundary}\r\n{header}\r\n".encode()

        head = b"".join(
            part(f'name="{name}"') + f"{value}\r\n".encode()
            for name, value in upload["fields"].items()
        ) + part(f'name="file"; filename="{filename}"', "Content-Type: application/zip\r\n")
        tail = f"\r\n--{boundary}--\r\n".encode()

        def body() -> Iterator[bytes]:
            yield head
            sent = 0
            for chunk in content:
                sent += len(chunk)
                progress(len(chunk))
                yield chunk
            if sent != size:
                raise ValueError(f"the bundle changed while it was sent ({sent} of {size} bytes)")
            yield tail

        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + size + len(tail)),
        }
        self._send_to_storage("POST", upload["url"], body(), headers)

    def _put_to_storage(
        self, upload: dict[str, Any], content: Iterable[bytes], size: int, progress: Progress
    ) -> None:
        def body() -> Iterator[bytes]:
            for chunk in content:
                progress(len(chunk))
                yield chunk

        headers = {**upload.get("headers", {}), "Content-Length": str(size)}
        self._send_to_storage("PUT", upload["url"], body(), headers)

    def _send_to_storage(
        self, method: str, url: str, content: Iterable[bytes], headers: dict[str, str]
    ) -> None:
        try:
            # No overall time limit: a multi-GB upload takes as long as it takes; the connection
            # still has connect and read limits.
            timeout = httpx.Timeout(None, connect=30.0, read=300.0)
            answer = httpx.request(method, url, content=content, headers=headers, timeout=timeout)
        except httpx.TransportError as exc:
            raise NetworkError(f"cannot reach the object store: {exc}") from exc
        if answer.status_code >= 300:
            raise ApiError(
                answer.status_code,
                "UPLOAD_REFUSED",
                f"the object store refused the upload: {answer.text[:300]}",
            )

    def status(self, upload_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json("GET", f"/registry/zip/status/{upload_id}")
        return result

    def wait(
        self,
        upload_id: str,
        *,
        timeout: float = 3600,
        interval: float = 0.5,
        on_status: Callable[[str], None] = lambda _: None,
    ) -> dict[str, Any]:
        """Poll an upload until it succeeds (the record) or fails (``UploadFailed``)."""
        deadline = time.monotonic() + timeout
        while True:
            record = self.status(upload_id)
            state = str(record["status"])
            on_status(state)
            if state == "success":
                return record
            if state.startswith("failed"):
                raise UploadFailed(state.removeprefix("failed:").strip())
            if state in ("aborted", "expired"):
                raise UploadFailed(f"the upload session was {state} before it was completed")
            if time.monotonic() > deadline:
                raise UploadFailed(f"still '{state}' after {timeout:.0f} seconds")
            time.sleep(interval)

    def download(
        self,
        asset_id: str,
        destination: Path,
        progress: Progress = _nothing,
        on_total: Callable[[int | None], None] = lambda _: None,
        *,
        on_status: Callable[[str], None] = lambda _: None,
        timeout: float = 3600,
        interval: float = 1.0,
        version: str | None = None,
    ) -> Path:
        """Save an asset's ZIP (its current version, or ``version``) to ``destination``:
        streamed (small ones), or, for a large one, assembled by the service first
        (``on_status`` hears ``building`` while it waits), then fetched straight from the
        object store."""
        location = self.download_location(
            asset_id, on_status=on_status, timeout=timeout, interval=interval, version=version
        )
        return self.save(location, destination, progress, on_total)

    def download_location(
        self,
        asset_id: str,
        *,
        on_status: Callable[[str], None] = lambda _: None,
        timeout: float = 3600,
        interval: float = 1.0,
        version: str | None = None,
    ) -> str:
        """Where the asset's ZIP can be fetched now (a short-lived URL), waiting while the
        service assembles a large one. ``UploadFailed`` when that fails twice in a row (the
        first failure is retried by asking again)."""
        path = f"/registry/zip/download/{quote(asset_id, safe='')}"
        deadline = time.monotonic() + timeout
        failures = 0
        while True:
            response = self._send("GET", path, follow_redirects=False, params=_version(version))
            if response.status_code in (301, 302, 303, 307, 308):
                return str(response.headers["location"])
            _raise_for(response)
            state = str(_decoded(response).get("status", "building"))
            status_url = str(_decoded(response).get("status_url") or f"{path}/status")
            on_status(state)
            while state == "building":
                if time.monotonic() > deadline:
                    raise UploadFailed(f"the ZIP was still being built after {timeout:.0f} s")
                time.sleep(interval)
                state = str(self._json("GET", status_url).get("status", "building"))
                on_status(state)
            if state.startswith("failed"):
                failures += 1
                if failures > 1:
                    raise UploadFailed(state.removeprefix("failed:").strip())

    def save(
        self,
        path: str,
        destination: Path,
        progress: Progress = _nothing,
        on_total: Callable[[int | None], None] = lambda _: None,
        *,
        sha256: str | None = None,
    ) -> Path:
        """Stream a GET (redirects followed) to ``destination``, through a ``.part`` file so an
        interrupted transfer never leaves a file that looks complete. With ``sha256`` the bytes
        are checked as they arrive and a mismatch leaves nothing behind
        (``VerificationError``). A URL on another host (a presigned object store URL) is fetched
        without this client's token: it is not theirs to see, and S3 refuses a request that
        carries a second authorization."""
        http = self.http if self._ours(path) else self.storage
        partial = destination.with_name(destination.name + ".part")
        digest = hashlib.sha256()
        try:
            with http.stream("GET", path, follow_redirects=True, timeout=None) as response:
                if response.status_code >= 400:
                    response.read()
                    _raise_for(response)
                length = response.headers.get("content-length")
                on_total(int(length) if length else None)
                with partial.open("wb") as out:
                    for chunk in response.iter_bytes(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        progress(len(chunk))
        except httpx.TransportError as exc:
            partial.unlink(missing_ok=True)
            raise NetworkError(
                f"the download stopped before its end ({exc}); the service stops a download "
                "when a stored file fails its checksum, or the connection failed: try again"
            ) from exc
        if sha256 is not None and digest.hexdigest() != sha256.lower():
            partial.unlink(missing_ok=True)
            raise VerificationError(
                f"{destination.name} does not match its stored sha256 "
                f"(expected {sha256}, got {digest.hexdigest()})"
            )
        partial.replace(destination)
        return destination

    def _ours(self, url: str) -> bool:
        return "://" not in url or url.startswith(self.endpoint + "/")

    def missing_contents(self, sha256s: list[str]) -> set[str]:
        """Which of these contents the registry does not hold for the caller (not held, or
        not the caller's to read: the service does not tell which), asked 10,000 at a time."""
        missing: set[str] = set()
        for start in range(0, len(sha256s), MAX_NAMED_CONTENTS):
            batch = {"sha256": sha256s[start : start + MAX_NAMED_CONTENTS]}
            missing.update(self._json("POST", "/registry/content/missing", json=batch)["missing"])
        return missing

    # -- files one by one ---------------------------------------------------------------------

    def files(self, asset_id: str, version: str | None = None) -> Iterator[dict[str, Any]]:
        """Every stored file of the asset (or of ``version``): path, size, sha256, mime_type."""
        path = f"/registry/assets/{quote(asset_id, safe='')}/files"
        cursor: str | None = None
        while True:
            params = {**_version(version), **({"cursor": cursor} if cursor else {})}
            page = self._json("GET", path, params=params)
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def _file_path(self, asset_id: str, path: str) -> str:
        reason = unsafe_member_name(path)
        if reason:  # refused here: an HTTP library would fold '..' away and ask for another path
            raise ValueError(f"not a file path in an asset ({reason}): {path!r}")
        return f"/registry/assets/{quote(asset_id, safe='')}/files/{quote(path, safe='/')}"

    def file_head(self, asset_id: str, path: str, version: str | None = None) -> dict[str, str]:
        """The stored file's descriptor: Content-Length, Content-Type, Last-Modified and
        x-checksum-sha256 (``ApiError`` 404 for an unknown asset, version or path)."""
        params = _version(version)
        response = self._send("HEAD", self._file_path(asset_id, path), params=params)
        if response.status_code >= 400:
            # A HEAD answer has no body to name the error: ask the same with GET for it.
            _raise_for(self._send("GET", self._file_path(asset_id, path), params=params))
            _raise_for(response)
        return dict(response.headers)

    def file_location(self, asset_id: str, path: str, version: str | None = None) -> str:
        """A short-lived presigned URL of exactly that file."""
        response = self._send(
            "GET",
            self._file_path(asset_id, path),
            follow_redirects=False,
            params=_version(version),
        )
        _raise_for(response)
        if response.status_code not in (301, 302, 303, 307, 308):
            raise BadResponse(f"{response.request.url} answered HTTP {response.status_code}")
        return str(response.headers["location"])

    def download_file(
        self,
        asset_id: str,
        path: str,
        destination: Path,
        progress: Progress = _nothing,
        on_total: Callable[[int | None], None] = lambda _: None,
        version: str | None = None,
    ) -> str | None:
        """Save one file of the asset (or of ``version``), straight from the object store,
        checked against the sha256 the registry recorded (HEAD's ``x-checksum-sha256``);
        that sha256, or None when none was recorded and so nothing could be checked."""
        sha256 = self.file_head(asset_id, path, version).get("x-checksum-sha256")
        location = self.file_location(asset_id, path, version)
        self.save(location, destination, progress, on_total, sha256=sha256)
        return sha256

    def download_files(
        self,
        asset_id: str,
        folder: Path,
        progress: Progress = _nothing,
        on_total: Callable[[int | None], None] = lambda _: None,
        *,
        workers: int = 4,
        version: str | None = None,
    ) -> list[str]:
        """Save every stored file of the asset below ``folder``, ``workers`` at a time, each
        straight from the object store and checked against its recorded sha256; the paths
        that were checked (a file with no recorded sha256 is saved unchecked). A path that
        could escape ``folder`` is refused before anything is written."""
        listed = list(self.files(asset_id, version))
        for item in listed:
            reason = unsafe_member_name(str(item.get("path") or ""))
            if reason:
                raise VerificationError(f"refusing file '{item.get('path')}': {reason}")
        on_total(sum(int(item.get("size") or 0) for item in listed))
        lock = threading.Lock()

        def counted(n: int) -> None:
            with lock:
                progress(n)

        def fetch(item: dict[str, Any]) -> str | None:
            name = str(item["path"])
            destination = folder.joinpath(*name.split("/"))
            destination.parent.mkdir(parents=True, exist_ok=True)
            location = self.file_location(asset_id, name, version)
            self.save(location, destination, counted, sha256=item.get("sha256"))
            return name if item.get("sha256") else None

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            return [name for name in pool.map(fetch, listed) if name is not None]

    def extract(
        self,
        location: str,
        asset: dict[str, Any],
        destination: Path,
        progress: Progress = _nothing,
        on_total: Callable[[int | None], None] = lambda _: None,
    ) -> list[str]:
        """Stream the asset's ZIP from ``location`` straight into ``destination``: each member
        unzipped as it arrives (its CRC-32 and size checked by stream-unzip) and written with
        its sha256 checked against the asset's, in one pass, without a copy of the ZIP on
        disk; the checked paths. ``VerificationError`` names a bad file."""
        from stream_unzip import UnzipError, stream_unzip

        expected = _expected_digests(asset)
        checked: list[str] = []
        try:
            with self._zip_chunks(location, on_total) as chunks:

                def counted() -> Iterator[bytes]:
                    for chunk in chunks:
                        progress(len(chunk))
                        yield chunk

                for raw_name, _, members in stream_unzip(counted(), chunk_size=CHUNK):
                    name = raw_name.decode("utf-8", "replace")
                    _extract_member(name, members, destination, expected, checked)
        except UnzipError as exc:
            raise VerificationError(f"the downloaded ZIP is corrupt: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise NetworkError(f"the download stopped before its end ({exc}); try again") from exc
        missing = sorted(str(path) for path in set(expected) - set(checked))
        if missing:
            raise VerificationError(f"missing from the download: {', '.join(missing)}")
        return checked

    @contextmanager
    def _zip_chunks(
        self, location: str, on_total: Callable[[int | None], None]
    ) -> Iterator[Iterator[bytes]]:
        """The ZIP's bytes in order: from the object store by ranged GETs, ``RANGES`` at once
        (one stream is slower than the store), else (the service's stream) as they come."""
        if self._ours(location):
            with self.http.stream("GET", location, follow_redirects=True, timeout=None) as got:
                if got.status_code >= 400:
                    got.read()
                    _raise_for(got)
                length = got.headers.get("content-length")
                on_total(int(length) if length else None)
                yield got.iter_bytes(CHUNK)
            return
        with ThreadPoolExecutor(max_workers=RANGES) as pool:
            yield self._ranges(location, pool, on_total)

    def _ranges(
        self, url: str, pool: ThreadPoolExecutor, on_total: Callable[[int | None], None]
    ) -> Iterator[bytes]:
        def fetch(start: int, end: int) -> bytes:
            answer = self.storage.get(url, headers={"Range": f"bytes={start}-{end - 1}"})
            if answer.status_code >= 400:
                _raise_for(answer)
            return answer.content

        first = self.storage.get(url, headers={"Range": f"bytes=0-{RANGE_BYTES - 1}"})
        if first.status_code >= 400:
            _raise_for(first)
        total = int(first.headers.get("content-range", "/0").rsplit("/", 1)[-1] or 0)
        if first.status_code != 206:  # no ranges here: the body is the whole object
            total = len(first.content)
        on_total(total)
        yield first.content
        window: deque[Future[bytes]] = deque()
        for start in range(len(first.content), total, RANGE_BYTES):
            window.append(pool.submit(fetch, start, min(total, start + RANGE_BYTES)))
            if len(window) > RANGES:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()

    def verify(
        self, archive: Path, asset: dict[str, Any], extract_to: Path | None = None
    ) -> list[str]:
        """Check every stored file in a downloaded ZIP against the asset's sha256 values
        (extracting it when asked); the checked paths. ``VerificationError`` names a bad one."""
        expected = _expected_digests(asset)
        checked = []
        with zipfile.ZipFile(archive) as zipped:
            for info in zipped.infolist():
                reason = unsafe_member_name(info.filename)
                if reason:
                    raise VerificationError(f"refusing member '{info.filename}': {reason}")
                if info.is_dir():
                    continue
                try:
                    digest = _member_digest(zipped, info, extract_to)
                except zipfile.BadZipFile as exc:
                    raise VerificationError(f"{info.filename} is corrupt: {exc}") from exc
                if info.filename in expected:
                    if digest != expected[info.filename]:
                        raise VerificationError(
                            f"{info.filename} does not match its stored sha256 "
                            f"(expected {expected[info.filename]}, got {digest})"
                        )
                    checked.append(info.filename)
        missing = sorted(str(path) for path in set(expected) - set(checked))
        if missing:
            raise VerificationError(f"missing from the download: {', '.join(missing)}")
        return checked

    # -- Assets DB ---------------------------------------------------------------------------

    def db_upload(
        self,
        path: Path,
        metadata: dict[str, Any],
        direct_limit: int = 5 * 1024 * 1024,
        progress: Progress = _nothing,
        parallel: int = 4,
    ) -> dict[str, Any]:
        size = path.stat().st_size
        if size > parts.MULTIPART_THRESHOLD:
            record = self._upload_in_parts(
                "/assetdb/upload_asset",
                {"filename": path.name, "size": size, "asset_metadata": metadata},
                path,
                parallel=parallel,
                part_size=parts.part_size_for(size),
                progress=progress,
                on_session=lambda _: None,
            )
            record.pop("upload", None)
            return record
        if size <= direct_limit:
            with path.open("rb") as handle:
                files = {"asset": (path.name, handle)}
                result: dict[str, Any] = self._json(
                    "POST",
                    "/assetdb/upload_asset",
                    files=files,
                    data={"asset_metadata": json.dumps(metadata)},
                )
            progress(size)
            return result
        ticket = self._json(
            "POST",
            "/assetdb/upload_asset",
            json={
                "filename": path.name,
                "size": size,
                "asset_metadata": metadata,
                "multipart": False,  # whatever the service's own threshold
            },
        )
        upload = ticket.pop("upload")
        self._post_to_storage(upload, path.name, _file_chunks(path), size, progress)
        return dict(ticket)

    def db_get(self, uri: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json("GET", f"/assetdb/asset/{_quote(uri)}")
        return result

    def db_object(self, asset_id: str, destination: Path) -> Path:
        """Download an Assets DB asset's file."""
        return self.save(f"/assetdb/asset-object/{asset_id}", destination)

    def db_query(self, filters: dict[str, Any]) -> Iterator[dict[str, Any]]:
        return self.pages("/assetdb/assets", filters)

    # -- Component registry -------------------------------------------------------------------

    def component_register(self, component: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._json(
            "POST", "/components/api/registerComponent", json=component
        )
        return result

    def component_get(self, uri: str) -> dict[str, Any]:
        import re

        for item in self.pages("/components/api/getByURI", {"uriString": f"^{re.escape(uri)}$"}):
            if item.get("componentURI") == uri:
                return item
        raise ApiError(404, "COMPONENT_NOT_FOUND", f"No component has componentURI '{uri}'.")

    def component_query(self, filters: dict[str, Any]) -> Iterator[dict[str, Any]]:
        return self.pages("/components/api/query", {"query": filters})


def _version(version: str | None) -> dict[str, str]:
    """The ``version`` query parameter, when one is named."""
    return {} if version is None else {"version": version}


def split_ref(ref: str) -> tuple[str, str | None]:
    """``ID@VERSION`` (a version or an alias) as (asset_id, version); a plain ``ID`` names
    the current version. An asset_id may hold '@' itself: the version follows the last one
    (name the current version of such an asset as ``ID@latest``)."""
    asset_id, at, version = ref.rpartition("@")
    if not at or not asset_id or not version:
        return ref, None
    return asset_id, version


def _quote(value: str) -> str:
    return quote(value, safe=":@")


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _expected_digests(asset: dict[str, Any]) -> dict[str, str]:
    """Each stored file's sha256, by its path in the asset."""
    found = {}
    for entry in asset.get("files") or []:
        metadata = entry.get("asset_file_metadata") or {}
        if metadata.get("sha256") and metadata.get("path"):
            found[str(metadata["path"])] = str(metadata["sha256"])
    return found


def _extract_member(
    name: str,
    chunks: Iterable[bytes],
    destination: Path,
    expected: dict[str, str],
    checked: list[str],
) -> None:
    """One member of a streamed ZIP written under ``destination`` (through a ``.part`` file)
    with its sha256 checked; a directory entry is only consumed."""
    reason = unsafe_member_name(name)
    if reason:
        raise VerificationError(f"refusing member '{name}': {reason}")
    if name.endswith("/"):
        for _ in chunks:
            pass
        return
    target = destination.joinpath(*name.split("/"))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    with partial.open("wb") as out:
        digest = _copied_sha256(chunks, out)
    if name in expected and digest != expected[name]:
        partial.unlink(missing_ok=True)
        raise VerificationError(
            f"{name} does not match its stored sha256 (expected {expected[name]}, got {digest})"
        )
    partial.replace(target)
    if name in expected:
        checked.append(name)


def _copied_sha256(chunks: Iterable[bytes], out: BinaryIO | None) -> str:
    """The chunks' SHA-256 (hex), written to ``out`` on the way when one is given."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
        if out is not None:
            out.write(chunk)
    return digest.hexdigest()


def _member_digest(zipped: zipfile.ZipFile, info: zipfile.ZipInfo, extract_to: Path | None) -> str:
    target: BinaryIO | None = None
    if extract_to is not None:
        destination = extract_to.joinpath(*info.filename.split("/"))
        destination.parent.mkdir(parents=True, exist_ok=True)
        target = destination.open("wb")
    try:
        with zipped.open(info) as member:
            return _copied_sha256(iter(lambda: member.read(CHUNK), b""), target)
    finally:
        if target is not None:
            target.close()


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "HTTP_ERROR", response.text[:300] or response.reason_phrase
    raise ApiError(response.status_code, code, message)


__all__ = [
    "ApiError",
    "AssetsClient",
    "BadResponse",
    "NetworkError",
    "UploadFailed",
    "VerificationError",
]
