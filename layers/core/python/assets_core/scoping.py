"""Whose records a caller sees and may change, kept by the stores themselves.

Every service reads and writes its collection through a ``CallerScopedStore``: it acts for
the caller of the work in progress (``identity.current_caller``), so no read path can forget
the rule.

- **Visibility** (collections of private records: registry assets, Assets DB records): the
  caller's condition (``identity.visible_to``) is added to the query itself, by id, by type,
  by filter, for counts and pages; a record the caller may not see is simply not found.
- **Ownership**: updating, replacing or deleting a record needs its owner (``created_by``) or
  an admin, else ``Forbidden``; a record the caller cannot see is not found instead, so its
  existence does not leak.
- **Server-set fields**: ``created_by``/``created_at`` on insert, ``updated_by``/``updated_at``
  on every write, and a private record's ``visibility`` when the client gave none. Work the
  system does on its own (ingest finishing a stored file, the janitor) stamps nothing.

Integrity checks that must see every record (is this key taken, does another record still
name this object) use ``unscoped``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from assets_core.errors import Forbidden
from assets_core.identity import (
    PRIVATE,
    SYSTEM,
    VISIBILITY,
    current_caller,
    now_iso,
    sees,
    stamp_of,
    visible_to,
    without_server_fields,
)
from assets_core.pagination import Page, PageRequest
from assets_core.ports import DocumentStore, Facet, FacetCounts, Versioned


class CallerScopedStore[S: DocumentStore]:
    """A ``DocumentStore`` that reads, writes and stamps as the current caller."""

    def __init__(
        self,
        store: S,
        *,
        private_records: bool,
        default_visibility: Callable[[], str] = lambda: PRIVATE,
        what: str = "record",
        live: Mapping[str, Any] | None = None,
    ) -> None:
        self.unscoped = store
        # What a record must match to be in any read or change at all (not soft-deleted).
        self.live = dict(live or {})
        self.key_field = store.key_field
        self.private_records = private_records
        self.default_visibility = default_visibility
        self.what = what

    # -- reads: the caller's condition goes into the query ----------------------------------

    def where(self, query: Mapping[str, Any]) -> dict[str, Any]:
        """``query`` narrowed to the records the caller may see: one flat document where the
        conditions' fields do not overlap (the fields of one document are all required,
        as ``$and`` would require them), so a server's planner finds the query's indexed
        fields at the top (SecantusDB gives up on indexes for a query under ``$and``);
        ``$and`` of the rest where they overlap."""
        merged = dict(query)
        rest: list[dict[str, Any]] = []
        visible = visible_to(current_caller()) if self.private_records else None
        for condition in (visible, self.live):
            if not condition:
                continue
            if merged.keys() & condition.keys():
                rest.append(dict(condition))
            else:
                merged.update(condition)
        return {"$and": [merged, *rest]} if rest else merged

    def get(self, key: str) -> dict[str, Any] | None:
        """The record by its key, if the caller may see it: read by key alone (a unique
        index, on any server) and the visibility rule checked on it."""
        found = self.unscoped.find_one({self.key_field: key, **self.live})
        return found if found is not None and self._sees(found) else None

    def read(self, key: str) -> Versioned | None:
        found = self.unscoped.read_one({self.key_field: key, **self.live})
        return found if found is not None and self._sees(found.document) else None

    def _sees(self, document: Mapping[str, Any]) -> bool:
        return not self.private_records or sees(current_caller(), document)

    def find_one(self, query: Mapping[str, Any]) -> dict[str, Any] | None:
        return self.unscoped.find_one(self.where(query))

    def read_one(self, query: Mapping[str, Any]) -> Versioned | None:
        return self.unscoped.read_one(self.where(query))

    def find_page(self, query: Mapping[str, Any], page: PageRequest) -> Page:
        return self.unscoped.find_page(self.where(query), page)

    def count(self, query: Mapping[str, Any]) -> int:
        return self.unscoped.count(self.where(query))

    def facets(
        self, query: Mapping[str, Any], facets: Mapping[str, Facet], limit: int
    ) -> FacetCounts:
        return self.unscoped.facets(self.where(query), facets, limit)

    def find(
        self,
        query: Mapping[str, Any],
        *,
        sort: Sequence[tuple[str, int]] = (),
        skip: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        return self.unscoped.find(self.where(query), sort=sort, skip=skip, limit=limit)

    # -- writes: stamped, and only by the owner or an admin ---------------------------------

    def insert(self, document: Mapping[str, Any]) -> None:
        """Insert the record stamped as the caller's; a ``dict`` given is stamped in place,
        so what the caller answers is what was stored."""
        stamped = without_server_fields(document)
        if self.private_records and stamped.get(VISIBILITY) is None:
            stamped[VISIBILITY] = self.default_visibility()
        by, at = stamp_of(current_caller()), now_iso()
        stamped.update(created_by=by, created_at=at, updated_by=by, updated_at=at)
        self.unscoped.insert(stamped)
        if isinstance(document, dict):
            document.clear()
            document.update(stamped)

    def replace(self, key: str, document: Mapping[str, Any], *, revision: int) -> bool:
        """Replace the record, keeping who created it and when."""
        current = self._changeable(key)
        if current is None:
            return False
        replacement = without_server_fields(document)
        if self.private_records and replacement.get(VISIBILITY) is None:
            replacement[VISIBILITY] = current.get(VISIBILITY) or self.default_visibility()
        for name in ("created_by", "created_at"):
            if name in current:
                replacement[name] = current[name]
        replacement.update(self._updated())
        if not self.unscoped.replace(key, replacement, revision=revision):
            return False
        if isinstance(document, dict):  # as ``insert``: the caller answers what was stored
            document.clear()
            document.update(replacement)
        return True

    def update(
        self, key: str, update: Mapping[str, Any], *, revision: int | None = None
    ) -> dict[str, Any] | None:
        current = self._changeable(key)
        if current is None:
            return None
        operators = {op: dict(fields) for op, fields in update.items()}
        stamps = self._updated()
        if stamps:
            operators.setdefault("$set", {}).update(stamps)
        return self.unscoped.update(key, operators, revision=revision)

    def preview_update(
        self, document: Mapping[str, Any], update: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self.unscoped.preview_update(document, update)

    def delete(self, key: str, *, revision: int | None = None) -> bool:
        if self._changeable(key) is None:
            return False
        return self.unscoped.delete(key, revision=revision)

    def changeable(self, key: str) -> dict[str, Any] | None:
        """The record, if the caller may change it (``_changeable``): for a write to check
        before it spends anything on a change it could not make."""
        return self._changeable(key)

    def _changeable(self, key: str) -> dict[str, Any] | None:
        """The stored record the caller may change; None when it is missing or hidden from
        them (so the write answers 'not found'); ``Forbidden`` when they see it but may not
        change it. Ownership never changes, so checking it before the write is safe."""
        caller = current_caller()
        found = self.unscoped.find_one({self.key_field: key, **self.live})
        if found is None or (self.private_records and not sees(caller, found)):
            return None
        if not caller.may_change(found.get("created_by")):
            raise Forbidden(
                f"Only the {self.what}'s owner or an assets-admin may change it "
                f"(it was created by another caller)."
            )
        return found

    @staticmethod
    def _updated() -> dict[str, str]:
        caller = current_caller()
        if caller is SYSTEM:  # the system's own bookkeeping is nobody's update
            return {}
        return {"updated_by": stamp_of(caller), "updated_at": now_iso()}


def unscoped(store: DocumentStore) -> DocumentStore:
    """The store under a caller's scope, for checks that must see every record."""
    inner = getattr(store, "unscoped", None)
    return inner if inner is not None else store
