"""Percent-encoded path parameters are decoded once, as API Gateway's HTTP API
delivers them (the local gateway decodes; no route decodes again)."""

from __future__ import annotations

import pytest

from tests.e2e.stack import client
from tests.support import make_asset

pytestmark = pytest.mark.e2e

ASSET_ID = "enc@1:a"
ENCODED = "enc%401%3Aa"


def test_an_encoded_id_reaches_the_same_asset_on_every_route(stack_url: str) -> None:
    with client(stack_url, timeout=10) as http:
        assert http.post("/registry/assets", json=make_asset(ASSET_ID)).status_code == 201
        try:
            for path in (f"/registry/assets/{ENCODED}", f"/registry/query/by-id/{ENCODED}"):
                answer = http.get(path)
                assert (answer.status_code, answer.json()["asset_id"]) == (200, ASSET_ID), path
            download = http.get(f"/registry/zip/download/{ENCODED}")
            assert download.status_code == 307
            changed = http.put(f"/registry/assets/{ENCODED}", json={"asset_workflow_id": "w9"})
            assert changed.status_code == 200
            second = make_asset(ASSET_ID, asset_version="v 2.b")
            added = http.post(f"/registry/assets/{ENCODED}/versions", json=second)
            assert added.status_code == 201, added.text
            named = http.get(f"/registry/assets/{ENCODED}/versions/v%202.b")
            assert (named.status_code, named.json().get("asset_version")) == (200, "v 2.b")
            chosen = http.get(f"/registry/assets/{ENCODED}", params={"version": "v 2.b"})
            assert chosen.json()["asset_version"] == "v 2.b"
            assert http.get("/registry/query/by-tag/gener%61tive").json()["items"]
            # Decoded once only: %2540 is the text "%40", not "@".
            assert http.get("/registry/assets/enc%25401%3Aa").status_code == 404
        finally:
            purged = http.delete(f"/registry/assets/{ENCODED}", params={"purge": "true"})
            assert purged.status_code == 200


def test_encoded_assetdb_uris_and_dbregistry_ids(stack_url: str) -> None:
    with client(stack_url, timeout=10) as http:
        record = {"asset_name": "Enc Name", "asset_version": {"version": "1.0", "tag": "x"}}
        created = http.post("/assetdb/asset", json=record)
        assert created.status_code == 201, created.text
        uri = created.json()["asset_uri"]
        encoded = uri.replace(":", "%3A").replace(" ", "%20")
        assert http.get(f"/assetdb/asset/{encoded}").json()["asset_uri"] == uri
        assert http.delete(f"/assetdb/asset/{encoded}").status_code == 200
        entry = {"asset_registry_name": "enc", "asset_registry_public_url": "https://example.com"}
        registered = http.post("/dbregistry/asset_registry", json=entry)
        assert registered.status_code == 201, registered.text
        registry_id = registered.json()["asset_registry_id"]
        encoded_id = "".join(f"%{ord(c):02X}" if c == "-" else c for c in registry_id)
        assert http.get(f"/dbregistry/asset_registry/{encoded_id}").status_code == 200
        assert http.delete(f"/dbregistry/asset_registry/{encoded_id}").status_code == 200
