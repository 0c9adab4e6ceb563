"""Spec 000's asset lifecycle: create, read, partial update, delete, and the queries."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError

from assets_core.collections import API_ROUTE_PATH, SUB_TYPE_PATH, TAG_PATH, TYPE_PATH
from assets_core.errors import (
    AlreadyExists,
    InvalidFilter,
    InvalidInput,
    NotFound,
    where_and_why,
)
from assets_core.filters import validate_filter
from assets_core.identity import without_server_fields
from assets_core.keys import ASSETS_PREFIX, points_into
from assets_core.logic.credentials import (
    CREDENTIALS,
    REDACTED,
    SECRET_REF,
    carry,
    discarded_unless_kept,
    forget,
    seal,
    shown,
)
from assets_core.logic.revisions import Precondition, insert_new, modify
from assets_core.pagination import Page, PageRequest
from assets_core.ports import DocumentStore, Vault, Versioned
from assets_core.scoping import unscoped

if TYPE_CHECKING:  # loaded by the write paths; the read-only functions never build these models
    from assets_core.models.asset import Asset, AssetUpdate


class AssetExists(AlreadyExists):
    # Spec 000 answers a duplicate asset_id with 400, not the contract's usual 409.
    status = InvalidInput.status
    code = "ASSET_EXISTS"


def _shown_page(page: Page) -> Page:
    return Page([shown(item) for item in page.items], page.next_cursor)


def _not_found(asset_id: str) -> NotFound:
    return NotFound(f"No asset has asset_id '{asset_id}'.", code="ASSET_NOT_FOUND")


def create_for_client(
    asset: Asset, *, store: DocumentStore, bucket_url: str, vault: Vault | None = None
) -> dict[str, Any]:
    """A client's new asset: as ``create``, once no file entry points into the deployment's
    bucket (``bucket_url``, ``s3://<bucket>/``), where only ingest writes."""
    document = asset.document()
    check_file_pointers(document["files"], bucket_url=bucket_url, stored=[])
    return _insert(document, store, vault)


def check_file_pointers(
    files: list[dict[str, Any]], *, bucket_url: str, stored: list[dict[str, Any]]
) -> None:
    """A client may not point a file entry into the deployment's bucket: those entries are
    written by ingest for the files it stored (a client that could would make another asset's
    object download as its own). ``stored`` are the record's entries so far: each one stays,
    unchanged, through an update that sends ``files``."""
    kept = {_canonical(entry) for entry in stored if _in_bucket(entry, bucket_url)}
    sent = {_canonical(entry) for entry in files}
    for index, entry in enumerate(files):
        if _in_bucket(entry, bucket_url) and _canonical(entry) not in kept:
            raise InvalidInput(
                f"files[{index}].asset_file_url points into this deployment's object store, "
                "where only uploads write; upload the file in a ZIP bundle, or give an "
                "external http(s) URL.",
                code="STORED_FILE_REFUSED",
            )
    if not kept <= sent:
        raise InvalidInput(
            "files must keep the asset's stored files as they are (their entries point at the "
            "objects its upload stored); add or change only external entries.",
            code="STORED_FILE_REFUSED",
        )


def _in_bucket(entry: dict[str, Any], bucket_url: str) -> bool:
    return points_into(str(entry.get("asset_file_url") or ""), bucket_url)


def _canonical(entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"))


def create(asset: Asset, *, store: DocumentStore, vault: Vault | None = None) -> dict[str, Any]:
    """Register a new asset; ``AssetExists`` when its id is taken. With a vault, its
    credentials go into a secret of their own (``credentials.seal``)."""
    return _insert(asset.document(), store, vault)


def _insert(document: dict[str, Any], store: DocumentStore, vault: Vault | None) -> dict[str, Any]:
    written = seal(document, vault)
    with discarded_unless_kept(written, vault):
        stored = insert_new(
            store,
            document,
            lambda: AssetExists(
                f"An asset with asset_id '{document['asset_id']}' already exists; "
                "update it with PUT or choose another id."
            ),
        )
    return shown(stored)


def get(asset_id: str, *, store: DocumentStore) -> dict[str, Any]:
    """The stored asset with this id."""
    found = store.get(asset_id)
    if found is None:
        raise _not_found(asset_id)
    return shown(found)


def find_by_id(asset_id: str, *, store: DocumentStore) -> dict[str, Any] | None:
    """The stored asset with this id, or None."""
    found = store.get(asset_id)
    return None if found is None else shown(found)


def read(asset_id: str, *, store: DocumentStore) -> Versioned:
    """The stored asset with this id, and its revision (the ETag)."""
    found = store.read(asset_id)
    if found is None:
        raise _not_found(asset_id)
    return Versioned(shown(found.document), found.revision)


def exists(asset_id: str, *, store: DocumentStore) -> bool:
    return store.get(asset_id) is not None


def update(
    asset_id: str,
    patch: AssetUpdate,
    *,
    store: DocumentStore,
    bucket_url: str,
    precondition: Precondition | None = None,
    vault: Vault | None = None,
) -> Versioned:
    """Change the fields sent; the result must still be a valid asset, and the id stays, and
    so do the file entries of its stored files (``check_file_pointers``).
    Written over the revision read (``If-Match`` when given), so no concurrent change is
    lost; the stored document and its new revision. New credentials go into a new secret of
    the vault, and the one they replace is deleted once the document no longer names it."""
    changes = patch.changes()
    if changes.get(CREDENTIALS) == REDACTED:
        del changes[CREDENTIALS]  # what a read showed, sent back: the stored ones stay
    if "asset_id" in changes and changes["asset_id"] != asset_id:
        raise InvalidInput(
            f"asset_id cannot change (the path names '{asset_id}', the body "
            f"'{changes['asset_id']}').",
            code="FIELD_READ_ONLY",
        )
    if not changes:
        raise InvalidInput("The update is empty; send at least one field to change.")
    from assets_core.models.asset import Asset

    replaced: list[dict[str, Any]] = []  # the document each write replaced (the last stays)

    def write(current: Versioned) -> dict[str, Any]:
        if "files" in changes:
            stored = current.document.get("files") or []
            check_file_pointers(changes["files"] or [], bucket_url=bucket_url, stored=stored)
        before = {
            k: v for k, v in without_server_fields(current.document).items() if k != SECRET_REF
        }
        try:
            merged = Asset.model_validate({**before, **changes})
        except ValidationError as exc:
            raise InvalidInput(
                f"The update would make the asset invalid: {_first_error(exc)}"
            ) from exc
        document = merged.document()
        carry(document, current.document, sealed)
        if not store.replace(asset_id, document, revision=current.revision):
            raise _not_found(asset_id)
        replaced[:] = [current.document]
        return document

    sealed, written = _seal_for_update(asset_id, changes, store, vault)
    with discarded_unless_kept(written, vault):
        document, revision = modify(
            store,
            asset_id,
            write,
            precondition=precondition,
            missing=lambda: _not_found(asset_id),
            what=f"The asset '{asset_id}'",
        )
    if CREDENTIALS in changes and replaced:
        forget(replaced[0], vault)
    return Versioned(shown(document), revision)


def _seal_for_update(
    asset_id: str, changes: dict[str, Any], store: DocumentStore, vault: Vault | None
) -> tuple[dict[str, Any] | None, str | None]:
    """The credentials an update writes, sealed (``credentials.seal``), and the secret
    written for them; (None, None) for an update that leaves them alone. Whether the caller
    may change the asset is checked first: a write they could not make never costs a secret
    (404 hidden or missing, 403 another's)."""
    if CREDENTIALS not in changes:
        return None, None
    sealed = {"asset_id": asset_id, CREDENTIALS: changes[CREDENTIALS]}
    if vault is not None:
        changeable = getattr(store, "changeable", None)
        if changeable is not None and changeable(asset_id) is None:
            raise _not_found(asset_id)
    return sealed, seal(sealed, vault)


class StoredFiles(Protocol):
    def key_of(self, url: str) -> str | None: ...
    def delete(self, keys: Iterable[str]) -> None: ...


def delete(
    asset_id: str,
    *,
    store: DocumentStore,
    files: StoredFiles | None = None,
    precondition: Precondition | None = None,
    vault: Vault | None = None,
) -> dict[str, Any]:
    """Remove the asset, its embedded metadata, its credentials' secret and, given the object
    store, the stored objects its files point to (see ``owned_keys``); with ``If-Match``,
    only while the asset is at a revision it names."""

    def remove(current: Versioned) -> dict[str, Any]:
        # At the revision read, always: the document deleted is the one whose secret and
        # files are removed after it (a change in between makes this read again).
        if not store.delete(asset_id, revision=current.revision):
            raise _not_found(asset_id)
        return current.document

    document, _ = modify(
        store,
        asset_id,
        remove,
        precondition=precondition,
        missing=lambda: _not_found(asset_id),
        what=f"The asset '{asset_id}'",
    )
    forget(document, vault)
    if files is not None:
        keys = owned_keys(document, files=files, store=store)
        if keys:
            files.delete(keys)
    return {"success": True, "asset_id": asset_id, "deleted": True}


def owned_keys(document: dict[str, Any], *, files: StoredFiles, store: DocumentStore) -> list[str]:
    """The keys of this bucket that the document's files point to under the asset's own
    prefix (``assets/<asset_id>/``, where ingest stores them), less any that another stored
    document still names: a bundle may keep an ``s3://`` URL as an external reference."""
    prefix = f"{ASSETS_PREFIX}{document['asset_id']}/"
    by_url: dict[str, str] = {}
    for url in _file_urls(document):
        key = files.key_of(url)
        if key and key.startswith(prefix) and ".." not in key.split("/"):
            by_url[url] = key
    left = set(by_url)
    while left:  # each answer names at least one URL still left, so this ends
        others = unscoped(store).find(  # any other record, whoever may see it
            {
                "asset_id": {"$ne": document["asset_id"]},
                "files.asset_file_url": {"$in": sorted(left)},
            }
        )
        named = {url for other in others for url in _file_urls(other)} & left
        if not named:
            break
        left -= named
    return sorted(by_url[url] for url in left)


def _file_urls(document: dict[str, Any]) -> list[str]:
    entries = document.get("files") or []
    urls = [entry.get("asset_file_url") for entry in entries if isinstance(entry, dict)]
    return [url for url in urls if isinstance(url, str)]


def by_type(asset_type: str, page: PageRequest, *, store: DocumentStore) -> Page:
    """Assets with a profile of this ``asset_type``."""
    return _shown_page(store.find_page({TYPE_PATH: asset_type}, page))


def by_sub_type(sub_type: str, page: PageRequest, *, store: DocumentStore) -> Page:
    """Assets with a profile of this ``asset_sub_type``."""
    return _shown_page(store.find_page({SUB_TYPE_PATH: sub_type}, page))


def by_tag(tag: str, page: PageRequest, *, store: DocumentStore) -> Page:
    """Assets with a profile tagged with this value."""
    return _shown_page(store.find_page({TAG_PATH: tag}, page))


def by_api_route(route: str, page: PageRequest, *, store: DocumentStore) -> Page:
    """Assets defining an API on this route, written with or without its leading slash."""
    bare = route.lstrip("/")
    return _shown_page(store.find_page({API_ROUTE_PATH: {"$in": [bare, "/" + bare]}}, page))


def search(query: Any, page: PageRequest, *, store: DocumentStore) -> Page:
    """Assets matching a MongoDB-style filter of the allowed operators; no filter (None)
    matches every asset, as spec 000 has it."""
    checked = validate_filter({} if query is None else query)
    _refuse_secret_paths(checked)
    return _shown_page(store.find_page(checked, page))


def _refuse_secret_paths(query: Any) -> None:
    """A filter may not name the write-only credentials (or a field in them): matching on
    them would read them back one guess at a time."""
    if isinstance(query, list):
        for item in query:
            _refuse_secret_paths(item)
    elif isinstance(query, dict):
        for key, value in query.items():
            if isinstance(key, str) and key.split(".", 1)[0] in (CREDENTIALS, SECRET_REF):
                raise InvalidFilter(
                    f"{CREDENTIALS} is write-only: a filter cannot name it or its fields.",
                    code="FIELD_NOT_SEARCHABLE",
                )
            _refuse_secret_paths(value)


def list_all(page: PageRequest, *, store: DocumentStore) -> Page:
    """Every asset, in asset_id order."""
    return _shown_page(store.find_page({}, page))


def _first_error(exc: ValidationError) -> str:
    return where_and_why(exc.errors()[0], "the asset") + "."
