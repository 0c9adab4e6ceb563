"""The audit trail on MongoDB and its outbox's publisher on EventBridge (``logic/audit.py``).

Three collections: ``audit`` (the records, append-only), ``outbox`` (one entry per record
until the bus has taken it) and ``audit_streams`` (each resource's sequence counter). A
record, its outbox entry and its sequence step are written in the transaction of the write
they describe; two writes of one resource at once both step its counter, so one of them
runs again after the other (a write conflict) and their sequence is their commit order.

Publishing takes a short lease on the stream (``outbox_leases``): one drainer per resource at
a time, oldest entry first; an entry is deleted once the bus took it, and a stream stops at
the first entry the bus refused, to go on (in order) at the next drain.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from pymongo import ASCENDING

from assets_core.collections import AUDIT, AUDIT_STREAMS, OUTBOX, Collection
from assets_core.config import get_settings
from assets_core.errors import AlreadyExists
from assets_core.ports import EventPublisher
from assets_core.stores.documents import MongoDocumentStore, collection_store, in_transaction

logger = logging.getLogger(__name__)

# PutEvents takes at most 10 entries per call.
BATCH = 10
LEASE_SECONDS = 60
# Key order is newest first: the key counts down from here in nanoseconds.
_KEY_TOP = 1 << 63
LEASES = Collection("outbox_leases", "stream")


def newest_first_key() -> str:
    """A record's key: later records sort before earlier ones; a random tail for ties."""
    return f"{_KEY_TOP - time.time_ns():019d}-{uuid.uuid4().hex[:12]}"


class MongoAuditTrail:
    """An ``AuditTrail`` on the audit, outbox and stream collections."""

    def __init__(
        self,
        *,
        audit: MongoDocumentStore,
        outbox: MongoDocumentStore,
        streams: MongoDocumentStore,
        leases: MongoDocumentStore,
        publisher: EventPublisher | None,
    ) -> None:
        self.audit = audit
        self.outbox = outbox
        self.streams = streams
        self.leases = leases
        self.publisher = publisher

    def atomically[T](self, work: Callable[[], T]) -> T:
        return in_transaction(work)

    def write(
        self, stream: str, seq: int, record: Mapping[str, Any], source: str, detail_type: str
    ) -> None:
        """The record and its outbox entry, in the transaction in progress."""
        self.audit.insert({AUDIT.key_field: newest_first_key(), **record})
        self.outbox.insert(
            {
                OUTBOX.key_field: f"{stream}#{seq:012d}",
                "stream": stream,
                "seq": seq,
                "source": source,
                "detail_type": detail_type,
                "record": dict(record),
            }
        )

    def step(self, stream: str) -> int:
        """The stream's next sequence number (its counter stepped in this transaction)."""
        return self.streams.step(stream, "seq")

    # -- publishing --------------------------------------------------------------------------

    def publish(
        self,
        streams: Iterable[str] | None = None,
        *,
        max_batches: int | None = None,
        seconds: float | None = None,
    ) -> int:
        """Publish the outbox entries of these streams (None: of every stream), oldest first,
        at most ``max_batches`` batches of each, for at most about ``seconds``; how many the
        bus took. Never raises: what is not published stays for the next drain."""
        until = None if seconds is None else time.monotonic() + seconds
        if self.publisher is None:
            return 0
        sent = 0
        try:
            targets = list(dict.fromkeys(streams)) if streams is not None else self.pending()
        except Exception:
            logger.warning("The outbox could not be read; its events wait", exc_info=True)
            return 0
        for stream in targets:
            if _past(until):
                break
            try:
                sent += self._drain(stream, max_batches, until)
            except Exception:
                logger.warning(
                    "Events of a stream were not published; they stay in the outbox",
                    extra={"stream": stream},
                    exc_info=True,
                )
        return sent

    def pending(self, limit: int = 10_000) -> list[str]:
        """The streams with entries in the outbox, in key order."""
        entries = self.outbox.find({}, sort=[(OUTBOX.key_field, ASCENDING)], limit=limit)
        return list(dict.fromkeys(str(entry["stream"]) for entry in entries))

    def waiting(self) -> int:
        """How many entries wait in the outbox."""
        return self.outbox.count({})

    def _drain(self, stream: str, max_batches: int | None, until: float | None) -> int:
        token = self._lease(stream)
        if token is None:
            return 0  # another drainer has it, in order
        sent = 0
        batches = 0
        try:
            while (max_batches is None or batches < max_batches) and not _past(until):
                if batches and not self._renew(stream, token):
                    logger.warning(
                        "An outbox lease ran out while publishing; another drainer goes on",
                        extra={"stream": stream},
                    )
                    return sent
                batches += 1
                entries = self.outbox.find(
                    {"stream": stream}, sort=[(OUTBOX.key_field, ASCENDING)], limit=BATCH
                )
                if not entries:
                    return sent
                assert self.publisher is not None
                taken = self.publisher.put([_event(entry) for entry in entries])
                done = 0
                while done < len(entries) and done < len(taken) and taken[done]:
                    done += 1
                if done:
                    keys = [entry[OUTBOX.key_field] for entry in entries[:done]]
                    self.outbox.delete_many({OUTBOX.key_field: {"$in": keys}})
                    sent += done
                if done < len(entries):
                    logger.warning(
                        "The event bus refused an event; it is retried at the next drain",
                        extra={"stream": stream, "refused": len(entries) - done},
                    )
                    return sent
            return sent
        finally:
            self._release(stream, token)

    def _lease(self, stream: str) -> str | None:
        token = uuid.uuid4().hex
        now = time.time()
        try:
            self.leases._run(
                lambda: self.leases.collection.update_one(
                    {"stream": stream, "until": {"$lt": now}},
                    {"$set": {"until": now + LEASE_SECONDS, "token": token}},
                    upsert=True,
                )
            )
        except AlreadyExists:
            return None
        return token

    def _renew(self, stream: str, token: str) -> bool:
        """Extend this drainer's lease; False when it ran out and another took it."""
        result = self.leases._run(
            lambda: self.leases.collection.update_one(
                {"stream": stream, "token": token, "until": {"$gt": time.time()}},
                {"$set": {"until": time.time() + LEASE_SECONDS}},
            )
        )
        return bool(result.matched_count)

    def _release(self, stream: str, token: str) -> None:
        self.leases._run(
            lambda: self.leases.collection.update_one(
                {"stream": stream, "token": token}, {"$set": {"until": 0.0}}
            )
        )


def _past(until: float | None) -> bool:
    return until is not None and time.monotonic() > until


def _event(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "Source": entry["source"],
        "DetailType": entry["detail_type"],
        "Detail": json.dumps(entry["record"], separators=(",", ":"), default=str),
    }


class EventBridgePublisher:
    """An ``EventPublisher`` on one EventBridge bus; ``client`` is the EventBridge client or
    what makes it, on first use (so a function loads botocore only once it publishes)."""

    def __init__(self, client: Any, bus: str) -> None:
        self._client = client
        self.bus = bus

    @property
    def client(self) -> Any:
        if callable(self._client) and not hasattr(self._client, "put_events"):
            self._client = self._client()
        return self._client

    def put(self, entries: Sequence[Mapping[str, Any]]) -> list[bool]:
        answer = self.client.put_events(
            Entries=[{**entry, "EventBusName": self.bus} for entry in entries]
        )
        return ["ErrorCode" not in result for result in answer.get("Entries", [])]


@lru_cache(maxsize=1)
def events_client() -> Any:
    """EventBridge, with short timeouts and no retry: a publish in a request must not hold
    it for long (what it does not publish, the outbox function does, a minute later).
    ``AWS_ENDPOINT_URL_EVENTBRIDGE`` points it at a local stand-in."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=1, read_timeout=3, retries={"max_attempts": 1, "mode": "standard"}
    )
    return boto3.client("events", config=config)


def audit_stores() -> tuple[MongoDocumentStore, ...]:
    """The audit trail's collections, with their indexes."""
    found = []
    for collection in (AUDIT, OUTBOX, AUDIT_STREAMS, LEASES):
        store = collection_store(collection.name, key_field=collection.key_field)
        store.ensure_indexes(collection.indexed, unique=collection.unique)
        found.append(store)
    return tuple(found)


def audit_trail() -> MongoAuditTrail:
    """The process's audit trail, publishing to ``EVENT_BUS_NAME`` (none when unset)."""
    audit, outbox, streams, leases = audit_stores()
    bus = get_settings().event_bus_name
    publisher = EventBridgePublisher(events_client, bus) if bus else None
    return MongoAuditTrail(
        audit=audit, outbox=outbox, streams=streams, leases=leases, publisher=publisher
    )
