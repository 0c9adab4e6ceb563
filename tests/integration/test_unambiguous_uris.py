"""Every valid registration has one URI: the characters that separate a URI's parts are
refused in the parts where they would make two registrations share a URI."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from functions.assetdb.handler import handler as assetdb_handler
from tests.integration.test_components import EXAMPLE, register
from tests.support import event, invoke

pytestmark = pytest.mark.usefixtures("s3", "status")


def external(version: str, tag: str) -> tuple[int, Any]:
    body = {"asset_name": "amb", "asset_version": {"version": version, "tag": tag}}
    return invoke(assetdb_handler, event("apigw_assetdb_create_external", body=body))


def test_assetdb_version_may_hold_a_dash_and_the_tag_may_not() -> None:
    status, created = external("1-x", "t")
    assert (status, created["asset_uri"]) == (201, "amb:1-x-t")
    status, refused = external("1", "x-t")  # was the same URI
    assert status == 400, refused
    assert "tag" in refused["error"]["message"]
    assert "may not contain '-'" in refused["error"]["message"]


def component(kind: str, name: str, version: str = "1", tag: str = "stable") -> dict[str, Any]:
    body = copy.deepcopy(EXAMPLE)
    body.pop("componentURI", None)
    body["componentType"] = kind
    body["componentId"] = {"name": name, "version": version, "releaseTag": tag}
    return body


def test_component_type_may_not_hold_a_dot() -> None:
    status, created = register(component("x", "a.b"))
    assert (status, created["componentURI"]) == (201, "x.a.b:1-stable")
    status, refused = register(component("x.a", "b"))  # was the same URI
    assert status == 400, refused
    assert "componentType" in refused["error"]["message"]


@pytest.mark.parametrize(
    ("kind", "name", "version", "tag", "field"),
    [
        ("model", "a:b", "1", "t", "name"),
        ("model", "a/b", "1", "t", "name"),
        ("model", "a", "1/2", "t", "version"),
        ("model", "a", "1", "rc-1", "releaseTag"),
        ("mo/del", "a", "1", "t", "componentType"),
    ],
)
def test_separators_are_refused_where_they_would_be_ambiguous(
    kind: str, name: str, version: str, tag: str, field: str
) -> None:
    status, refused = register(component(kind, name, version, tag))
    assert status == 400, refused
    assert field in refused["error"]["message"]
    assert "may not contain" in refused["error"]["message"]
