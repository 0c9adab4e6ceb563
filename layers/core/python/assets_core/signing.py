"""Download links: signed with an HMAC key shared by the API that issues them and the
download function that checks them, valid for a short time, and bound to the asset and the
manifest (what the stream holds) written for the caller who was allowed to read it."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlencode

from assets_core.config import get_settings
from assets_core.errors import Forbidden

# What _signature makes: a SHA-256 HMAC in lower-case hex.
TOKEN_FORMAT = re.compile(r"[0-9a-f]{64}")


@lru_cache(maxsize=1)
def signing_key() -> str:
    """Configured, or read from Secrets Manager (in AWS), else one per process (the local
    stack runs the API and the download handler in one process)."""
    settings = get_settings()
    if settings.download_signing_key:
        return settings.download_signing_key
    if settings.download_signing_key_secret_arn:
        from assets_core.stores.secrets import secret_string

        return secret_string(settings.download_signing_key_secret_arn)
    return secrets.token_hex(32)


class Link(NamedTuple):
    """What a checked download link names."""

    asset_id: str
    manifest: str  # the key of the manifest in the bucket


def _signature(asset_id: str, manifest: str, expires: int, key: str) -> str:
    # surrogatepass: an id no link was signed for (a lone surrogate) just fails to match.
    message = f"download\n{asset_id}\n{manifest}\n{expires}".encode("utf-8", "surrogatepass")
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def signed_link(
    base_url: str,
    asset_id: str,
    *,
    manifest: str,
    key: str,
    ttl_seconds: int,
    now: float | None = None,
) -> str:
    """The download endpoint's URL for the manifest written for one download of an asset,
    valid for ``ttl_seconds``."""
    expires = int((now if now is not None else time.time()) + ttl_seconds)
    token = _signature(asset_id, manifest, expires, key)
    query = urlencode(
        {"asset_id": asset_id, "manifest": manifest, "expires": expires, "token": token}
    )
    return f"{base_url}?{query}"


def check_link(params: dict[str, str], *, key: str, now: float | None = None) -> Link:
    """The asset and manifest a download link names, once its token and expiry check out."""
    asset_id = params.get("asset_id") or ""
    manifest = params.get("manifest") or ""
    token = params.get("token") or ""
    try:
        expires = int(params.get("expires") or "")
    except ValueError:
        raise Forbidden(
            "The download link is incomplete; ask for a new one.", code="DOWNLOAD_TOKEN_INVALID"
        ) from None
    if not asset_id or not token:
        raise Forbidden(
            "The download link is incomplete; ask for a new one.", code="DOWNLOAD_TOKEN_INVALID"
        )
    # Checked first: compare_digest refuses a token that is not ASCII (TypeError).
    if not TOKEN_FORMAT.fullmatch(token) or not hmac.compare_digest(
        token, _signature(asset_id, manifest, expires, key)
    ):
        raise Forbidden(
            "The download link's signature is not valid.", code="DOWNLOAD_TOKEN_INVALID"
        )
    if expires < (now if now is not None else time.time()):
        raise Forbidden(
            "The download link has expired; request the download again.",
            code="DOWNLOAD_TOKEN_EXPIRED",
        )
    return Link(asset_id, manifest)
