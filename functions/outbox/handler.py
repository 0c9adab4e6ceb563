"""The outbox: every minute (an EventBridge schedule) it publishes the audit records that
have not reached the event bus yet — those whose publish right after their write failed or
was cut short — oldest first per resource (``assets_core.logic.audit``)."""

from __future__ import annotations

from typing import Any

from assets_core.observability import MetricUnit, emit, lambda_handler, logger
from assets_core.routes import OUTBOX
from assets_core.stores.factory import audit_trail


def drain(event: dict[str, Any], context: Any) -> dict[str, Any]:
    trail = audit_trail()
    # Done well before the function's timeout (and the next minute's run).
    published = trail.publish(seconds=OUTBOX.timeout_s - 15)
    waiting = trail.waiting()
    emit("EventsPublished", published, MetricUnit.Count)
    emit("EventsWaiting", waiting, MetricUnit.Count)
    if waiting:
        logger.warning("Events still wait in the outbox", extra={"waiting": waiting})
    return {"published": published, "waiting": waiting}


handler = lambda_handler(drain)
