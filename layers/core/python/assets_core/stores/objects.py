"""The object store: a small interface, and the S3 adapter behind it (one client per process)."""

from __future__ import annotations

import base64
import contextlib
import logging
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from assets_core.config import get_settings
from assets_core.errors import NotFound, ObjectRefused, StoreUnavailable
from assets_core.keys import content_disposition, stored_url
from assets_core.ports import (  # noqa: F401
    MAX_KEY_BYTES,
    ObjectHead,
    ObjectStore,
    Part,
    PresignedPost,
    PresignedPut,
    StoredPart,
)

logger = logging.getLogger(__name__)


# 4xx answers that are not the request's fault: the same request can succeed later.
_TRANSIENT_CODES = frozenset(
    {
        # throttling (botocore's standard retry mode treats these as such)
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        # a request cut short or damaged on the way, or crossing another one
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        "IncompleteBody",
        "BadDigest",
        "OperationAborted",
        # credentials, which the process renews
        "ExpiredToken",
        "ExpiredTokenException",
        "TokenRefreshRequired",
        "InvalidToken",
        "RequestTimeTooSkewed",
    }
)
# 403 (access), 404 (not found, or a missing bucket), 408 (timeout), 409 (conflict), 429.
_TRANSIENT_STATUSES = frozenset({403, 404, 408, 409, 429})


def is_request_fault(exc: ClientError) -> bool:
    """Whether S3's answer blames the request itself: a 4xx that is not about access,
    existence, throttling, timing or credentials."""
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = exc.response.get("Error", {}).get("Code", "")
    return (
        isinstance(status, int)
        and 400 <= status < 500
        and status not in _TRANSIENT_STATUSES
        and code not in _TRANSIENT_CODES
    )


def crc32_header(crc: int) -> str:
    """A CRC32 as S3's checksum headers carry it: base64 of the 4 big-endian bytes."""
    return base64.b64encode(crc.to_bytes(4, "big")).decode()


def _hex_of(header: str) -> str | None:
    """A base64 checksum header as hex (None when it is not one)."""
    try:
        return base64.b64decode(header, validate=True).hex()
    except (ValueError, TypeError):
        return None


def crc32_of_header(value: str) -> int:
    return int.from_bytes(base64.b64decode(value), "big")


# An upload session's checksum algorithm, as the API names it -> S3's name. A CRC32 session
# is of the FULL_OBJECT type (S3 combines the parts' CRC32s into the whole object's, and
# checks a declared one on completion); a SHA-256 session is COMPOSITE (each part checked).
SESSION_ALGORITHMS = {"crc32": "CRC32", "sha256": "SHA256"}


def _checksum_field(algorithm: str) -> str:
    """The request and answer field of a checksum: ``ChecksumCRC32``, ``ChecksumSHA256``."""
    return "Checksum" + SESSION_ALGORITHMS[algorithm]


def _base64_of_hex(value: str) -> str:
    return base64.b64encode(bytes.fromhex(value)).decode()


class S3ObjectStore:
    """An ``ObjectStore`` on one S3 bucket (or an S3-compatible endpoint)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def _call(self, action: str, key: str, **kwargs: Any) -> Any:
        """One S3 request; its errors as domain errors."""
        return self._request(action, key, frozenset(), kwargs)

    def _request(
        self, action: str, key: str, refusals: frozenset[str], kwargs: dict[str, Any]
    ) -> Any:
        """``refusals``: codes that name the request's fault here although they may be
        transient elsewhere (``BadDigest`` of a whole object)."""
        try:
            return getattr(self.client, action)(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NotFound"):
                raise NotFound(f"No stored object '{key}'.", code="OBJECT_NOT_FOUND") from exc
            if code == "NoSuchUpload":
                raise NotFound(
                    f"No unfinished upload of '{key}' (it was completed, aborted or expired).",
                    code="NO_SUCH_UPLOAD",
                ) from exc
            if is_request_fault(exc) or code in refusals:
                detail = exc.response.get("Error", {}).get("Message", "")
                reason = f"{code} ({detail})" if detail else code
                raise ObjectRefused(
                    f"The object store refused {action} on '{key}': {reason}.",
                    key=key,
                    reason=reason,
                ) from exc
            raise StoreUnavailable(
                f"The object store refused {action} on '{key}': {code}."
            ) from exc
        except BotoCoreError as exc:
            # botocore's text names the endpoint: it goes to the log, not the client.
            logger.exception("The object store failed on %s %s", action, key)
            raise StoreUnavailable("The object store did not answer; try again.") from exc

    def url_of(self, key: str) -> str:
        """The stored object's URL as recorded in metadata: ``s3://bucket/key``."""
        return stored_url(self.bucket, key)

    def key_of(self, url: str) -> str | None:
        """The key of a URL in this bucket, or None for anything else."""
        prefix = stored_url(self.bucket)
        return url[len(prefix) :] if url.startswith(prefix) else None

    def presigned_post(
        self, key: str, *, max_bytes: int, expires_in: int, size: int | None = None
    ) -> PresignedPost:
        """A browser-style POST upload of one object of at most ``max_bytes``, or of exactly
        ``size`` bytes when the client declared its size: the store refuses any other body."""
        low, high = (size, size) if size is not None else (1, max_bytes)
        if not 1 <= low <= high <= max_bytes:
            raise ValueError(f"Cannot sign an upload of {size} bytes (at most {max_bytes}).")
        try:
            post = self.client.generate_presigned_post(
                Bucket=self.bucket,
                Key=key,
                Conditions=[["content-length-range", low, high]],
                ExpiresIn=expires_in,
            )
        except (ClientError, BotoCoreError) as exc:
            logger.exception("Signing an upload of %s failed", key)
            raise StoreUnavailable("Could not sign the upload; try again.") from exc
        return PresignedPost(url=post["url"], fields=dict(post["fields"]))

    def _signed(self, action: str, params: dict[str, Any], expires_in: int) -> str:
        """A presigned URL of ``action`` on this bucket (signing reads no network, but a
        credential provider may fail)."""
        try:
            url: str = self.client.generate_presigned_url(
                action, Params={"Bucket": self.bucket, **params}, ExpiresIn=expires_in
            )
        except (ClientError, BotoCoreError) as exc:
            logger.exception("Signing %s of %s failed", action, params.get("Key"))
            raise StoreUnavailable("Could not sign the upload; try again.") from exc
        return url

    def presigned_put(self, key: str, *, size: int, sha256: str, expires_in: int) -> PresignedPut:
        """A PUT of exactly ``size`` bytes whose SHA-256 (hex) is ``sha256``: both are signed
        headers (a request without them, or with others, is refused), and S3 computes the
        body's checksum and refuses one that does not match (``BadDigest``). AWS documents
        checksums on presigned PUTs (as signed headers), not on POST forms."""
        checksum = _base64_of_hex(sha256)
        params = {"Key": key, "ContentLength": size, "ChecksumSHA256": checksum}
        url = self._signed("put_object", params, expires_in)
        return PresignedPut(
            url=url,
            headers={"Content-Length": str(size), "x-amz-checksum-sha256": checksum},
        )

    def start_session(self, key: str, content_type: str, algorithm: str) -> str:
        """A multipart upload that a client sends the parts of, each part checked by the
        store against the checksum (``crc32`` or ``sha256``) its URL was signed with."""
        kind = "FULL_OBJECT" if algorithm == "crc32" else "COMPOSITE"
        answer = self._call(
            "create_multipart_upload",
            key,
            Key=key,
            ContentType=content_type,
            ChecksumAlgorithm=SESSION_ALGORITHMS[algorithm],
            ChecksumType=kind,
        )
        return str(answer["UploadId"])

    def presigned_part(
        self,
        key: str,
        upload_id: str,
        number: int,
        *,
        size: int,
        algorithm: str,
        checksum: str,
        expires_in: int,
    ) -> PresignedPut:
        """An UploadPart of exactly ``size`` bytes whose checksum (hex) is ``checksum``: both
        are signed headers, and the store refuses a body that does not match (``BadDigest``)."""
        value = _base64_of_hex(checksum)
        params = {
            "Key": key,
            "UploadId": upload_id,
            "PartNumber": number,
            "ContentLength": size,
            _checksum_field(algorithm): value,
        }
        url = self._signed("upload_part", params, expires_in)
        return PresignedPut(
            url=url,
            headers={"Content-Length": str(size), f"x-amz-checksum-{algorithm}": value},
        )

    def list_parts(self, key: str, upload_id: str, algorithm: str) -> list[StoredPart]:
        """Every part the store holds of an unfinished upload, in order (``NotFound`` when
        the upload was completed, aborted or expired)."""
        field = _checksum_field(algorithm)
        parts: list[StoredPart] = []
        marker: dict[str, int] = {}
        while True:
            page = self._call("list_parts", key, Key=key, UploadId=upload_id, **marker)
            for part in page.get("Parts", []):
                checksum = _hex_of(str(part.get(field) or "")) or ""
                parts.append(
                    StoredPart(
                        int(part["PartNumber"]), str(part["ETag"]), int(part["Size"]), checksum
                    )
                )
            if not page.get("IsTruncated"):
                return parts
            marker = {"PartNumberMarker": int(page["NextPartNumberMarker"])}

    def complete_session(
        self,
        key: str,
        upload_id: str,
        parts: Sequence[StoredPart],
        algorithm: str,
        whole_crc32: str | None = None,
    ) -> None:
        """Assemble a session's parts; with ``whole_crc32`` (hex) the store checks the whole
        object's CRC32 too, and refuses to assemble another (``BadDigest``)."""
        field = _checksum_field(algorithm)
        listed = [
            {"ETag": part.etag, "PartNumber": part.number, field: _base64_of_hex(part.checksum)}
            for part in parts
        ]
        whole: dict[str, str] = {}
        if whole_crc32 is not None and algorithm == "crc32":
            whole = {"ChecksumCRC32": _base64_of_hex(whole_crc32), "ChecksumType": "FULL_OBJECT"}
        self._request(
            "complete_multipart_upload",
            key,
            frozenset({"BadDigest", "InvalidPart", "InvalidPartOrder"}),
            {"Key": key, "UploadId": upload_id, "MultipartUpload": {"Parts": listed}, **whole},
        )

    def presigned_get(
        self,
        key: str,
        *,
        expires_in: int,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str:
        """A short-lived GET of the object; S3 answers it with the file's name (as an
        attachment) and content type when they are given."""
        params: dict[str, str] = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        if content_type:
            params["ResponseContentType"] = content_type
        url: str = self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expires_in
        )
        return url

    def put(self, key: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        self._call("put_object", key, Key=key, Body=body, ContentType=content_type)

    def size(self, key: str) -> int | None:
        """The object's size in bytes, or None when there is no such object."""
        try:
            head = self._call("head_object", key, Key=key)
        except NotFound:
            return None
        return int(head["ContentLength"])

    def head(self, key: str) -> ObjectHead | None:
        """The object's size, time, type and whole-object CRC-32 (None: no such object)."""
        try:
            head = self._call("head_object", key, Key=key, ChecksumMode="ENABLED")
        except NotFound:
            return None
        checksum = head.get("ChecksumCRC32")
        whole = head.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT" and "-" not in str(
            checksum or "-"
        )
        sha256 = head.get("ChecksumSHA256")
        return ObjectHead(
            size=int(head["ContentLength"]),
            last_modified=head["LastModified"],
            content_type=str(head.get("ContentType") or "application/octet-stream"),
            crc32=crc32_of_header(checksum) if checksum and whole else None,
            sha256=_hex_of(sha256) if sha256 and "-" not in str(sha256) else None,
        )

    def get(self, key: str, max_bytes: int) -> bytes | None:
        """A small object's bytes (None: no such object); one past ``max_bytes`` is refused
        unread."""
        try:
            answer = self._call("get_object", key, Key=key)
        except NotFound:
            return None
        if int(answer.get("ContentLength") or 0) > max_bytes:
            answer["Body"].close()
            raise ObjectRefused(
                f"'{key}' is larger than {max_bytes} bytes.", key=key, reason="too large"
            )
        data: bytes = answer["Body"].read()
        return data

    def put_new(
        self, key: str, body: bytes, content_type: str = "application/octet-stream"
    ) -> bool:
        """Write the object only when no object has its key (a conditional write): whether
        this call wrote it."""
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, IfNoneMatch="*"
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise StoreUnavailable(f"The object store refused a write of '{key}': {code}.") from exc
        except BotoCoreError as exc:
            logger.exception("The object store failed on put_object %s", key)
            raise StoreUnavailable("The object store did not answer; try again.") from exc
        return True

    def read_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` (exclusive)."""
        if end <= start:
            return b""
        answer = self._call("get_object", key, Key=key, Range=f"bytes={start}-{end - 1}")
        data: bytes = answer["Body"].read()
        return data

    def stream_range(
        self, key: str, start: int, end: int, chunk: int = 1024 * 1024
    ) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive) in chunks, from one GET."""
        if end <= start:
            return
        answer = self._call("get_object", key, Key=key, Range=f"bytes={start}-{end - 1}")
        body = answer["Body"]
        try:
            yield from body.iter_chunks(chunk)
        except BotoCoreError as exc:
            logger.exception("Reading %s failed", key)
            raise StoreUnavailable(f"Reading '{key}' failed; try again.") from exc
        finally:
            body.close()

    def start_multipart(self, key: str, content_type: str) -> str:
        """A multipart upload whose parts each carry a CRC32 that the store checks: a part
        damaged on the way is refused, and completing names every part's CRC32, so the
        object is assembled from exactly the bytes this process read."""
        answer = self._call(
            "create_multipart_upload",
            key,
            Key=key,
            ContentType=content_type,
            ChecksumAlgorithm="CRC32",
        )
        return str(answer["UploadId"])

    def upload_part(self, key: str, upload_id: str, number: int, body: bytes) -> Part:
        crc = zlib.crc32(body)
        answer = self._call(
            "upload_part",
            key,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            Body=body,
            ChecksumCRC32=crc32_header(crc),
        )
        return Part(str(answer["ETag"]), crc)

    def copy_part(
        self, key: str, upload_id: str, number: int, source_key: str, start: int, end: int
    ) -> str:
        """Copy bytes ``start`` to ``end`` (exclusive) of another object into a part,
        server-side: no bytes pass through this process."""
        return str(self._copy_part(key, upload_id, number, source_key, start, end)["ETag"])

    def _copy_part(
        self, key: str, upload_id: str, number: int, source_key: str, start: int, end: int
    ) -> dict[str, Any]:
        answer = self._call(
            "upload_part_copy",
            key,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            CopySource={"Bucket": self.bucket, "Key": source_key},
            CopySourceRange=f"bytes={start}-{end - 1}",
        )
        result: dict[str, Any] = answer["CopyPartResult"]
        return result

    def copy_part_checked(
        self, key: str, upload_id: str, number: int, source_key: str, start: int, end: int
    ) -> Part:
        """A server-side part copy, with the CRC32 the store computed of the bytes it copied
        (the upload must have been started with a checksum, as ``start_multipart`` does)."""
        result = self._copy_part(key, upload_id, number, source_key, start, end)
        checksum = result.get("ChecksumCRC32")
        if not checksum:
            raise StoreUnavailable(f"The object store gave no CRC32 of the copy into '{key}'.")
        return Part(str(result["ETag"]), crc32_of_header(checksum))

    def complete_multipart(self, key: str, upload_id: str, parts: list[Part]) -> None:
        """Assemble the parts in order; each part's CRC32 must match what the store holds."""
        listed = [
            {"ETag": part.etag, "PartNumber": n, "ChecksumCRC32": crc32_header(part.crc32)}
            for n, part in enumerate(parts, start=1)
        ]
        self._call(
            "complete_multipart_upload",
            key,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": listed},
        )

    def abort_multipart(self, key: str, upload_id: str) -> None:
        # Best effort: the bucket's lifecycle rule aborts whatever is left.
        with contextlib.suppress(NotFound, ObjectRefused, StoreUnavailable):
            self._call("abort_multipart_upload", key, Key=key, UploadId=upload_id)

    def _listing(self, prefix: str, **options: str) -> Iterator[dict[str, Any]]:
        """Every page of ``list_objects_v2`` under ``prefix``, following its continuation."""
        token: dict[str, str] = {}
        while True:
            page: dict[str, Any] = self._call(
                "list_objects_v2", prefix, Prefix=prefix, **options, **token
            )
            yield page
            if not page.get("IsTruncated"):
                return
            token = {"ContinuationToken": page["NextContinuationToken"]}

    def delete_prefix(
        self, prefix: str, keep: Callable[[list[str]], set[str]] | None = None
    ) -> int:
        """Delete every object under a prefix, less those ``keep`` names of each page
        (content another record still holds); how many were deleted."""
        deleted = 0
        for page in self._listing(prefix):
            keys = [item["Key"] for item in page.get("Contents", [])]
            if keys and keep is not None:
                kept = keep(keys)
                keys = [key for key in keys if key not in kept]
            if keys:
                self.delete(keys)
                deleted += len(keys)
        return deleted

    def child_prefixes(self, prefix: str) -> Iterator[str]:
        """The "folders" one level below ``prefix`` (which ends in '/'), each ending in '/'."""
        for page in self._listing(prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                yield str(common["Prefix"])

    def last_modified(self, prefix: str) -> datetime | None:
        """When the newest object under ``prefix`` was written; None when there is none."""
        stamps = (
            item["LastModified"]
            for page in self._listing(prefix)
            for item in page.get("Contents", [])
        )
        return max(stamps, default=None)

    def abort_uploads_under(self, prefix: str) -> int:
        """Abort every unfinished multipart upload of a key under ``prefix`` (their parts
        are stored, and billed, until then); how many."""
        aborted = 0
        markers: dict[str, str] = {}
        while True:
            page = self._call("list_multipart_uploads", prefix, Prefix=prefix, **markers)
            for upload in page.get("Uploads", []):
                self.abort_multipart(upload["Key"], upload["UploadId"])
                aborted += 1
            if not page.get("IsTruncated"):
                return aborted
            markers = {
                "KeyMarker": page["NextKeyMarker"],
                "UploadIdMarker": page["NextUploadIdMarker"],
            }

    def delete(self, keys: Iterable[str]) -> None:
        batch = [{"Key": key} for key in keys]
        for start in range(0, len(batch), 1000):
            self._call(
                "delete_objects",
                "(batch)",
                Delete={"Objects": batch[start : start + 1000], "Quiet": True},
            )


@lru_cache(maxsize=1)
def s3_client() -> Any:
    """The process's one S3 client (``S3_ENDPOINT_URL`` for moto or another S3). botocore is
    used directly (it signs presigned POSTs itself): boto3 would add s3transfer, a good part of
    a cold start, for nothing these functions use."""
    settings = get_settings()
    return botocore.session.get_session().create_client(
        "s3",
        endpoint_url=settings.s3_endpoint_url or None,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if settings.s3_endpoint_url else "auto"},
            retries={"max_attempts": 5, "mode": "standard"},
            max_pool_connections=32,
        ),
    )


@lru_cache(maxsize=1)
def object_store() -> S3ObjectStore:
    return S3ObjectStore(s3_client(), get_settings().bucket_name)
