"""Versions, retention and the local purge command over HTTP, as ``make run`` serves them."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.stack import bearer, client
from tests.support import make_asset

pytestmark = pytest.mark.e2e


def test_the_local_purge_is_an_admins_and_purges_what_is_past_retention(stack_url: str) -> None:
    url = f"{stack_url}/local/purge"
    assert httpx.post(url, json={}).status_code == 401
    writer = bearer(stack_url, "writer-1", "assets-writer")
    assert httpx.post(url, json={}, headers=writer).status_code == 403
    with client(stack_url, timeout=30) as http:
        for bad in ({"when": "now"}, {"action": "explode"}, [1]):
            answer = http.post("/local/purge", json=bad)
            assert (answer.status_code, answer.json()["error"]["code"]) == (400, "INVALID_INPUT")
        # Given an asset deleted now
        assert http.post("/registry/assets", json=make_asset("e2e-purge-1")).status_code == 201
        assert http.delete("/registry/assets/e2e-purge-1").status_code == 200
        # When the purge runs now, it stays restorable; run as if 8 days later, it is gone
        now = http.post("/local/purge", json={}).json()
        assert now["purged_assets"] == 0
        later = http.post("/local/purge", json={"time": "2099-01-01T00:00:00Z"}).json()
        assert later["purged_assets"] >= 1
        gone = http.post("/registry/assets/e2e-purge-1/restore")
        assert gone.status_code == 404
        # and its id is free again
        assert http.post("/registry/assets", json=make_asset("e2e-purge-1")).status_code == 201
        migrated = http.post("/local/purge", json={"action": "migrate"}).json()
        assert migrated["assets_migrated"] == 0, "every asset of this stack has its index"
        purged = http.delete("/registry/assets/e2e-purge-1", params={"purge": "true"})
        assert purged.status_code == 200
