"""Spec 001's documents: the Assets DB's ``AssetObject`` and the registry's ``AssetsDBRegistry``."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from assets_core.identity import Visibility
from assets_core.models.sessions import SessionOptions

# Parts of an asset_uri (<name>:<version>-<tag>) appear in URL paths: no slashes, no colons.
UriPart = Annotated[str, StringConstraints(max_length=256, pattern=r"^[^/:\x00]*$")]


def _no_dash(value: str) -> str:
    if "-" in value:
        raise ValueError(
            "may not contain '-': it separates version and tag in asset_uri "
            "(<name>:<version>-<tag>), so that every record has one URI"
        )
    return value


# The tag ends the URI after its last '-', so a version may hold '-' and a tag may not.
TagPart = Annotated[UriPart, AfterValidator(_no_dash)]
Url = Annotated[str, StringConstraints(max_length=2048)]
# Written by the server only: a record's identity, and its stored file (a client that could
# set asset_file_info could name another record's object, read its bytes and delete them).
SYSTEM_FIELDS = ("asset_id", "asset_uri", "assets_db_id", "asset_file_info")


def _http_url(value: str) -> str:
    """An absolute http(s) URL with a host and a valid port, and no control characters or
    spaces: the URL goes into a Location header (a CR LF would start a header of its own)
    and is fetched by health checks (a port past 65535 would fail only then)."""
    if not value:
        return value
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        raise ValueError("must not hold spaces or control characters")
    if not value.lower().startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    parts = urlsplit(value)
    try:
        port = parts.port  # urlsplit checks the port's range when it is read
    except ValueError as exc:
        raise ValueError("has an invalid port (1-65535)") from exc
    if port == 0:
        raise ValueError("has an invalid port (1-65535)")
    if not parts.hostname:
        raise ValueError("must name a host")
    return value


def _optional_http_url(value: str | None) -> str | None:
    return value if value is None else _http_url(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class AssetVersion(_Strict):
    version: UriPart = ""
    tag: TagPart = ""


class AssetObjectFields(_Strict):
    """What a client sets on an AssetObject; the id, URI, DB id and stored file are the
    system's."""

    asset_name: UriPart = ""
    asset_version: AssetVersion = Field(default_factory=AssetVersion)
    asset_metadata: dict[str, Any] = Field(default_factory=dict)
    asset_tags: list[Annotated[str, StringConstraints(max_length=1024)]] = Field(
        default_factory=list
    )
    asset_public_url: Url = ""
    # private: its owner and admins only; public: every reader. Unset: DEFAULT_VISIBILITY.
    visibility: Visibility | None = None

    _url = field_validator("asset_public_url")(_http_url)


class AssetObjectUpdate(_Strict):
    """A partial update of an AssetObject: the fields sent replace the stored ones."""

    asset_name: UriPart | None = None
    asset_version: AssetVersion | None = None
    asset_metadata: dict[str, Any] | None = None
    asset_tags: list[Annotated[str, StringConstraints(max_length=1024)]] | None = None
    asset_public_url: Url | None = None
    visibility: Visibility | None = None

    _url = field_validator("asset_public_url")(_optional_http_url)


class PresignedAssetRequest(SessionOptions):
    """A large file's upload: the file is sent to the object store, the record completes
    when it arrives."""

    filename: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    size: int = Field(ge=1)
    content_type: str = Field(default="application/octet-stream", max_length=256)
    asset_metadata: AssetObjectFields = Field(default_factory=AssetObjectFields)
    sha256: str | None = Field(
        default=None,
        pattern="^[0-9a-f]{64}$",
        description="The file's SHA-256 (hex): the object store refuses any other bytes",
    )


def asset_uri(name: str, version: str, tag: str) -> str:
    """``<name>:<version>-<tag>`` when all three are present, else empty."""
    return f"{name}:{version}-{tag}" if name and version and tag else ""


class AssetsDBRegistryFields(_Strict):
    asset_registry_name: Annotated[str, StringConstraints(max_length=1024)] = ""
    asset_registry_metadata: dict[str, Any] = Field(default_factory=dict)
    asset_registry_tags: list[Annotated[str, StringConstraints(max_length=1024)]] = Field(
        default_factory=list
    )
    asset_registry_public_url: Url = ""

    _url = field_validator("asset_registry_public_url")(_http_url)


class AssetsDBRegistryUpdate(_Strict):
    asset_registry_name: Annotated[str, StringConstraints(max_length=1024)] | None = None
    asset_registry_metadata: dict[str, Any] | None = None
    asset_registry_tags: list[Annotated[str, StringConstraints(max_length=1024)]] | None = None
    asset_registry_public_url: Url | None = None

    _url = field_validator("asset_registry_public_url")(
        lambda value: _http_url(value or "") or value
    )
