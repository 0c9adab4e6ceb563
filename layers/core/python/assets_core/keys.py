"""Where things live in the bucket."""

from __future__ import annotations

import re

INCOMING_PREFIX = "incoming/"
ASSETS_PREFIX = "assets/"
ASSETDB_PREFIX = "assetdb/"  # Assets DB objects, uploaded straight to the bucket
UPLOAD_KEY = re.compile(
    r"^incoming/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.zip$"
)


def upload_key(upload_id: str) -> str:
    """Where an uploaded bundle is written: ``incoming/<upload_id>.zip``."""
    return f"{INCOMING_PREFIX}{upload_id}.zip"


def upload_id_of(key: str) -> str | None:
    found = UPLOAD_KEY.match(key)
    return found.group(1) if found else None
