"""Store calls are trace spans of their own when tracing is on, and the stores untouched
when it is off (outside Lambda, and wherever POWERTOOLS_TRACE_DISABLED is set)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from assets_core import observability


class Recorder:
    def __init__(self) -> None:
        self.spans: list[str] = []

    @contextmanager
    def in_subsegment(self, name: str) -> Iterator[None]:
        self.spans.append(name)
        yield


class Store:
    bucket = "b"

    def get(self, key: str) -> str:
        return key.upper()


def test_tracing_off_leaves_the_store_as_it_is() -> None:
    assert observability.tracer.disabled  # not in Lambda
    store = Store()
    assert observability.traced(store, "objects") is store


def test_each_call_of_a_traced_store_is_a_span_named_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorder = Recorder()
    monkeypatch.setattr(observability.tracer, "disabled", False)
    monkeypatch.setattr(observability.tracer, "provider", recorder)
    store: Any = observability.traced(Store(), "objects")
    assert store.get("k") == "K"
    assert store.bucket == "b"  # attributes pass through, unwrapped
    assert recorder.spans == ["objects.get"]
    assert store.get is store.get  # a method's wrapper is built once
    assert store.get("j") == "J"
    assert recorder.spans == ["objects.get", "objects.get"]
