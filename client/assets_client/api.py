"""The HTTP client: one method per operation of the services, errors as exceptions."""

from __future__ import annotations

import json
import os
import time
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from assets_client.bundle import (
    CHUNK,
    scan_folder,
    unsafe_member_name,
    zip_folder,
    zipped_size,
)

DEFAULT_ENDPOINT = "http://127.0.0.1:3000"
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

    def close(self) -> None:
        self.http.close()

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

    def get(self, asset_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json("GET", f"/registry/assets/{asset_id}")
        return result

    def delete(self, asset_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._json("DELETE", f"/registry/assets/{asset_id}")
        return result

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
        self, path: Path, progress: Progress = _nothing, on_total: Callable[[int], None] = _nothing
    ) -> str:
        """Send a .zip, or a folder with asset.json zipped as it goes; the upload id."""
        if path.is_dir():
            entries = scan_folder(path)
            size = zipped_size(entries)
            content: Iterable[bytes] = zip_folder(entries)
            filename = f"{path.name or 'bundle'}.zip"
        else:
            size = path.stat().st_size
            content = _file_chunks(path)
            filename = path.name
        on_total(size)
        ticket = self._json(
            "POST", "/registry/zip/upload", json={"filename": filename, "size": size}
        )
        upload = ticket["upload"]
        self._post_to_storage(upload, filename, content, size, progress)
        return str(ticket["upload_id"])

    def _post_to_storage(
        self,
        upload: dict[str, Any],
        filename: str,
        content: Iterable[bytes],
        size: int,
        progress: Progress,
    ) -> None:
        """A multipart/form-data POST to the object store: every field first, the file last,
        streamed with an exact Content-Length."""
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
        try:
            # No overall time limit: a multi-GB upload takes as long as it takes; the connection
            # still has connect and read limits.
            timeout = httpx.Timeout(None, connect=30.0, read=300.0)
            answer = httpx.post(upload["url"], content=body(), headers=headers, timeout=timeout)
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
            if time.monotonic() > deadline:
                raise UploadFailed(f"still '{state}' after {timeout:.0f} seconds")
            time.sleep(interval)

    def download(
        self,
        asset_id: str,
        destination: Path,
        progress: Progress = _nothing,
        on_total: Callable[[int | None], None] = lambda _: None,
    ) -> Path:
        """Stream an asset's ZIP to ``destination`` (following the signed redirect)."""
        return self._save(f"/registry/zip/download/{asset_id}", destination, progress, on_total)

    def _save(
        self,
        path: str,
        destination: Path,
        progress: Progress = _nothing,
        on_total: Callable[[int | None], None] = lambda _: None,
    ) -> Path:
        """Stream a GET (redirects followed) to ``destination``, through a ``.part`` file so an
        interrupted transfer never leaves a file that looks complete."""
        try:
            with self.http.stream("GET", path, follow_redirects=True, timeout=None) as response:
                if response.status_code >= 400:
                    response.read()
                    _raise_for(response)
                length = response.headers.get("content-length")
                on_total(int(length) if length else None)
                partial = destination.with_name(destination.name + ".part")
                with partial.open("wb") as out:
                    for chunk in response.iter_bytes(CHUNK):
                        out.write(chunk)
                        progress(len(chunk))
                partial.replace(destination)
        except httpx.TransportError as exc:
            raise NetworkError(
                f"the download stopped before its end ({exc}); the service stops a download "
                "when a stored file fails its checksum, or the connection failed: try again"
            ) from exc
        return destination

    def verify(
        self, archive: Path, asset: dict[str, Any], extract_to: Path | None = None
    ) -> list[str]:
        """Check every stored file in a downloaded ZIP against the asset's sha256 values
        (extracting it when asked); the checked paths. ``VerificationError`` names a bad one."""
        expected = {
            (f.get("asset_file_metadata") or {}).get("path"): (
                f.get("asset_file_metadata") or {}
            ).get("sha256")
            for f in asset.get("files") or []
            if (f.get("asset_file_metadata") or {}).get("sha256")
        }
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
    ) -> dict[str, Any]:
        size = path.stat().st_size
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
        return self._save(f"/assetdb/asset-object/{asset_id}", destination)

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


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe=":@")


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _member_digest(zipped: zipfile.ZipFile, info: zipfile.ZipInfo, extract_to: Path | None) -> str:
    import hashlib

    digest = hashlib.sha256()
    target: BinaryIO | None = None
    if extract_to is not None:
        destination = extract_to.joinpath(*info.filename.split("/"))
        destination.parent.mkdir(parents=True, exist_ok=True)
        target = destination.open("wb")
    try:
        with zipped.open(info) as member:
            while chunk := member.read(CHUNK):
                digest.update(chunk)
                if target is not None:
                    target.write(chunk)
    finally:
        if target is not None:
            target.close()
    return digest.hexdigest()


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
