"""Spec 002's curl examples, adapted to /components, against the running local stack."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.e2e.stack import client

pytestmark = pytest.mark.e2e
EXAMPLE = json.loads((Path(__file__).parents[1] / "component_example.json").read_text())


def test_component_walkthrough(stack_url: str) -> None:
    component = {**EXAMPLE, "componentType": f"model{uuid.uuid4().hex[:6]}"}
    component.pop("componentURI")
    uri = f"{component['componentType']}.object-detector:2.0.0-stable"
    with client(stack_url, "/components", timeout=10) as http:
        created = http.post("/api/registerComponent", json=component)
        assert created.status_code == 201, created.text
        assert created.json()["componentURI"] == uri
        assert http.post("/api/registerComponent", json=component).status_code == 409
        update = {"uri": uri, "data": {"$set": {"componentMetadata.description": "Updated"}}}
        assert http.post("/api/updateComponent", json=update).status_code == 200
        metadata = {"uri": uri, "data": {"author": "AI Team", "build": "v1.2"}}
        assert (
            http.post("/api/addMetadata", json=metadata).json()["componentMetadata"]["build"]
            == "v1.2"
        )
        renamed = {"uri": uri, "data": {"$set": {"metadata.author": "AIOS Team"}}}
        answer = http.post("/api/updateMetadata", json=renamed).json()
        assert answer["componentMetadata"]["author"] == "AIOS Team"
        by_type = http.post("/api/getByType", json={"typeString": component["componentType"]})
        assert [c["componentURI"] for c in by_type.json()["items"]] == [uri]
        by_uri = http.post("/api/getByURI", json={"uriString": uri})
        assert by_uri.json()["items"][0]["componentURI"] == uri
        query = {
            "query": {"tags": {"$in": ["vision"]}, "componentType": component["componentType"]}
        }
        assert len(http.post("/api/query", json=query).json()["items"]) == 1
        gql = {
            "query": f'query {{ componentMany(filter: {{ componentType: "{component["componentType"]}" }}) '
            "{ _id componentURI componentType } }"
        }
        many = http.post("/gql", json=gql).json()["data"]["componentMany"]
        by_id = {"query": f'{{ componentById(_id: "{many[0]["_id"]}") {{ componentURI }} }}'}
        assert http.post("/gql", json=by_id).json()["data"]["componentById"]["componentURI"] == uri
        assert "graphiql" in http.get("/gql", headers={"Accept": "text/html"}).text.lower()
        assert http.post("/gql", json={"query": "mutation { x }"}).status_code == 400
        assert http.post("/api/unregisterComponent", json={"uri": uri}).status_code == 200
        assert http.post("/api/unregisterComponent", json={"uri": uri}).status_code == 404
        assert http.get("/health").json() == {"status": "ok"}
