"""The document store: a small interface, and the MongoDB adapter behind it.

One MongoDB client per process (module scope), so warm invocations reuse connections. With no
``MONGODB_URI`` the adapter runs on mongomock, in-process, for the local stack and the tests.
Driver errors become domain errors here.
"""

from __future__ import annotations

import logging
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from bson.errors import BSONError
from bson.objectid import ObjectId
from bson.regex import Regex
from pymongo import ASCENDING, MongoClient, ReadPreference, ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.errors import (
    DuplicateKeyError,
    ExecutionTimeout,
    OperationFailure,
    PyMongoError,
)

from assets_core import commit
from assets_core.config import get_settings
from assets_core.errors import (
    AlreadyExists,
    InvalidFilter,
    QueryTimeout,
    RevisionConflict,
    StoreUnavailable,
)
from assets_core.once import once
from assets_core.pagination import Page, PageRequest, take_page
from assets_core.ports import (  # noqa: F401  (DocumentStore: re-exported)
    REVISION,
    DocumentStore,
    Facet,
    FacetCounts,
    Versioned,
    etag_of,
)
from assets_core.storable import check_storable, check_update_storable

logger = logging.getLogger(__name__)
# A preview applies update operators to a scratch copy; a copy a crash left behind expires.
PREVIEW_SUFFIX = "__preview"
PREVIEW_TTL_SECONDS = 3600


class ReadOnlyStore(RuntimeError):
    """A write through the store of a function that connects as the read-only user: a bug in
    the function, never the client's doing."""


# Set for the length of a call to a read-only function (routes.READ_ONLY), so that the local
# stack and the tests, which run every function in one process, refuse its writes as the
# read-only database user would in AWS.
_READ_ONLY_CALL: ContextVar[bool] = ContextVar("read_only_call", default=False)


@contextmanager
def read_only_calls(read_only: bool) -> Iterator[None]:
    """Within: the stores refuse writes when ``read_only`` (index creation aside: the
    stores are built once per process, and locally a writer shares them)."""
    token = _READ_ONLY_CALL.set(read_only)
    try:
        yield
    finally:
        _READ_ONLY_CALL.reset(token)


class _Transaction:
    """The transaction in progress: its session, until a store call fails in it. The server
    then has aborted it, so the calls that follow (an error path's reads) run outside it,
    and it never commits."""

    def __init__(self, session: ClientSession) -> None:
        self.session = session
        self.failed = False


# The transaction in progress (``in_transaction``): every store call made within joins it.
_TRANSACTION: ContextVar[_Transaction | None] = ContextVar("mongo_transaction", default=None)
# What pymongo labels an error that running the whole transaction again may cure.
_TRANSIENT = ("TransientTransactionError", "UnknownTransactionCommitResult")
# A transaction that keeps meeting concurrent writers, or a failed store call, is run again
# this many times before the write gives up.
TRANSACTION_ATTEMPTS = 10
# The most documents a read inside a transaction asks for in its one batch.
MAX_TRANSACTION_BATCH = 100_000


def session() -> ClientSession | None:
    """The session of the transaction in progress, for each driver call (None: outside)."""
    current = _TRANSACTION.get()
    return None if current is None or current.failed else current.session


def _is_transient(exc: PyMongoError) -> bool:
    return any(exc.has_error_label(label) for label in _TRANSIENT)


def _in_live_transaction() -> bool:
    return session() is not None


def _fail_transaction() -> None:
    current = _TRANSACTION.get()
    if current is not None:
        current.failed = True


class _RunAgain(Exception):
    """The transaction must run again: a write conflict, or a store call failed in it."""


def in_transaction[T](work: Callable[[], T]) -> T:
    """Run ``work`` with every store call in one MongoDB transaction: its writes land
    together or none does. A write conflict with a concurrent transaction (the same
    document, or the same resource's sequence) runs ``work`` again on fresh reads; so does a
    store call that failed within it when ``work`` carried on regardless (its earlier writes
    were aborted with the transaction). ``work`` must therefore act only on the documents,
    or idempotently. An error ``work`` raises aborts the transaction and is raised. Within a
    transaction already, ``work`` joins it; on mongomock, which has none, it runs as it is."""
    if _TRANSACTION.get() is not None or is_emulated():
        return work()
    for attempt in range(TRANSACTION_ATTEMPTS):
        try:
            return _attempt(work)
        except _RunAgain:
            # Writers of one record that keep colliding spread out (full jitter).
            time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))  # noqa: S311
    raise RevisionConflict("The record kept changing while this write was made; try again.")


def _attempt[T](work: Callable[[], T]) -> T:
    with commit.pending() as waiting:
        try:
            result = _attempt_once(work)
        except BaseException:
            waiting.aborted()
            raise
    waiting.committed()
    return result


def _attempt_once[T](work: Callable[[], T]) -> T:
    try:
        with mongo_client().start_session() as started:
            # DocumentDB's address reads from secondaries; a transaction reads the primary.
            started.start_transaction(read_preference=ReadPreference.PRIMARY)
            current = _Transaction(started)
            token = _TRANSACTION.set(current)
            try:
                result = work()
            except PyMongoError as exc:
                if _is_transient(exc):
                    raise _RunAgain from exc
                raise
            finally:
                _TRANSACTION.reset(token)
            if current.failed:  # its writes went with the aborted transaction
                raise _RunAgain
            _commit(started)
            return result
    except (_RunAgain, StoreUnavailable):
        raise
    except PyMongoError as exc:
        if _is_transient(exc):
            raise _RunAgain from exc
        logger.error("The metadata store failed in a transaction", exc_info=exc)
        raise StoreUnavailable("The metadata store did not answer; try again.") from exc


def _commit(started: ClientSession) -> None:
    """Commit; a commit whose outcome is unknown is sent again (committing is idempotent),
    never the work: the write may have landed. Still unknown: the store is unavailable."""
    for _ in range(3):
        try:
            started.commit_transaction()
            return
        except PyMongoError as exc:
            if not exc.has_error_label("UnknownTransactionCommitResult"):
                raise
    logger.error("A transaction's commit kept an unknown outcome")
    raise StoreUnavailable("The metadata store did not confirm the write; read it, then retry.")


class _Deadline:
    """Time left for one query, shared by every regex match it runs."""

    def __init__(self, seconds: float) -> None:
        self.expires = time.monotonic() + seconds

    def left(self) -> float:
        return self.expires - time.monotonic()


class _DeadlinePattern:
    """A compiled pattern whose every search stops when the query's deadline passes."""

    def __init__(self, pattern: Any, deadline: _Deadline) -> None:
        self._pattern = pattern
        self._deadline = deadline

    def search(self, text: str) -> Any:
        left = self._deadline.left()
        if left <= 0:
            raise TimeoutError
        return self._pattern.search(text, timeout=left)


class DeadlineRegex(Regex):
    """A ``$regex`` for mongomock (which matches with Python code): it compiles with the
    ``regex`` module so that every match is bounded by the query's time limit, as
    ``maxTimeMS`` bounds it on a real server."""

    deadline: _Deadline

    def try_compile(self) -> Any:
        import regex  # only mongomock compiles patterns here; a real server matches them itself

        return _DeadlinePattern(regex.compile(self.pattern, self.flags), self.deadline)


# The ``regex`` module takes ``re``'s flag values.
_FLAG_OF_OPTION = {
    "i": re.IGNORECASE,
    "m": re.MULTILINE,
    "s": re.DOTALL,
    "x": re.VERBOSE,
}


def _bound_regexes(query: Any, deadline: _Deadline) -> Any:
    """Rewrite ``{"$regex": p, "$options": o}`` into deadline-bound patterns, recursively."""
    if isinstance(query, dict):
        if "$regex" in query and isinstance(query["$regex"], str):
            flags = 0
            for letter in query.get("$options", ""):
                flags |= _FLAG_OF_OPTION.get(letter, 0)
            bounded = DeadlineRegex(query["$regex"], flags)
            bounded.deadline = deadline
            rest = {k: _bound_regexes(v, deadline) for k, v in query.items()}
            rest.pop("$options", None)
            rest["$regex"] = bounded
            return rest
        return {k: _bound_regexes(v, deadline) for k, v in query.items()}
    if isinstance(query, list):
        return [_bound_regexes(item, deadline) for item in query]
    return query


def _object_ids(value: Any) -> Any:
    """``_id`` values as sent by clients (hex strings) turned into MongoDB ObjectIds."""
    if isinstance(value, str):
        if not ObjectId.is_valid(value):
            raise InvalidFilter(f"'{value}' is not a valid MongoID (24 hexadecimal digits).")
        return ObjectId(value)
    if isinstance(value, list):
        return [_object_ids(item) for item in value]
    if isinstance(value, dict):
        return {
            op: _object_ids(arg) if op in ("$eq", "$ne", "$in", "$nin") else arg
            for op, arg in value.items()
        }
    return value


class MongoDocumentStore:
    """A ``DocumentStore`` on one MongoDB collection (DocumentDB-compatible queries only)."""

    def __init__(
        self,
        collection: Collection[dict[str, Any]],
        *,
        key_field: str,
        max_time_ms: int,
        emulated: bool,
        show_id: bool = False,
        read_only: bool = False,
    ) -> None:
        self.collection = collection
        self.read_only = read_only
        self.key_field = key_field
        self.max_time_ms = max_time_ms
        self.emulated = emulated
        # MongoDB's _id is hidden unless a service exposes it (as a string); the revision
        # is never part of a document read.
        self.projection: dict[str, int] = {REVISION: 0} if show_id else {"_id": 0, REVISION: 0}
        self.show_id = show_id
        self._preview_expiry_ready = False  # the scratch collection's TTL index, once

    def _out(self, document: dict[str, Any] | None) -> dict[str, Any] | None:
        if document is not None and "_id" in document:
            document["_id"] = str(document["_id"])
        return document

    def _versioned(self, document: dict[str, Any] | None) -> Versioned | None:
        if document is None:
            return None
        revision = document.pop(REVISION, 0)
        if not self.show_id:
            document.pop("_id", None)
        return Versioned(self._out(document) or {}, revision if isinstance(revision, int) else 0)

    def _at_revision(self, key: str, revision: int) -> dict[str, Any]:
        """The filter of this key at this revision (0: stored before revisions existed)."""
        if revision == 0:
            return {self.key_field: key, REVISION: {"$exists": False}}
        return {self.key_field: key, REVISION: revision}

    def _prepare(self, query: Mapping[str, Any]) -> dict[str, Any]:
        prepared: dict[str, Any] = dict(query)
        if self.show_id and "_id" in prepared:
            prepared["_id"] = _object_ids(prepared["_id"])
        if self.emulated:
            prepared = _bound_regexes(prepared, _Deadline(self.max_time_ms / 1000))
        return prepared

    def _writable(self) -> None:
        """A read-only function's store writes nothing: its database user could not, and a
        write reaching the database would be a bug answered as a refused query. Nor does a
        write after a store call failed in the transaction in progress: it would land alone,
        outside the aborted transaction; the transaction runs again instead."""
        current = _TRANSACTION.get()
        if current is not None and current.failed:
            raise _RunAgain
        if self.read_only or _READ_ONLY_CALL.get():
            raise ReadOnlyStore(
                f"This function connects as the read-only database user; it cannot write to "
                f"{self.collection.name}."
            )

    def _run(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except PyMongoError as exc:
            if _in_live_transaction():
                if _is_transient(exc):  # the transaction runs again (``in_transaction``)
                    raise
                _fail_transaction()
            raise self._refused(exc) from exc
        except (TimeoutError, BSONError) as exc:
            raise self._refused(exc) from exc

    def _refused(self, exc: Exception) -> Exception:
        """The domain error of a driver error."""
        if isinstance(exc, DuplicateKeyError):
            return AlreadyExists(f"A document with this {self.key_field} already exists.")
        if isinstance(exc, (ExecutionTimeout, TimeoutError)):
            return QueryTimeout(
                f"The query ran longer than {self.max_time_ms} ms and was stopped; "
                "narrow the filter or simplify its regular expressions."
            )
        if isinstance(exc, OperationFailure):
            return InvalidFilter(f"The database refused the query: {exc.details or exc}.")
        if isinstance(exc, BSONError):
            # Something the driver cannot encode (checked before every write and query; this
            # is the net under those checks).
            return InvalidFilter(f"The database cannot encode this request: {exc}.")
        # The driver's text names the servers' addresses: it goes to the log, not the client.
        logger.error("The metadata store failed", exc_info=exc)
        return StoreUnavailable("The metadata store did not answer; try again.")

    def insert(self, document: Mapping[str, Any]) -> None:
        """Insert a document at revision 1; ``AlreadyExists`` when its key is taken."""
        self._writable()
        check_storable(document)
        self._run(lambda: self.collection.insert_one({**document, REVISION: 1}, session=session()))

    def get(self, key: str) -> dict[str, Any] | None:
        """The document with this key, without MongoDB's ``_id``."""
        return self.find_one({self.key_field: key})

    def read(self, key: str) -> Versioned | None:
        """The document with this key and its revision."""
        return self.read_one({self.key_field: key})

    def read_one(self, query: Mapping[str, Any]) -> Versioned | None:
        """The first document matching a (validated) filter, and its revision."""
        prepared = self._prepare(query)
        found: dict[str, Any] | None = self._run(
            lambda: self.collection.find_one(
                prepared, max_time_ms=self.max_time_ms, session=session()
            )
        )
        return self._versioned(found)

    def find_one(self, query: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first document matching a (validated) filter."""
        prepared = self._prepare(query)
        found: dict[str, Any] | None = self._run(
            lambda: self.collection.find_one(
                prepared, self.projection, max_time_ms=self.max_time_ms, session=session()
            )
        )
        return self._out(found)

    def replace(self, key: str, document: Mapping[str, Any], *, revision: int) -> bool:
        """Replace the whole document with this key if it is still at ``revision`` (one
        atomic, conditional write); False when there is none, ``RevisionConflict`` when
        another write came first. A document the database cannot store is refused before the
        write, so the stored one stays whole."""
        self._writable()
        check_storable(document)
        # A replacement keeps the record's _id (a client's or a read's string form never
        # replaces it).
        replacement = {k: v for k, v in document.items() if k != "_id"}
        replacement[REVISION] = revision + 1
        result = self._run(
            lambda: self.collection.replace_one(
                self._at_revision(key, revision), replacement, session=session()
            )
        )
        if result.matched_count:
            return True
        return self._conflict_or_missing(key)

    def _conflict_or_missing(self, key: str) -> bool:
        current = self.read(key)
        if current is None:
            return False
        raise RevisionConflict(
            f"The {self.key_field} '{key}' changed while this write was prepared "
            f"(it is now at revision {current.revision}); read it again and retry.",
            current=current.revision,
        )

    def update(
        self, key: str, update: Mapping[str, Any], *, revision: int | None = None
    ) -> dict[str, Any] | None:
        """Apply update operators to the document with this key (at ``revision`` when given,
        else ``RevisionConflict``), one atomic write that bumps the revision; the result, or
        None when there is no such document."""
        self._writable()
        check_update_storable(update)
        if any(path.split(".")[0] == REVISION for fields in update.values() for path in fields):
            raise InvalidFilter(f"'{REVISION}' is the server's revision; it cannot be updated.")
        operators = {op: dict(fields) for op, fields in update.items()}
        operators.setdefault("$inc", {})[REVISION] = 1
        where = {self.key_field: key} if revision is None else self._at_revision(key, revision)
        updated: dict[str, Any] | None = self._run(
            lambda: self.collection.find_one_and_update(
                where,
                operators,
                projection=self.projection,
                return_document=ReturnDocument.AFTER,
                session=session(),
            )
        )
        if updated is None and revision is not None:
            self._conflict_or_missing(key)
        return self._out(updated)

    def preview_update(
        self, document: Mapping[str, Any], update: Mapping[str, Any]
    ) -> dict[str, Any]:
        """What ``update``'s operators make of ``document``, computed by the database itself
        on a scratch copy (so the result can be checked before the real write); the
        document's own record is not touched. An update the database refuses is
        ``InvalidFilter``, as it would be on the record."""
        self._writable()
        check_update_storable(update)
        scratch = self.collection.database[self.collection.name + PREVIEW_SUFFIX]
        marker = f"preview-{uuid.uuid4().hex}"
        copy = {k: v for k, v in document.items() if k != "_id"}
        copy.update({"_id": marker, "_preview_at": datetime.now(UTC)})
        self._ensure_preview_expiry(scratch)
        self._run(lambda: scratch.insert_one(copy, session=session()))
        try:
            previewed: dict[str, Any] | None = self._run(
                lambda: scratch.find_one_and_update(
                    {"_id": marker},
                    dict(update),
                    return_document=ReturnDocument.AFTER,
                    session=session(),
                )
            )
        finally:
            self._run(lambda: scratch.delete_one({"_id": marker}, session=session()))
        result = dict(previewed or copy)
        result.pop("_preview_at", None)
        result.pop("_id", None)
        if "_id" in document:
            result["_id"] = document["_id"]
        return result

    def _ensure_preview_expiry(self, scratch: Collection[dict[str, Any]]) -> None:
        if self._preview_expiry_ready:
            return
        self._run(
            lambda: scratch.create_index("_preview_at", expireAfterSeconds=PREVIEW_TTL_SECONDS)
        )
        self._preview_expiry_ready = True

    def delete(self, key: str, *, revision: int | None = None) -> bool:
        """Delete the document with this key (only at ``revision`` when given, else
        ``RevisionConflict``); False when there is none."""
        self._writable()
        where = {self.key_field: key} if revision is None else self._at_revision(key, revision)
        result = self._run(lambda: self.collection.delete_one(where, session=session()))
        if result.deleted_count:
            return True
        return revision is not None and self._conflict_or_missing(key)

    def step(self, key: str, counter: str) -> int:
        """Add one to the ``counter`` of the document with this key (created at 1), in the
        transaction in progress; the new count. Two transactions that step one document at
        once conflict, and the second runs again after the first: a counter serializes
        the writes that step it, and numbers them in commit order."""
        self._writable()
        try:
            found: dict[str, Any] = self._run(
                lambda: self.collection.find_one_and_update(
                    {self.key_field: key},
                    {"$inc": {counter: 1}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                    projection={"_id": 0, counter: 1},
                    session=session(),
                )
            )
        except AlreadyExists:  # a concurrent first step: in a transaction, a write conflict
            if _TRANSACTION.get() is None:
                raise
            raise _RunAgain from None
        return int(found[counter])

    def put(self, key: str, document: Mapping[str, Any]) -> None:
        """Write the whole document with this key, inserted or replacing what is there (one
        atomic write; for records that mirror another, which is the one compared and
        written conditionally)."""
        self._writable()
        check_storable(document)
        replacement = {k: v for k, v in document.items() if k not in ("_id", REVISION)}
        replacement[self.key_field] = key
        self._run(
            lambda: self.collection.replace_one(
                {self.key_field: key}, replacement, upsert=True, session=session()
            )
        )

    def update_many(self, query: Mapping[str, Any], update: Mapping[str, Any]) -> int:
        """Apply update operators to every document matching a filter; how many changed."""
        self._writable()
        check_update_storable(update)
        prepared = self._prepare(query)
        result = self._run(
            lambda: self.collection.update_many(prepared, dict(update), session=session())
        )
        return int(result.modified_count)

    def delete_many(self, query: Mapping[str, Any]) -> int:
        """Delete every document matching a filter; how many went."""
        self._writable()
        prepared = self._prepare(query)
        result = self._run(lambda: self.collection.delete_many(prepared, session=session()))
        return int(result.deleted_count)

    def find_page(self, query: Mapping[str, Any], page: PageRequest) -> Page:
        """One page of documents matching a filter, in key order."""
        prepared = self._prepare(query)
        if page.after is not None:
            prepared = {"$and": [prepared, {self.key_field: {"$gt": page.after}}]}

        def fetch() -> Page:
            cursor = (
                self.collection.find(prepared, self.projection, session=session())
                .sort(self.key_field, ASCENDING)
                .limit(page.limit + 1)
                .max_time_ms(self.max_time_ms)
            )
            try:  # read lazily: the page ends at its count or its bytes, whichever comes first
                documents = (d for d in cursor if self._out(d) is not None)
                return take_page(documents, page.limit, self.key_field)
            finally:
                cursor.close()

        found: Page = self._run(fetch)
        return found

    def find(
        self,
        query: Mapping[str, Any],
        *,
        sort: Sequence[tuple[str, int]] = (),
        skip: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Documents matching a filter in a chosen order, after ``skip``, at most ``limit``;
        the key breaks ties so the order is stable."""
        prepared = self._prepare(query)
        # A sort that names a path twice is no sort MongoDB keeps (mongomock takes the first,
        # a wire server the last): the key breaks ties only when the sort does not name it.
        order = list(sort)
        if all(path != self.key_field for path, _ in order):
            order.append((self.key_field, ASCENDING))

        def fetch() -> list[dict[str, Any]]:
            cursor = self.collection.find(prepared, self.projection, session=session())
            cursor = cursor.sort(order).skip(skip)
            cursor = cursor.limit(limit).max_time_ms(self.max_time_ms)
            if session() is not None:
                # DocumentDB keeps no cursor open inside a transaction: everything in the
                # first batch (up to the server's 16 MB), no getMore.
                cursor = cursor.batch_size(min(limit, MAX_TRANSACTION_BATCH))
            return [document for document in cursor if self._out(document) is not None]

        found: list[dict[str, Any]] = self._run(fetch)
        return found

    def count(self, query: Mapping[str, Any]) -> int:
        """How many documents match a filter."""
        prepared = self._prepare(query)
        counted: int = self._run(
            lambda: self.collection.count_documents(
                prepared, maxTimeMS=self.max_time_ms, session=session()
            )
        )
        return counted

    def facets(
        self, query: Mapping[str, Any], facets: Mapping[str, Facet], limit: int
    ) -> FacetCounts:
        """The ``limit`` most frequent values of each facet over the documents matching a
        filter, with how many documents hold each (ties in value order): one aggregation per
        facet (DocumentDB 5.0 has no ``$facet``), each under the store's time limit."""
        prepared = self._prepare(query)

        def run() -> FacetCounts:
            counted: FacetCounts = {}
            for name, facet in facets.items():
                pipeline = [{"$match": prepared}, *_facet_stages(facet, limit)]
                rows = self.collection.aggregate(
                    pipeline, maxTimeMS=self.max_time_ms, session=session()
                )
                counted[name] = [(row["_id"], int(row["count"])) for row in rows]
            return counted

        found: FacetCounts = self._run(run)
        return found

    def ensure_indexes(self, paths: Sequence[str], unique: Sequence[str] = ()) -> None:
        """Create the unique key index and one index per queried path (idempotent)."""
        collection = self.collection

        if self.read_only:
            return  # the functions that write create them

        def create() -> None:
            collection.create_index(self.key_field, unique=True)
            for path in unique:
                # Unique where set: documents without the field (or with "") do not clash.
                collection.create_index(
                    path, unique=True, partialFilterExpression={path: {"$gt": ""}}
                )
            for path in paths:
                collection.create_index(path)

        self._run(create)


# MONGODB_URI=mongomock:// asks for the in-process emulator by name.
MONGOMOCK_SCHEME = "mongomock://"


@once
def mongo_client() -> MongoClient[dict[str, Any]]:
    """The process's one MongoDB client: ``MONGODB_URI``, else (or for ``mongomock://``)
    in-process mongomock."""
    settings = get_settings()
    uri, options = settings.mongodb_uri, dict[str, Any]()
    if uri.startswith(MONGOMOCK_SCHEME):
        uri = ""
    if not uri and settings.mongodb_secret_arn:
        from assets_core.stores.secrets import mongodb_uri_from_secret, secret_string

        uri, options = mongodb_uri_from_secret(secret_string(settings.mongodb_secret_arn))
    if uri:
        return MongoClient(
            uri,
            appname=settings.service_name,
            serverSelectionTimeoutMS=5000,
            connectTimeoutMS=5000,
            retryWrites=False,  # Amazon DocumentDB does not support retryable writes.
            **options,
        )
    import mongomock  # only in the local stack and tests; never shipped to Lambda

    client: MongoClient[dict[str, Any]] = mongomock.MongoClient()
    return client


def is_emulated() -> bool:
    """True when the documents live in mongomock, in this process."""
    settings = get_settings()
    uri = settings.mongodb_uri
    return not settings.mongodb_secret_arn and (not uri or uri.startswith(MONGOMOCK_SCHEME))


def collection_store(name: str, *, key_field: str, show_id: bool = False) -> MongoDocumentStore:
    """A store on one collection of the configured database."""
    settings = get_settings()
    collection = mongo_client()[settings.mongodb_database][name]
    return MongoDocumentStore(
        collection,
        key_field=key_field,
        max_time_ms=settings.query_max_time_ms,
        emulated=is_emulated(),
        show_id=show_id,
        read_only=settings.mongodb_read_only,
    )


def _facet_stages(facet: Facet, limit: int) -> list[dict[str, Any]]:
    """Count each string value once per document: the arrays on the way opened, each
    document's values gathered into a set, then documents counted per value. Only the stages
    DocumentDB 5.0 runs ($match, $unwind, $group with $addToSet, $sort, $limit)."""
    field = "$" + facet.path
    once: list[dict[str, Any]] = [{"$group": {"_id": field, "count": {"$sum": 1}}}]
    if facet.unwind:  # a document may hold a value in several places
        once = [
            {"$group": {"_id": "$_id", "values": {"$addToSet": field}}},
            {"$unwind": "$values"},
            {"$group": {"_id": "$values", "count": {"$sum": 1}}},
        ]
    return [
        *({"$unwind": "$" + path} for path in facet.unwind),
        # a string, not an array holding strings (which $type "string" matches too)
        {"$match": {facet.path: {"$type": "string", "$ne": "", "$not": {"$type": "array"}}}},
        *once,
        {"$sort": {"count": -1, "_id": 1}},
        {"$limit": limit},
    ]
