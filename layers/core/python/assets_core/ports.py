"""The ports: what logic needs of the document, object and status stores, as Protocols and
plain values, without a driver. Logic imports these; the adapters (``stores/documents.py``
on pymongo, ``stores/objects.py`` on botocore, ``stores/status.py`` on redis) implement
them, and a test proves that importing any logic module loads no driver."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from assets_core.pagination import Page, PageRequest

# -- documents ---------------------------------------------------------------------------

# Every stored document carries its revision here: 1 when inserted, one more at every write.
# Reads never return it (the API shows it as the ETag); a document stored before revisions
# existed counts as revision 0.
REVISION = "_rev"


@dataclass(frozen=True)
class Versioned:
    """A stored document and the revision it was read at."""

    document: dict[str, Any]
    revision: int

    @property
    def etag(self) -> str:
        return etag_of(self.revision)


def etag_of(revision: int) -> str:
    return f'"{revision}"'


@dataclass(frozen=True)
class Facet:
    """A field whose values are counted over the documents a query matches: ``path`` in
    dotted form, and the arrays on the way to it (``unwind``, outermost first) that are
    opened so each value inside counts once per document."""

    path: str
    unwind: tuple[str, ...] = ()


# For each facet, its most frequent values and how many documents hold each, most first.
type FacetCounts = dict[str, list[tuple[Any, int]]]


class DocumentStore(Protocol):
    """Documents keyed by one unique string field. Every write is atomic and bumps the
    document's revision; ``replace`` (and ``update`` given a revision) writes only over the
    revision the caller read, else ``RevisionConflict``."""

    key_field: str

    def insert(self, document: Mapping[str, Any]) -> None: ...
    def get(self, key: str) -> dict[str, Any] | None: ...
    def read(self, key: str) -> Versioned | None: ...
    def find_one(self, query: Mapping[str, Any]) -> dict[str, Any] | None: ...
    def read_one(self, query: Mapping[str, Any]) -> Versioned | None: ...
    def replace(self, key: str, document: Mapping[str, Any], *, revision: int) -> bool: ...
    def update(
        self, key: str, update: Mapping[str, Any], *, revision: int | None = None
    ) -> dict[str, Any] | None: ...
    def preview_update(
        self, document: Mapping[str, Any], update: Mapping[str, Any]
    ) -> dict[str, Any]: ...
    def delete(self, key: str, *, revision: int | None = None) -> bool: ...
    def find_page(self, query: Mapping[str, Any], page: PageRequest) -> Page: ...
    def count(self, query: Mapping[str, Any]) -> int: ...
    def facets(
        self, query: Mapping[str, Any], facets: Mapping[str, Facet], limit: int
    ) -> FacetCounts: ...
    def find(
        self,
        query: Mapping[str, Any],
        *,
        sort: Sequence[tuple[str, int]] = (),
        skip: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]: ...


# -- objects -----------------------------------------------------------------------------

MAX_KEY_BYTES = 1024  # S3's limit on an object key, in bytes of UTF-8


@dataclass(frozen=True)
class Part:
    """One part of a multipart upload as completing it needs: its ETag and its CRC32."""

    etag: str
    crc32: int


@dataclass(frozen=True)
class ObjectHead:
    """What a HEAD of a stored object tells: its size, when it was written, its content type
    and, when the store holds one for the whole object, its CRC-32."""

    size: int
    last_modified: datetime
    content_type: str
    crc32: int | None = None
    sha256: str | None = None  # hex, when the object was stored with its SHA-256 checked


@dataclass(frozen=True)
class PresignedPost:
    url: str
    fields: dict[str, str]


@dataclass(frozen=True)
class StoredPart:
    """A part of an upload session as the object store holds it: its number, ETag, size and
    checksum (hex, in the session's algorithm)."""

    number: int
    etag: str
    size: int
    checksum: str


@dataclass(frozen=True)
class PresignedPut:
    """A presigned PUT of exactly these bytes: the headers it must be sent with are signed
    (the size, and the SHA-256 the store checks the body against)."""

    url: str
    headers: dict[str, str]


class ObjectStore(Protocol):
    bucket: str

    def url_of(self, key: str) -> str: ...
    def key_of(self, url: str) -> str | None: ...
    def presigned_post(
        self, key: str, *, max_bytes: int, expires_in: int, size: int | None = None
    ) -> PresignedPost: ...
    def presigned_put(
        self, key: str, *, size: int, sha256: str, expires_in: int
    ) -> PresignedPut: ...
    def start_session(self, key: str, content_type: str, algorithm: str) -> str: ...
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
    ) -> PresignedPut: ...
    def list_parts(self, key: str, upload_id: str, algorithm: str) -> list[StoredPart]: ...
    def complete_session(
        self,
        key: str,
        upload_id: str,
        parts: Sequence[StoredPart],
        algorithm: str,
        whole_crc32: str | None = ...,
    ) -> None: ...
    def presigned_get(
        self,
        key: str,
        *,
        expires_in: int,
        filename: str | None = ...,
        content_type: str | None = ...,
    ) -> str: ...
    def put(self, key: str, body: bytes, content_type: str = ...) -> None: ...
    def size(self, key: str) -> int | None: ...
    def head(self, key: str) -> ObjectHead | None: ...
    def get(self, key: str, max_bytes: int) -> bytes | None: ...
    def put_new(self, key: str, body: bytes, content_type: str = ...) -> bool: ...
    def read_range(self, key: str, start: int, end: int) -> bytes: ...
    def stream_range(self, key: str, start: int, end: int, chunk: int = ...) -> Iterator[bytes]: ...
    def start_multipart(self, key: str, content_type: str) -> str: ...
    def upload_part(self, key: str, upload_id: str, number: int, body: bytes) -> Part: ...
    def copy_part(
        self, key: str, upload_id: str, number: int, source_key: str, start: int, end: int
    ) -> str: ...
    def copy_part_checked(
        self, key: str, upload_id: str, number: int, source_key: str, start: int, end: int
    ) -> Part: ...
    def complete_multipart(self, key: str, upload_id: str, parts: list[Part]) -> None: ...
    def abort_multipart(self, key: str, upload_id: str) -> None: ...
    def delete_prefix(
        self, prefix: str, keep: Callable[[list[str]], set[str]] | None = None
    ) -> int: ...
    def delete(self, keys: Iterable[str]) -> None: ...
    def child_prefixes(self, prefix: str) -> Iterator[str]: ...
    def last_modified(self, prefix: str) -> datetime | None: ...
    def abort_uploads_under(self, prefix: str) -> int: ...


# -- upload status -----------------------------------------------------------------------


class StatusStore(Protocol):
    def put(self, upload_id: str, record: dict[str, Any]) -> None: ...
    def get(self, upload_id: str) -> dict[str, Any] | None: ...
    def lock(self, upload_id: str, seconds: int) -> str | None: ...
    def renew(self, upload_id: str, token: str, seconds: int) -> bool: ...
    def unlock(self, upload_id: str, token: str) -> None: ...


@dataclass
class Stores:
    """What an upload's ingest (and its settling) works with."""

    objects: ObjectStore
    status: StatusStore
    documents: DocumentStore  # the assets, each as its current version
    versions: DocumentStore  # every version of every asset
    blobs: BlobStore  # content stored once
    vault: Vault | None = None  # where new assets' credentials go (None: in the document)
    trail: AuditTrail | None = None  # where each outcome's audit record goes
    lineage: Any = None  # the edges new versions declare (``logic.lineage.EdgeStore``)


# -- content stored once -----------------------------------------------------------------


class BlobStore(Protocol):
    """One record per distinct content (sha256): the object that holds it, its size, and
    the references (one per version holding it) that keep it. Every change is one atomic,
    idempotent write."""

    def reference(self, contents: Sequence[tuple[str, str, int]], ref: str) -> dict[str, str]: ...
    def release(self, sha256: str, ref: str) -> None: ...
    def collect(self, sha256: str) -> str | None: ...
    def get(self, sha256: str) -> dict[str, Any] | None: ...
    def get_many(self, sha256s: Iterable[str]) -> dict[str, dict[str, Any]]: ...
    def keys_in_use(self, keys: Iterable[str]) -> set[str]: ...
    def holding(self, ref: str) -> list[str]: ...
    def holds_under(self, prefix: str) -> bool: ...


# -- audit trail and change events --------------------------------------------------------


class AuditTrail(Protocol):
    """Where every write's audit record goes, in the write's own transaction, and from where
    it is published as an event (``logic/audit.py``)."""

    def atomically[T](self, work: Callable[[], T]) -> T: ...
    def step(self, stream: str) -> int: ...
    def write(
        self, stream: str, seq: int, record: Mapping[str, Any], source: str, detail_type: str
    ) -> None: ...
    def publish(
        self, streams: Iterable[str] | None = None, *, max_batches: int | None = None
    ) -> int: ...


class EventPublisher(Protocol):
    """An event bus (EventBridge): each entry's outcome, True when the bus took it."""

    def put(self, entries: Sequence[Mapping[str, Any]]) -> list[bool]: ...


# -- secrets -----------------------------------------------------------------------------


class Vault(Protocol):
    """Where container registry credentials are kept (Secrets Manager), by reference."""

    def put(self, asset_id: str, value: dict[str, Any]) -> str: ...
    def read(self, reference: str) -> dict[str, Any] | None: ...
    def delete(self, reference: str, *, at_once: bool = False) -> None: ...


# -- health probes -----------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeResult:
    healthy: bool
    status_code: int | None
    latency_ms: int
    error: str | None = None


class HealthProbe(Protocol):
    """Checks a URL over HTTP (``assets_core/probe.py``: safe against request forgery)."""

    def __call__(self, url: str) -> ProbeResult: ...
