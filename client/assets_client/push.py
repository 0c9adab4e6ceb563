"""``assets push DIR``: the counterpart of ``pull`` for a new version. The folder (with its
``asset.json`` naming the new ``asset_version``) is hashed; the registry is asked which of
those contents it does not hold, or the caller may not read (``POST
/registry/content/missing``); the bundle sent carries only those files, and its
``asset.json`` names the rest by sha256, which the new version then holds without a copy."""

from __future__ import annotations

import json
import mimetypes
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assets_client.bundle import unsafe_member_name
from assets_client.cache import file_sha256

if TYPE_CHECKING:
    from assets_client.api import AssetsClient

ASSET_JSON = "asset.json"


class PushError(Exception):
    """A folder that cannot be pushed as it is (no asset.json, an unsafe name)."""


@dataclass
class PushResult:
    asset_id: str
    asset_version: str
    files: int = 0
    sent: list[str] = field(default_factory=list)  # carried in the bundle
    sent_bytes: int = 0
    named: list[str] = field(default_factory=list)  # named by sha256, not sent
    record: dict[str, Any] = field(default_factory=dict)  # the upload's, once ingested

    def summary(self) -> dict[str, Any]:
        return {
            "asset_id": self.asset_id,
            "asset_version": self.asset_version,
            "files": self.files,
            "sent": len(self.sent),
            "sent_bytes": self.sent_bytes,
            "named": len(self.named),
            "status": self.record.get("status"),
        }


def scan(folder: Path) -> tuple[dict[str, Any], dict[str, tuple[Path, str, int]]]:
    """The folder's asset.json and its other files: path -> (file, sha256, size)."""
    manifest = folder / ASSET_JSON
    if not manifest.is_file():
        raise PushError(f"{folder} has no {ASSET_JSON} at its top")
    try:
        document = json.loads(manifest.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PushError(f"{manifest} is not valid JSON ({exc})") from exc
    if not isinstance(document, dict) or not document.get("asset_id"):
        raise PushError(f"{manifest} must be an Asset document with an asset_id")
    found: dict[str, tuple[Path, str, int]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        name = path.relative_to(folder).as_posix()
        if name == ASSET_JSON:
            continue
        reason = unsafe_member_name(name)
        if reason:
            raise PushError(f"refusing {name!r}: {reason}")
        found[name] = (path, file_sha256(path), path.stat().st_size)
    return document, found


def plan(
    document: dict[str, Any], found: dict[str, tuple[Path, str, int]], missing: set[str]
) -> tuple[dict[str, Any], list[str], list[str]]:
    """The bundle's asset.json, the files it carries and those it names by sha256."""
    entries = []
    covered: set[str] = set()
    for entry in document.get("files") or []:
        if not isinstance(entry, dict):
            entries.append(entry)
            continue
        metadata = dict(entry.get("asset_file_metadata") or {})
        path = metadata.get("path") or entry.get("asset_file_id")
        if isinstance(path, str) and path in found:
            covered.add(path)
            _, sha256, _ = found[path]
            metadata.update({"path": path, "sha256": sha256})
            entry = {**entry, "asset_file_metadata": metadata}
        entries.append(entry)
    for path, (_, sha256, _) in found.items():
        if path not in covered and sha256 not in missing:
            entries.append(
                {
                    "asset_file_id": path,
                    "asset_file_type": "file",
                    "asset_file_mime_type": mimetypes.guess_type(path)[0]
                    or "application/octet-stream",
                    "asset_file_metadata": {"path": path, "sha256": sha256},
                }
            )
    carried = [path for path, (_, sha256, _) in found.items() if sha256 in missing]
    named = [path for path in found if path not in carried]
    return {**document, "files": entries}, carried, named


def push(
    client: AssetsClient,
    folder: Path,
    *,
    wait: bool = True,
    timeout: float = 3600,
    progress: Callable[[int], None] = lambda _: None,
) -> PushResult:
    """Push ``folder`` as a new version; what was sent and what was named."""
    document, found = scan(folder)
    missing = client.missing_contents(sorted({sha256 for _, sha256, _ in found.values()}))
    bundle_document, carried, named = plan(document, found, missing)
    result = PushResult(
        str(document["asset_id"]), str(document.get("asset_version")), files=len(found)
    )
    result.sent, result.named = carried, named
    result.sent_bytes = sum(found[path][2] for path in carried)
    staging = Path(tempfile.mkdtemp(prefix="assets-push-"))
    try:
        for path in carried:
            target = staging.joinpath(*path.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(found[path][0], target)
            except OSError:
                shutil.copyfile(found[path][0], target)
        (staging / ASSET_JSON).write_text(json.dumps(bundle_document))
        upload_id = client.upload(staging, progress=progress)
        result.record = {"upload_id": upload_id, "status": "queued"}
        if wait:
            result.record = client.wait(upload_id, timeout=timeout)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result
