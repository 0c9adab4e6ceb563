"""Process-wide objects built once, even when several threads ask first at the same time."""

from __future__ import annotations

import threading
from collections.abc import Callable


class once[T]:
    """Decorate a zero-argument factory so it builds one value per process.

    ``functools.lru_cache`` lets two threads that miss together both build; that is harmless
    for a stateless client, but an in-process emulator (mongomock, fakeredis) built twice is
    two separate stores, and what one thread writes the other never sees."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self.factory = factory
        self.lock = threading.Lock()
        self.built: list[T] = []
        self.__doc__ = factory.__doc__

    def __call__(self) -> T:
        if not self.built:
            with self.lock:
                if not self.built:
                    self.built.append(self.factory())
        return self.built[0]

    def cache_clear(self) -> None:
        """Forget the value (tests start afresh with it)."""
        with self.lock:
            self.built.clear()
