"""The local stack's change events: LocalStack's EventBridge, with the bus the stack creates
in AWS and a rule that delivers every change event (``source`` prefixed
``assets-registry.``) to a queue, as a user's rule would deliver them to a pipeline. The
event log drains that queue in the background and keeps the events, which ``GET
/local/events`` lists (an admin's token; newest last)."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

import boto3

from assets_core.logic.audit import SOURCE_PREFIX

log = logging.getLogger("local.events")
LOCAL_BUS = "assets-registry-events"
# Each bus's log has a queue of its own (stacks sharing one LocalStack never take each
# other's events).
QUEUE_SUFFIX = "-local-log"
RULE = "assets-registry-every-change"
KEEP = 10_000  # the newest events kept


def configure_events(endpoint: str, bus: str = LOCAL_BUS) -> str:
    """Create the bus, the queue and the rule between them (idempotent); the queue's URL."""
    events = boto3.client("events", endpoint_url=endpoint)
    sqs = boto3.client("sqs", endpoint_url=endpoint)
    with contextlib.suppress(events.exceptions.ResourceAlreadyExistsException):
        events.create_event_bus(Name=bus)
    queue_url: str = sqs.create_queue(QueueName=bus + QUEUE_SUFFIX)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(
        Name=RULE,
        EventBusName=bus,
        EventPattern=json.dumps({"source": [{"prefix": SOURCE_PREFIX}]}),
        State="ENABLED",
    )
    events.put_targets(
        Rule=RULE, EventBusName=bus, Targets=[{"Id": "local-event-log", "Arn": queue_arn}]
    )
    return queue_url


class EventLog:
    """The events the rule delivered, drained from its queue by a thread of its own."""

    def __init__(self, endpoint: str, queue_url: str, keep: int = KEEP) -> None:
        self.sqs = boto3.client("sqs", endpoint_url=endpoint)
        self.queue_url = queue_url
        self.events: deque[dict[str, Any]] = deque(maxlen=keep)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="event-log", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def drain(self, wait_seconds: int = 0) -> int:
        """Take what the queue holds now; how many events came."""
        answer = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
        )
        messages = answer.get("Messages", [])
        for message in messages:
            try:
                received = json.loads(message["Body"])
            except ValueError:
                log.warning("A message on the events queue is not JSON")
                received = None
            if isinstance(received, dict):
                with self.lock:
                    self.events.append(received)
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.drain(wait_seconds=1)
            except Exception:
                log.warning("Could not read the events queue", exc_info=True)
                self.stopping.wait(1)

    def listed(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        """The events kept, oldest first, narrowed by ``source``, ``detail-type``,
        ``resource`` and ``id`` (of the record), at most ``limit`` (the newest)."""
        while self.drain():  # what has arrived by now is in the answer
            pass
        with self.lock:
            found = list(self.events)
        for name, path in (
            ("source", ("source",)),
            ("detail-type", ("detail-type",)),
            ("resource", ("detail", "resource")),
            ("id", ("detail", "id")),
        ):
            wanted = query.get(name)
            if wanted is not None:
                found = [event for event in found if _at(event, path) == wanted]
        limit = query.get("limit")
        if limit is not None and limit.isdigit() and int(limit) > 0:
            found = found[-int(limit) :]
        return found


def _at(event: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = event
    for name in path:
        value = value.get(name) if isinstance(value, Mapping) else None
    return value
