"""Where things live in the bucket."""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import quote, unquote_plus

INCOMING_PREFIX = "incoming/"
ASSETS_PREFIX = "assets/"
ASSETDB_PREFIX = "assetdb/"  # Assets DB objects, uploaded straight to the bucket
# What a streamed download reads (written by the API that issues its link), short-lived.
MANIFEST_PREFIX = "downloads/"
# ZIPs of large assets, assembled server-side: <asset_id>/<revision>.zip, beside the build
# request that starts the builder (.build.json) and the reason of a failed build (.failed).
ARCHIVE_PREFIX = "archives/"
ARCHIVE_REQUEST_SUFFIX = ".build.json"
MANIFEST_KEY = re.compile(r"^downloads/[0-9a-f]{32}\.json$")
# Secrets Manager names of assets' container registry credentials (one secret per value).
CREDENTIALS_SECRET_PREFIX = "assets-registry/container-registry-credentials/"  # noqa: S105
# A bundle, or the marker of its ingest's next run (``.run-<n>.zip``: an empty object whose
# creation event starts the run that goes on from the last one's checkpoint).
UPLOAD_KEY = re.compile(
    r"^incoming/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"(\.run-[0-9]{1,4})?\.zip$"
)


def upload_key(upload_id: str) -> str:
    """Where an uploaded bundle is written: ``incoming/<upload_id>.zip``."""
    return f"{INCOMING_PREFIX}{upload_id}.zip"


RUN_MARKER_SUFFIX = ".run-*.zip"  # the markers' keys, as an IAM resource pattern


def next_run_key(upload_id: str, run: int) -> str:
    """The marker that starts run ``run`` of an upload's ingest: ``incoming/<id>.run-<n>.zip``
    (under the bundles' prefix and suffix, so the bucket notifies the ingest queue of it)."""
    return f"{INCOMING_PREFIX}{upload_id}.run-{run}.zip"


def members_prefix(asset_id: str, upload_id: str) -> str:
    """Where an upload's ingest stores the bundle's members: ``assets/<asset_id>/<upload_id>/``."""
    return f"{ASSETS_PREFIX}{asset_id}/{upload_id}/"


def manifest_key(name: str) -> str:
    """Where a streamed download's manifest is written: ``downloads/<hex>.json``."""
    return f"{MANIFEST_PREFIX}{name}.json"


def archive_key(asset_id: str, revision: int | str, suffix: str = ".zip") -> str:
    """The assembled ZIP of one revision of an asset (its current version's revision, or an
    earlier version's label: ``VersionRead.label``), or, by ``suffix``, its build request or
    failure."""
    return f"{ARCHIVE_PREFIX}{asset_id}/{revision}{suffix}"


def is_upload_id(value: str) -> bool:
    """Whether ``value`` is an upload id as the service makes them: a UUID in its canonical
    lower-case form."""
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def upload_id_of(key: str) -> str | None:
    found = UPLOAD_KEY.match(key)
    return found.group(1) if found else None


def s3_event_objects(body: str) -> list[tuple[str, str]]:
    """The (bucket, key) pairs of the ObjectCreated records in an SQS message's body (an S3
    event notification); keys arrive URL-encoded, as S3 sends them."""
    try:
        event = json.loads(body)
    except ValueError:
        return []
    found = []
    for item in event.get("Records", []) if isinstance(event, dict) else []:
        if not isinstance(item, dict) or not str(item.get("eventName", "")).startswith(
            "ObjectCreated"
        ):
            continue
        s3 = item.get("s3", {})
        found.append((s3.get("bucket", {}).get("name", ""), unquote_plus(s3["object"]["key"])))
    return found


def stored_url(bucket: str, key: str = "") -> str:
    """A stored object's URL as file entries record it (``s3://bucket/key``); with no key,
    the prefix of every such URL."""
    return f"s3://{bucket}/{key}"


def points_into(url: str, bucket_url: str) -> bool:
    """Whether a file entry's URL names an object under ``bucket_url`` (``stored_url(bucket)``),
    in any letter case: only uploads may write such an entry."""
    return url.lower().startswith(bucket_url.lower())


def content_disposition(filename: str) -> str:
    """``attachment`` naming ``filename`` for every client (RFC 6266): an ASCII fallback
    without quotes, backslashes or control characters, and the exact name, percent-encoded
    UTF-8, in ``filename*``."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    exact = quote(filename, safe="")
    if exact == fallback:
        return f'attachment; filename="{fallback}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}"
