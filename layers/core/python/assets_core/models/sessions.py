"""Upload sessions (the contract's "Large and verified uploads"): what a client sends to
open one, to have its parts signed and to complete it, and what it is answered."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MIB = 1024 * 1024
MAX_PARTS = 10_000  # S3's limit on the parts of one multipart upload
MIN_PART_BYTES = 5 * MIB  # every part but the last (S3's limit)
MAX_PART_BYTES = 5 * 1024 * MIB
MAX_SESSION_BYTES = 5 * 1024 * 1024 * MIB  # 5 TiB, S3's largest object
MAX_SIGNED_PER_REQUEST = 1000  # part URLs one answer carries (well under 6 MB)

Algorithm = Literal["crc32", "sha256"]
# A part's checksum in hex: 8 digits of CRC32 or 64 of SHA-256 (which one the session says).
CHECKSUM = "^([0-9a-f]{8}|[0-9a-f]{64})$"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class PartChecksum(_Request):
    """A part the client is about to send, with its checksum: its URL is signed for it."""

    part_number: int = Field(ge=1, le=MAX_PARTS)
    checksum: str = Field(
        pattern=CHECKSUM, description="The part's CRC32 (8 hex digits) or SHA-256 (64)"
    )


class SessionOptions(_Request):
    """What opening a session takes besides the upload's own fields."""

    multipart: bool | None = Field(
        default=None,
        description="true: an upload session whatever the size; false: one request (at most "
        "5 GiB); absent: a session past MULTIPART_THRESHOLD_BYTES",
    )
    checksum_algorithm: Algorithm = Field(
        default="crc32", description="What every part is checked by: crc32 or sha256"
    )
    crc32: str | None = Field(
        default=None,
        pattern="^[0-9a-f]{8}$",
        description="A session's whole-object CRC32 (8 hex digits): completing is refused "
        "unless the assembled object has it (crc32 sessions)",
    )
    part_size: int | None = Field(
        default=None,
        ge=MIN_PART_BYTES,
        le=MAX_PART_BYTES,
        description="Bytes per part but the last; the server picks one when absent",
    )
    parts: list[PartChecksum] = Field(
        default_factory=list,
        max_length=MAX_SIGNED_PER_REQUEST,
        description="Parts to sign at once (the others: POST parts_url as the upload goes)",
    )


class PartsRequest(_Request):
    parts: list[PartChecksum] = Field(min_length=1, max_length=MAX_SIGNED_PER_REQUEST)


class CompletedPart(_Request):
    part_number: int = Field(ge=1, le=MAX_PARTS)
    etag: str = Field(min_length=1, max_length=200, description="The ETag the store answered")
    checksum: str = Field(pattern=CHECKSUM)


class CompleteRequest(_Request):
    parts: list[CompletedPart] = Field(min_length=1, max_length=MAX_PARTS)


# -- answers -------------------------------------------------------------------------------


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class SignedPart(_Answer):
    part_number: int
    url: str
    headers: dict[str, str] = Field(description="Send the part with exactly these headers")
    expires_at: str


class SignedParts(_Answer):
    upload_id: str
    parts: list[SignedPart]


class ReceivedPart(_Answer):
    part_number: int
    etag: str
    size: int
    checksum: str = Field(description="Hex, in the session's algorithm")


class Session(_Answer):
    """An upload session as its client sees it."""

    method: Literal["multipart"]
    upload_id: str
    status: str = Field(
        description="uploading, completing, aborted, expired; after completing, the upload's "
        "status (queued, processing, success, 'failed: <reason>')"
    )
    size: int
    part_size: int
    part_count: int
    checksum_algorithm: Algorithm
    crc32: str | None = None
    expires_at: str
    session_url: str
    parts_url: str
    complete_url: str
    parts: list[SignedPart] | None = Field(
        default=None, description="When opened: the parts signed at once"
    )
    received: list[ReceivedPart] | None = Field(
        default=None, description="When read: the parts the store holds"
    )
    missing: list[int] | None = Field(
        default=None, description="When read: the part numbers not received yet"
    )
