"""Lineage, the audit trail and change events over HTTP, as ``make run`` serves them: the
events go through LocalStack's EventBridge (the bus, a rule, a queue) to ``/local/events``."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.e2e.stack import bearer, client
from tests.support import make_asset

pytestmark = pytest.mark.e2e


def events_of(http: httpx.Client, asset_id: str, count: int) -> list[dict[str, Any]]:
    """The events of one asset, once ``count`` have arrived (EventBridge delivers within
    milliseconds here; a few seconds are allowed)."""
    deadline = time.monotonic() + 10
    while True:
        answer = http.get("/local/events", params={"resource": "asset", "id": asset_id})
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["items"]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_the_local_event_log_is_an_admins(stack_url: str) -> None:
    url = f"{stack_url}/local/events"
    assert httpx.get(url).status_code == 401
    reader = bearer(stack_url, "reader-1", "assets-reader")
    assert httpx.get(url, headers=reader).status_code == 403


def test_writes_reach_the_bus_in_order_with_their_audit_records(stack_url: str) -> None:
    with client(stack_url, timeout=30) as http:
        assert http.post("/registry/assets", json=make_asset("e2e-events-1")).status_code == 201
        changed = http.put(
            "/registry/assets/e2e-events-1", json={"asset_brief_description": "second"}
        )
        assert changed.status_code == 200
        added = http.post(
            "/registry/assets/e2e-events-1/versions",
            json=make_asset("e2e-events-1", asset_version="v2"),
        )
        assert added.status_code == 201
        received = events_of(http, "e2e-events-1", 3)
        assert len(received) == 3
        assert {e["source"] for e in received} == {"assets-registry.registry"}
        by_seq = sorted(received, key=lambda e: e["detail"]["seq"])
        assert [e["detail-type"] for e in by_seq] == [
            "AssetVersionCreated",
            "AssetUpdated",
            "AssetVersionCreated",
        ]
        assert by_seq[0]["detail"]["asset_type"] == ["model"]
        audit = http.get("/registry/audit", params={"resource": "asset", "id": "e2e-events-1"})
        assert audit.status_code == 200
        records = audit.json()["items"]
        assert [r["seq"] for r in records] == [3, 2, 1]  # newest first
        assert [r["action"] for r in reversed(records)] == [e["detail-type"] for e in by_seq]
        assert audit_of_reader(stack_url) == 403


def audit_of_reader(stack_url: str) -> int:
    reader = bearer(stack_url, "reader-1", "assets-reader")
    return httpx.get(f"{stack_url}/registry/audit", headers=reader).status_code


def test_lineage_over_http(stack_url: str) -> None:
    with client(stack_url, timeout=30) as http:
        for asset_id in ("e2e-data-1", "e2e-base-1"):
            assert http.post("/registry/assets", json=make_asset(asset_id)).status_code == 201
        model = make_asset(
            "e2e-model-1",
            lineage=[
                {"relation": "trained_on", "asset_id": "e2e-data-1", "asset_version": "v1"},
                {"relation": "derived_from", "asset_id": "e2e-base-1", "asset_version": "v1"},
            ],
        )
        assert http.post("/registry/assets", json=model).status_code == 201
        up = http.get("/registry/assets/e2e-model-1/lineage", params={"direction": "upstream"})
        assert up.status_code == 200
        assert {n["asset_id"] for n in up.json()["nodes"]} == {
            "e2e-model-1",
            "e2e-data-1",
            "e2e-base-1",
        }
        down = http.get("/registry/assets/e2e-data-1/lineage", params={"direction": "downstream"})
        assert "e2e-model-1/v1" in {n["key"] for n in down.json()["nodes"]}
        cycle = http.post(
            "/registry/assets/e2e-data-1/lineage",
            json={"relation": "derived_from", "asset_id": "e2e-model-1", "asset_version": "v1"},
        )
        assert (cycle.status_code, cycle.json()["error"]["code"]) == (409, "LINEAGE_CYCLE")
