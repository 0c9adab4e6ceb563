"""Process-wide objects are built once, however many threads ask first."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from assets_core.once import once


def test_concurrent_first_calls_build_one_value() -> None:
    builds = []
    gate = threading.Barrier(8)

    @once
    def store() -> object:
        builds.append(1)
        time.sleep(0.05)  # a slow build, so every thread is inside at once
        return object()

    def ask() -> object:
        gate.wait()
        return store()

    with ThreadPoolExecutor(8) as pool:
        values = list(pool.map(lambda _: ask(), range(8)))
    assert len(builds) == 1
    assert all(value is values[0] for value in values)
    store.cache_clear()
    assert store() is not values[0]
    assert len(builds) == 2
