"""Read-modify-write without lost updates, for every service's update routes.

Each stored record has a revision (its ``ETag``). An update reads the record, builds the new
document from it, and writes it only over the revision it read. Without ``If-Match`` a write
that lost the race is rebuilt from the newer record and tried again, so no writer's change is
ever overwritten; with ``If-Match`` a record that is no longer at a revision the caller named
is a 409, before or during the write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assets_core.errors import AlreadyExists, InvalidInput, RevisionConflict
from assets_core.ports import DocumentStore, Versioned, etag_of

# Rebuilt this many times before a write without If-Match gives up (a record written by
# several clients at once every few milliseconds).
MAX_ATTEMPTS = 8
MAX_HEADER_BYTES = 1024


@dataclass(frozen=True)
class Precondition:
    """An ``If-Match`` header: ``*`` (any current revision) or strong ETags (RFC 9110: a weak
    ``W/"..."`` tag never matches)."""

    tags: tuple[str, ...] | None  # None: "*"

    @classmethod
    def parse(cls, header: str | None) -> Precondition | None:
        if header is None:
            return None
        text = header.strip()
        if len(text.encode()) > MAX_HEADER_BYTES:
            raise InvalidInput("If-Match is too long.", code="INVALID_IF_MATCH")
        if text == "*":
            return cls(None)
        tags = tuple(tag.strip() for tag in text.split(",") if tag.strip())
        if not tags or any(not _is_entity_tag(tag) for tag in tags):
            raise InvalidInput(
                "If-Match must be '*' or ETags as the record's reads answer them "
                '(for example If-Match: "3").',
                code="INVALID_IF_MATCH",
            )
        return cls(tags)

    def check(self, current: Versioned, what: str) -> None:
        if self.tags is not None and current.etag not in self.tags:
            raise stale(what, current.revision)


def _is_entity_tag(tag: str) -> bool:
    body = tag.removeprefix("W/")
    return len(body) >= 2 and body[0] == body[-1] == '"' and '"' not in body[1:-1]


def stale(what: str, current: int | None) -> RevisionConflict:
    now = f" (it is now {etag_of(current)})" if current is not None else ""
    return RevisionConflict(
        f"{what} changed since the revision If-Match names{now}; read it again, "
        "then send the change with its new ETag.",
        current=current,
    )


def modify[T](
    store: DocumentStore,
    key: str,
    write: Callable[[Versioned], T],
    *,
    precondition: Precondition | None,
    missing: Callable[[], Exception],
    what: str,
) -> tuple[T, int]:
    """Read the record with this key, then ``write`` over the revision read (``write``
    raises ``RevisionConflict`` when the record moved on); the write's result and the
    record's new revision."""
    for _ in range(MAX_ATTEMPTS):
        current = store.read(key)
        if current is None:
            raise missing()
        if precondition is not None:
            precondition.check(current, what)
        try:
            return write(current), current.revision + 1
        except RevisionConflict as exc:
            if precondition is not None and precondition.tags is not None:
                raise stale(what, exc.current) from None
    raise RevisionConflict(
        f"{what} kept changing while this update was written ({MAX_ATTEMPTS} tries); try again."
    )


def insert_new(
    store: DocumentStore, document: dict[str, Any], taken: Callable[[], AlreadyExists]
) -> dict[str, Any]:
    """Insert a document at revision 1; when its key (or another unique field) is already
    stored, nothing is written and ``taken()`` (the service's own message) is raised."""
    try:
        store.insert(document)
    except AlreadyExists:
        raise taken() from None
    return document
