"""Spec 000's asset lifecycle: create, read, partial update, delete, and the queries."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from assets_core.collections import (
    API_ROUTE_PATH,
    REGISTRY_FIELD,
    SUB_TYPE_PATH,
    TAG_PATH,
    TYPE_PATH,
    VERSION_KEY,
)
from assets_core.commit import after_commit
from assets_core.errors import (
    AlreadyExists,
    InvalidFilter,
    InvalidInput,
    NotFound,
    where_and_why,
)
from assets_core.filters import validate_filter
from assets_core.identity import current_caller, now_iso, stamp_of, without_server_fields
from assets_core.keys import points_into
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
from assets_core.logic.versions import (
    VERSIONS_ROUTE,
    delete_asset,
    entry_of,
    index_of,
    mark_versions,
    mirror_current,
    new_ref,
)
from assets_core.logic.versions import (
    add as add_to,
)
from assets_core.logic.versions import read as read_version
from assets_core.pagination import Page, PageRequest
from assets_core.ports import DocumentStore, Facet, Vault, Versioned
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
    asset: Asset,
    *,
    store: DocumentStore,
    versions: DocumentStore,
    bucket_url: str,
    vault: Vault | None = None,
) -> dict[str, Any]:
    """A client's new asset: as ``create``, once no file entry points into the deployment's
    bucket (``bucket_url``, ``s3://<bucket>/``), where only ingest writes."""
    document = asset.document()
    check_file_pointers(document["files"], bucket_url=bucket_url, stored=[])
    return _insert(document, store, versions, vault)


def add_version(
    asset_id: str,
    asset: Asset,
    *,
    store: DocumentStore,
    versions: DocumentStore,
    bucket_url: str,
    vault: Vault | None = None,
) -> dict[str, Any]:
    """A client's new version of an asset (``versions.add``): its document names the same
    asset_id, points no file into the bucket, and becomes the current version."""
    document = asset.document()
    if document["asset_id"] != asset_id:
        raise InvalidInput(
            f"The body's asset_id '{document['asset_id']}' is not the path's '{asset_id}'.",
            code="FIELD_READ_ONLY",
        )
    check_file_pointers(document["files"], bucket_url=bucket_url, stored=[])
    changeable = getattr(store, "changeable", None)
    if changeable is not None and changeable(asset_id) is None:
        raise _not_found(asset_id)  # before a secret is written for a write that cannot be
    written = seal(document, vault)
    with discarded_unless_kept(written, vault):
        return add_to(asset_id, document, store=store, versions=versions)


def add_uploaded(
    asset: Asset,
    *,
    store: DocumentStore,
    versions: DocumentStore,
    ref: str,
    upload_id: str,
    vault: Vault | None = None,
) -> dict[str, Any]:
    """An uploaded bundle's new version of an existing asset (ingest has stored its files
    and holds their content by ``ref``)."""
    document = asset.document()
    written = seal(document, vault)
    with discarded_unless_kept(written, vault):
        return add_to(
            str(document["asset_id"]),
            document,
            store=store,
            versions=versions,
            ref=ref,
            upload_id=upload_id,
        )


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


def create(
    asset: Asset,
    *,
    store: DocumentStore,
    versions: DocumentStore,
    vault: Vault | None = None,
    ref: str | None = None,
    upload_id: str | None = None,
) -> dict[str, Any]:
    """Register a new asset with its first version; ``AssetExists`` when its id is taken
    (``AssetDeleted`` while a deleted asset holds it). With a vault, its credentials go into
    a secret of their own (``credentials.seal``). ``ref`` holds its stored content."""
    return _insert(asset.document(), store, versions, vault, ref=ref, upload_id=upload_id)


class AssetDeleted(AlreadyExists):
    code = "ASSET_DELETED"


def _insert(
    document: dict[str, Any],
    store: DocumentStore,
    versions: DocumentStore,
    vault: Vault | None,
    *,
    ref: str | None = None,
    upload_id: str | None = None,
) -> dict[str, Any]:
    asset_id = str(document["asset_id"])
    entry = entry_of(
        document,
        ref=ref or new_ref(asset_id, str(document["asset_version"])),
        by=stamp_of(current_caller()),
        at=now_iso(),
        upload_id=upload_id,
    )
    document[REGISTRY_FIELD] = {"versions": [entry], "aliases": {}}
    written = seal(document, vault)
    with discarded_unless_kept(written, vault):
        stored = insert_new(store, document, lambda: _taken(asset_id, store))
    mirror_current(versions, stored)
    return shown(stored)


def _taken(asset_id: str, store: DocumentStore) -> AlreadyExists:
    found = unscoped(store).get(asset_id)
    if found is not None and index_of(found).get("deleted_at"):
        return AssetDeleted(
            f"The asset_id '{asset_id}' belongs to a deleted asset, kept until "
            f"{index_of(found).get('purge_after')}: restore it with POST /registry/assets/"
            f"{asset_id}/restore, or choose another id."
        )
    return AssetExists(
        f"An asset with asset_id '{asset_id}' already exists; add a version with "
        f"{VERSIONS_ROUTE.format(asset_id=asset_id)}, update its metadata with PUT, or choose "
        "another id."
    )


def get(
    asset_id: str,
    *,
    store: DocumentStore,
    versions: DocumentStore | None = None,
    version: str | None = None,
) -> dict[str, Any]:
    """The stored asset with this id: its current version, or the one ``version`` names."""
    return read(asset_id, store=store, versions=versions, version=version).document


def find_by_id(
    asset_id: str,
    *,
    store: DocumentStore,
    versions: DocumentStore | None = None,
    version: str | None = None,
) -> dict[str, Any] | None:
    """As ``get``, or None when there is no such asset or version."""
    try:
        return get(asset_id, store=store, versions=versions, version=version)
    except NotFound:
        return None


def read(
    asset_id: str,
    *,
    store: DocumentStore,
    versions: DocumentStore | None = None,
    version: str | None = None,
) -> Versioned:
    """The stored asset with this id (its current version, or the one ``version`` names: a
    version, an alias or ``latest``, read with ``versions``), and its revision (the ETag)."""
    if version is None:
        found = store.read(asset_id)
        if found is None:
            raise _not_found(asset_id)
        return Versioned(shown(found.document), found.revision)
    if versions is None:
        raise TypeError("reading a version of an asset needs the versions store")
    chosen = read_version(asset_id, version, store=store, versions=versions)
    return Versioned(chosen.document, chosen.revision)


def exists(asset_id: str, *, store: DocumentStore) -> bool:
    return store.get(asset_id) is not None


def update(
    asset_id: str,
    patch: AssetUpdate,
    *,
    store: DocumentStore,
    versions: DocumentStore,
    bucket_url: str,
    precondition: Precondition | None = None,
    vault: Vault | None = None,
) -> Versioned:
    """Change the fields sent of the asset's current version; the result must still be a
    valid asset, and the id, the version and its files stay (a new version is added through
    the versions route). Written over the revision read (``If-Match`` when given), so no
    concurrent change is lost; the stored document and its new revision. New credentials go
    into a new secret of the vault, and the one they replace is deleted once the document no
    longer names it."""
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
        _check_version_kept(asset_id, changes, current.document)
        if "files" in changes:
            stored = current.document.get("files") or []
            check_file_pointers(changes["files"] or [], bucket_url=bucket_url, stored=stored)
        before = {
            k: v
            for k, v in without_server_fields(current.document).items()
            if k not in (SECRET_REF, REGISTRY_FIELD)
        }
        try:
            merged = Asset.model_validate({**before, **changes})
        except ValidationError as exc:
            raise InvalidInput(
                f"The update would make the asset invalid: {_first_error(exc)}"
            ) from exc
        document = merged.document()
        carry(document, current.document, sealed)
        document[REGISTRY_FIELD] = index_of(current.document)
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
        old = replaced[0]
        after_commit(lambda: forget(old, vault))  # the document names it until then
    mirror_current(versions, document)
    if replaced and replaced[0].get("visibility") != document.get("visibility"):
        # A version's visibility is its asset's: the earlier versions' copies follow.
        mark_versions(versions, asset_id, {"$set": {"visibility": document.get("visibility")}})
    return Versioned(shown(document), revision)


# What a version fixes: a new value of one of these is a new version.
VERSION_FIELDS = ("asset_version", "asset_file_ids", "files")


def _check_version_kept(asset_id: str, changes: dict[str, Any], stored: dict[str, Any]) -> None:
    """An update edits the current version's metadata; its version and files stay."""
    for name in VERSION_FIELDS:
        if name in changes and changes[name] != stored.get(name):
            raise InvalidInput(
                f"{name} cannot change by PUT: a version's files are immutable. Add a new "
                f"version with {VERSIONS_ROUTE.format(asset_id=asset_id)} (or upload a bundle "
                "with a new asset_version).",
                code="VERSION_IMMUTABLE",
            )


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


def delete(
    asset_id: str,
    *,
    store: DocumentStore,
    versions: DocumentStore,
    retention_days: float,
    precondition: Precondition | None = None,
) -> dict[str, Any]:
    """Soft-delete the asset (``versions.delete_asset``): hidden from every read at once,
    restorable for ``retention_days``; with ``If-Match``, only at a revision it names."""
    return delete_asset(
        asset_id,
        store=store,
        versions=versions,
        retention_days=retention_days,
        precondition=precondition,
    )


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


# What the console's search page narrows by: each facet's field and the arrays on its way.
FACETS = {
    "asset_type": Facet(TYPE_PATH, ("profiles",)),
    "asset_sub_type": Facet(SUB_TYPE_PATH, ("profiles",)),
    "tag": Facet(TAG_PATH, ("profiles", TAG_PATH)),
    "owner": Facet("created_by"),
}
FACET_PATHS = {name: facet.path for name, facet in FACETS.items()}
MAX_FACET_VALUES = 20


def facets(query: Any, *, store: DocumentStore, limit: int = MAX_FACET_VALUES) -> dict[str, Any]:
    """How many assets matching a filter (as ``search`` takes it) hold each of the most
    frequent types, sub-types, tags and owners: ``{"facets": {name: [{"value", "count"}]},
    "paths": {name: the field to filter on}}``."""
    checked = validate_filter({} if query is None else query)
    _refuse_secret_paths(checked)
    counted = store.facets(checked, FACETS, limit)
    return {
        "facets": {
            name: [{"value": value, "count": count} for value, count in counted[name]]
            for name in FACETS
        },
        "paths": FACET_PATHS,
    }


# Paths no filter may name: the credentials and the server's bookkeeping.
HIDDEN_PATHS = (CREDENTIALS, SECRET_REF, REGISTRY_FIELD, VERSION_KEY)


def _refuse_secret_paths(query: Any) -> None:
    """A filter may not name the write-only credentials (or a field in them): matching on
    them would read them back one guess at a time."""
    if isinstance(query, list):
        for item in query:
            _refuse_secret_paths(item)
    elif isinstance(query, dict):
        for key, value in query.items():
            if isinstance(key, str) and key.split(".", 1)[0] in HIDDEN_PATHS:
                raise InvalidFilter(
                    f"'{key.split('.', 1)[0]}' is not searchable: {CREDENTIALS} is write-only, "
                    "and the others are the server's own.",
                    code="FIELD_NOT_SEARCHABLE",
                )
            _refuse_secret_paths(value)


def list_all(page: PageRequest, *, store: DocumentStore) -> Page:
    """Every asset, in asset_id order."""
    return _shown_page(store.find_page({}, page))


def _first_error(exc: ValidationError) -> str:
    return where_and_why(exc.errors()[0], "the asset") + "."
