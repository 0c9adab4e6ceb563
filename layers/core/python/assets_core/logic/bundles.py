"""ZIP bundles (spec 000): the rules a bundle meets before any member is stored (its central
directory, its asset.json and the files[] mapping), and the limits an ingest run works within."""

from __future__ import annotations

import json
import mimetypes
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from assets_core.errors import where_and_why
from assets_core.keys import points_into
from assets_core.logic.content import MAX_NAMED_CONTENTS, SHA256
from assets_core.logic.names import unsafe_name
from assets_core.logic.zipreader import DEFLATED, STORED, Member
from assets_core.models.asset import Asset, is_asset_id
from assets_core.ports import MAX_KEY_BYTES
from assets_core.storable import MAX_DEPTH, NotStorable, check_storable

ASSET_JSON = "asset.json"
ASSET_JSON_MAX_BYTES = 1024 * 1024
RATIO_FLOOR_BYTES = 1024 * 1024
MIB = 1024 * 1024

type KeyOf = Callable[[str], str]  # a member's path in the bundle -> the key it is stored under
type UrlOf = Callable[[str], str]  # an object key -> the URL its files[] entry links to


class BundleRejected(Exception):
    """The bundle cannot be ingested; the message is the reason a person can act on."""


@dataclass(frozen=True)
class Limits:
    """What a bundle may be, and what an ingest run may spend on it."""

    max_object_bytes: int  # a bundle sent in one request
    max_session_bytes: int = 5 * 1024 * 1024 * MIB  # a bundle sent in parts (a session)
    max_members: int = 10_000
    max_expanded_bytes: int = 10 * 1024 * MIB
    max_ratio: int = 100
    part_bytes: int = 8 * MIB
    copy_min_bytes: int = 5 * MIB
    copy_part_bytes: int = 512 * MIB
    upload_threads: int = 3
    read_streams: int = 3
    # The processing lock lives this long unless renewed (every third of it, while the run
    # works): a killed run's lock frees the upload within a minute, long before the queue's
    # visibility timeout (6 x the function's timeout) delivers the message again.
    lock_seconds: int = 60
    max_key_bytes: int = MAX_KEY_BYTES
    # When this run must stop (time.monotonic()), leaving time to clean up before the
    # function's own deadline; None: no limit.
    deadline: float | None = None
    # A bundle that one run cannot finish is continued by the next (from the members stored
    # so far), up to this many runs in all; then it fails.
    max_runs: int = 20


class OutOfTime(Exception):
    """The run reached its deadline: the bundle is too slow to ingest in one run."""


def check_time(limits: Limits) -> None:
    if limits.deadline is not None and time.monotonic() > limits.deadline:
        raise OutOfTime("the bundle could not be ingested within the ingest function's time limit")


# -- checks on the central directory -------------------------------------------------------


def check_name(name: str) -> None:
    """Refuse member names that could escape a folder or be ambiguous."""
    reason = unsafe_name(name)
    if reason is not None:
        raise BundleRejected(reason)


def check_members(members: list[Member], limits: Limits) -> dict[str, Member]:
    """Apply the contract's rules to the directory; the file members by name."""
    if len(members) > limits.max_members:
        raise BundleRejected(
            f"the bundle has {len(members)} members; at most {limits.max_members} are allowed"
        )
    files: dict[str, Member] = {}
    seen: set[str] = set()
    total = 0
    for member in members:
        check_name(member.name)
        if member.name in seen:
            raise BundleRejected(f"member name '{member.name}' appears more than once")
        seen.add(member.name)
        if member.flags & 0x1:
            raise BundleRejected(
                f"member '{member.name}' is encrypted; encryption is not supported"
            )
        if member.method not in (STORED, DEFLATED):
            raise BundleRejected(
                f"member '{member.name}' uses compression method {member.method}; "
                "only stored and deflated members are supported"
            )
        if member.is_dir:
            continue
        if member.size > RATIO_FLOOR_BYTES and member.size > limits.max_ratio * max(
            member.compressed_size, 1
        ):
            raise BundleRejected(
                f"member '{member.name}' expands {member.size} bytes from "
                f"{member.compressed_size}: more than {limits.max_ratio} times (zip bomb)"
            )
        total += member.size
        if total > limits.max_expanded_bytes:
            raise BundleRejected(
                f"the bundle expands to more than {limits.max_expanded_bytes} bytes (the limit)"
            )
        files[member.name] = member
    return files


def find_asset_json(files: dict[str, Member]) -> Member:
    """The asset.json member: at the bundle's root, and at most 1 MiB."""
    if ASSET_JSON not in files:
        raise BundleRejected("the bundle has no asset.json at its root")
    manifest = files[ASSET_JSON]
    if manifest.size > ASSET_JSON_MAX_BYTES:
        raise BundleRejected(f"asset.json is {manifest.size} bytes; at most 1 MiB is allowed")
    return manifest


# -- asset.json and the files[] mapping ------------------------------------------------------


@dataclass(frozen=True)
class FilePlan:
    """What ingest stores and registers: a document of its own (the one planned from is left
    as it is), and each member to store at a key."""

    document: dict[str, Any]
    keys: dict[str, str] = field(default_factory=dict)  # member path -> object key
    entries: dict[str, list[int]] = field(default_factory=dict)  # path -> its files[] indexes
    # files[] index -> (sha256, path) of an entry naming content the registry already holds
    # (``assets push``): no member, its object found by ``name_contents``
    named: dict[int, tuple[str, str]] = field(default_factory=dict)

    def content_type(self, path: str) -> Any:
        """The MIME type a member is stored with: its first entry's."""
        return self.document["files"][self.entries[path][0]]["asset_file_mime_type"]

    def with_digests(self, sha256: Mapping[str, str]) -> dict[str, Any]:
        """A new document: this one with each stored member's SHA-256 in its entries."""
        files = list(self.document["files"])
        for path, indexes in self.entries.items():
            if path not in sha256:
                continue
            for index in indexes:
                entry = files[index]
                metadata = {**entry["asset_file_metadata"], "sha256": sha256[path]}
                files[index] = {**entry, "asset_file_metadata": metadata}
        return {**self.document, "files": files}


def parse_asset_json(raw: bytes) -> dict[str, Any]:
    try:
        document = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleRejected(f"asset.json is not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise BundleRejected(f"asset.json is nested deeper than {MAX_DEPTH} levels") from exc
    if not isinstance(document, dict):
        raise BundleRejected("asset.json must hold a JSON object (an Asset document)")
    try:
        check_storable(document)
    except NotStorable as exc:  # checked before any member is stored
        raise BundleRejected(f"asset.json: {exc.message}") from exc
    return document


def check_asset_id(document: dict[str, Any]) -> str:
    """The asset_id asset.json names, which must be a valid one."""
    asset_id = document.get("asset_id")
    if not isinstance(asset_id, str) or not is_asset_id(asset_id):
        validate_document(document)  # names the problem with asset_id
        raise BundleRejected("asset.json: asset_id is invalid")
    return asset_id


def _guess_mime(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def plan_files(
    document: dict[str, Any], files: dict[str, Member], key_of: KeyOf, url_of: UrlOf
) -> FilePlan:
    """Map files[] to members as the contract says and fill what ingest knows up front, in a
    new document: the one given is left as it is."""
    listed = document.get("files", [])
    if listed is None:
        listed = []
    if not isinstance(listed, list):
        raise BundleRejected("asset.json: 'files' must be a list")
    entries: list[Any] = []
    plan = FilePlan(document={**document, "files": entries})
    named: set[str] = set()
    for index, entry in enumerate(listed):
        path = _entry_path(index, entry)
        if isinstance(path, str) and path in files:
            named.add(path)
            entries.append(_attach(plan, len(entries), entry, path, files[path], key_of, url_of))
        elif entry.get("asset_file_url"):
            entries.append(_external(index, entry, url_of))
        elif isinstance(path, str) and _named_sha256(entry) is not None:
            plan.named[len(entries)] = (str(_named_sha256(entry)), path)
            entries.append(dict(entry))
        else:
            raise BundleRejected(
                f"asset.json: files[{index}] names member '{path}', which is not in the bundle"
            )
    for path, member in files.items():
        if path == ASSET_JSON or path in named:
            continue
        entry = {"asset_file_id": path, "asset_file_type": "file"}
        entries.append(_attach(plan, len(entries), entry, path, member, key_of, url_of))
    plan.document["asset_file_ids"] = [
        entry.get("asset_file_id") for entry in entries if isinstance(entry, dict)
    ]
    return plan


def _named_sha256(entry: dict[str, Any]) -> str | None:
    """The sha256 an entry names its content by (its metadata's), when it is one."""
    metadata = entry.get("asset_file_metadata") or {}
    sha256 = metadata.get("sha256") if isinstance(metadata, dict) else None
    return sha256 if isinstance(sha256, str) and SHA256.fullmatch(sha256) else None


def name_contents(plan: FilePlan, held: Mapping[str, Mapping[str, Any]], url_of: UrlOf) -> None:
    """Point each entry naming content by sha256 at the object that holds it (``held``: the
    contents the uploader may read, by sha256); one the registry does not hold, or the
    uploader may not read, fails the bundle with the same words (so nothing is told about
    another user's files)."""
    if len(plan.named) > MAX_NAMED_CONTENTS:
        raise BundleRejected(
            f"asset.json names {len(plan.named)} files by sha256; at most {MAX_NAMED_CONTENTS}"
        )
    files = plan.document["files"]
    for index, (sha256, path) in plan.named.items():
        record = held.get(sha256)
        if record is None:
            raise BundleRejected(
                f"asset.json: files[{index}] ('{path}') names content sha256 {sha256}, which "
                "this registry does not hold or you may not read: put the file in the bundle"
            )
        entry = files[index]
        metadata = {**entry.get("asset_file_metadata", {}), "path": path, "sha256": sha256}
        metadata["size"] = int(record.get("size") or 0)
        files[index] = {
            **entry,
            "asset_file_type": entry.get("asset_file_type") or "file",
            "asset_file_mime_type": entry.get("asset_file_mime_type") or _guess_mime(path),
            "asset_file_url": url_of(str(record["key"])),
            "asset_file_metadata": metadata,
        }


def _entry_path(index: int, entry: Any) -> Any:
    """The member a ``files[]`` entry names (its metadata's ``path``, else its id)."""
    if not isinstance(entry, dict):
        raise BundleRejected(f"asset.json: files[{index}] must be an object")
    metadata = entry.get("asset_file_metadata") or {}
    if not isinstance(metadata, dict):
        raise BundleRejected(f"asset.json: files[{index}].asset_file_metadata must be an object")
    path = metadata.get("path") or entry.get("asset_file_id")
    if path == ASSET_JSON:
        # The manifest is not a file of the asset: storing it would keep a copy of what it
        # holds (credentials included) outside the document and the vault.
        raise BundleRejected(
            f"asset.json: files[{index}] names asset.json itself, which is the bundle's "
            "manifest, not one of its files"
        )
    return path


def _external(index: int, entry: dict[str, Any], url_of: UrlOf) -> dict[str, Any]:
    """An entry naming a file outside the bundle, kept as it is, unless it points into this
    deployment's object store, where only uploads write (it could name another asset's
    object, which would then download as this asset's)."""
    if points_into(str(entry["asset_file_url"]), url_of("")):
        raise BundleRejected(
            f"asset.json: files[{index}].asset_file_url points into this deployment's object "
            "store, where only uploads write; put the file in the bundle, or give an external "
            "http(s) URL"
        )
    return entry


def _attach(
    plan: FilePlan,
    index: int,
    entry: dict[str, Any],
    path: str,
    member: Member,
    key_of: KeyOf,
    url_of: UrlOf,
) -> dict[str, Any]:
    """The entry at files[index], linked to the member it names (a new dict)."""
    key = key_of(path)
    plan.keys[path] = key
    plan.entries.setdefault(path, []).append(index)
    attached = dict(entry)
    attached.setdefault("asset_file_type", "file")
    attached.setdefault("asset_file_mime_type", _guess_mime(path))
    attached["asset_file_url"] = url_of(key)
    metadata = dict(entry.get("asset_file_metadata") or {})
    metadata.update({"path": path, "size": member.size, "crc32": member.crc})
    attached["asset_file_metadata"] = metadata
    return attached


def check_keys(plan: FilePlan, max_key_bytes: int) -> None:
    """Refuse a member whose object key the store could not hold (its bytes of UTF-8)."""
    for path, key in plan.keys.items():
        size = len(key.encode())
        if size > max_key_bytes:
            raise BundleRejected(
                f"member '{path}' would be stored under a key of {size} bytes; the object "
                f"store allows at most {max_key_bytes} (shorten its path)"
            )


def validate_document(document: dict[str, Any]) -> Asset:
    """asset.json must be an Asset, under the same rules as POST /registry/assets."""
    try:
        return Asset.model_validate(document)
    except ValidationError as exc:
        problems = []
        for error in exc.errors()[:5]:
            problems.append(
                f"unknown field '{'.'.join(str(part) for part in error['loc'])}'"
                if error["type"] == "extra_forbidden"
                else where_and_why(error, "asset")
            )
        raise BundleRejected("asset.json is not a valid Asset: " + "; ".join(problems)) from exc
