"""What waits on the transaction in progress (``stores.documents.in_transaction``).

Objects and secrets are outside any database transaction: a file or a secret that a write
stops naming is deleted only once that write has committed (``after_commit``), and a secret
written for a write is deleted if its transaction aborts (``on_abort``), for every attempt
that does. Outside a transaction, ``after_commit`` runs at once (the write has happened) and
``on_abort`` is not needed (the caller handles its own failure)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class Pending:
    """The work one transaction attempt left for its end."""

    after: list[Callable[[], object]] = field(default_factory=list)
    undo: list[Callable[[], object]] = field(default_factory=list)

    def committed(self) -> None:
        _run_all(self.after, "after a commit")

    def aborted(self) -> None:
        _run_all(self.undo, "after an abort")


_PENDING: ContextVar[Pending | None] = ContextVar("pending_on_commit", default=None)


def after_commit(action: Callable[[], object]) -> None:
    """Run ``action`` once the transaction in progress commits (at once outside one)."""
    pending = _PENDING.get()
    if pending is None:
        action()
    else:
        pending.after.append(action)


def on_abort(action: Callable[[], object]) -> None:
    """Run ``action`` if the transaction in progress aborts (nothing outside one)."""
    pending = _PENDING.get()
    if pending is not None:
        pending.undo.append(action)


@contextmanager
def pending() -> Iterator[Pending]:
    """A transaction attempt's pending work (its caller runs it at the attempt's end)."""
    collected = Pending()
    token = _PENDING.set(collected)
    try:
        yield collected
    finally:
        _PENDING.reset(token)


def _run_all(actions: list[Callable[[], object]], when: str) -> None:
    for action in actions:
        try:
            action()
        except Exception:
            # The write's outcome stands; what is left over is an orphan the logs name.
            log.exception("Work pending %s failed", when)
