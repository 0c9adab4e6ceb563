"""Spec 001's curl examples, adapted to /assetdb and /dbregistry, against the local stack."""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid

import httpx
import pytest

from tests.e2e.stack import client

pytestmark = pytest.mark.e2e


def test_assets_db_walkthrough(stack_url: str) -> None:
    name = f"Sample{uuid.uuid4().hex[:6]}"
    uri = f"{name}:1.0-initial"
    data = os.urandom(200_000)
    metadata = json.dumps(
        {
            "asset_name": name,
            "asset_version": {"version": "1.0", "tag": "initial"},
            "asset_metadata": {"description": "Sample asset upload", "type": "image"},
            "asset_tags": ["image", "sample"],
        }
    )
    with client(stack_url, "/assetdb", timeout=30, follow_redirects=False) as http:
        created = http.post(
            "/upload_asset",
            files={"asset": ("file.png", data, "image/png")},
            data={"asset_metadata": metadata},
        )
        assert created.status_code == 201, created.text
        asset = created.json()
        assert http.get(f"/asset/{uri}").json() == asset
        redirect = http.get(f"/asset-object/{asset['asset_id']}")
        assert redirect.status_code == 307
        assert httpx.get(redirect.headers["location"]).content == data
        update = {
            "asset_metadata": {"description": "Updated asset description", "type": "image"},
            "asset_tags": ["updated", "sample"],
        }
        assert http.put(f"/asset/{uri}", json=update).json()["asset_tags"] == ["updated", "sample"]
        plain = http.post(
            "/assets", json={"asset_tags": ["sample"], "asset_metadata": {"type": "image"}}
        )
        assert uri in [a["asset_uri"] for a in plain.json()["items"]]
        operators = {
            "asset_tags": {"$in": ["sample", "image"]},
            "asset_metadata.type": "image",
            "asset_version.version": {"$gte": "1.0"},
        }
        assert uri in [a["asset_uri"] for a in http.post("/assets", json=operators).json()["items"]]
        external = http.post(
            "/asset",
            json={
                "asset_name": f"{name} ext",
                "asset_version": {"version": "1.0", "tag": "initial"},
                "asset_metadata": {"description": "Sample asset for testing"},
                "asset_tags": ["test", "sample"],
            },
        )
        assert external.status_code == 201
        assert http.delete(f"/asset/{uri}").status_code == 200
        assert http.get(f"/asset/{uri}").status_code == 404
        assert http.get("/health").json() == {"status": "ok"}

        # A large file by presigned upload: the record completes when the object arrives
        big = os.urandom(6 * 1024 * 1024)
        ticket = http.post(
            "/upload_asset",
            json={
                "filename": "big.bin",
                "size": len(big),
                "asset_metadata": {"asset_name": f"{name}-big"},
            },
        ).json()
        sent = httpx.post(
            ticket["upload"]["url"], data=ticket["upload"]["fields"], files={"file": big}
        )
        assert sent.status_code in (200, 201, 204)
        deadline = time.monotonic() + 30
        while True:
            found = http.post("/assets", json={"asset_id": ticket["asset_id"]}).json()["items"][0]
            if found["asset_file_info"]["status"] == "available" or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert found["asset_file_info"]["sha256"] == hashlib.sha256(big).hexdigest()


def test_assets_db_registry_walkthrough(stack_url: str) -> None:
    with client(stack_url, "/dbregistry", timeout=30) as http:
        entry = {
            "asset_registry_name": "Local Assets DB",
            "asset_registry_metadata": {"framework": "PyTorch"},
            "asset_registry_tags": ["deep-learning"],
            "asset_registry_public_url": f"{stack_url}/assetdb",
        }
        created = http.post("/asset_registry", json=entry)
        assert created.status_code == 201
        registry_id = created.json()["asset_registry_id"]
        assert (
            http.get(f"/asset_registry/{registry_id}").json()["asset_registry_name"]
            == "Local Assets DB"
        )
        health = http.get(f"/check_health/{registry_id}").json()
        assert (health["healthy"], health["status_code"]) == (True, 200)
        query = {
            "$and": [
                {"asset_registry_tags": {"$in": ["deep-learning"]}},
                {"asset_registry_metadata.framework": "PyTorch"},
            ]
        }
        assert registry_id in [
            r["asset_registry_id"]
            for r in http.post("/asset_registries", json=query).json()["items"]
        ]
        update = {
            "asset_registry_metadata": {"framework": "TensorFlow", "version": "2.0"},
            "asset_registry_tags": ["neural-network", "tensorflow"],
        }
        assert http.put(f"/asset_registry/{registry_id}", json=update).status_code == 200
        broken = b'{"asset_registry_metadata": {"framework": "TensorFlow" models}}'
        answer = http.put(
            f"/asset_registry/{registry_id}",
            content=broken,
            headers={"Content-Type": "application/json"},
        )
        assert answer.status_code == 400
        metadata_address = http.post(
            "/asset_registry", json={"asset_registry_public_url": "http://169.254.169.254"}
        )
        assert (
            http.get(f"/check_health/{metadata_address.json()['asset_registry_id']}").status_code
            == 400
        )
        assert http.delete(f"/asset_registry/{registry_id}").status_code == 200
