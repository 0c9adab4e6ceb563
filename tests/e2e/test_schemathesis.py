"""Schemathesis against every service's OpenAPI document, over HTTP through the
local gateway, in a bounded run (``SCHEMATHESIS_EXAMPLES`` per operation, 15 by default; CI
may raise it): no server error, and every answer is one the document promises, with the
status, content type and body schema it documents."""

from __future__ import annotations

import importlib
import json
import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from assets_core.routes import find_route
from local.apigw import LocalContext, http_api_event
from tests.e2e.stack import bearer

pytestmark = pytest.mark.e2e
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "15"))
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same cases every run: a failure here is reproducible
)


def document(prefix: str) -> dict[str, Any]:
    """A service's OpenAPI document, as its function serves it (built in-process at
    collection, so the cases are known before the stack starts)."""
    found = find_route("GET", f"{prefix}/openapi.json")
    assert found is not None, prefix
    group, route, _ = found
    request = http_api_event(
        method="GET",
        raw_path=f"{prefix}/openapi.json",
        route_key=route.route_key,
        headers=[("Host", "127.0.0.1")],
        source_ip="127.0.0.1",
        domain="127.0.0.1",
    )
    handler = importlib.import_module(group.module).handler
    answer = handler(request, LocalContext(group.name))
    assert answer["statusCode"] == 200, answer
    loaded: dict[str, Any] = json.loads(answer["body"])
    return loaded


registry = schemathesis.openapi.from_dict(document("/registry"))
assetdb = schemathesis.openapi.from_dict(document("/assetdb"))
dbregistry = schemathesis.openapi.from_dict(document("/dbregistry"))
components = schemathesis.openapi.from_dict(document("/components"))


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def check(case: Any, stack_url: str) -> None:
    # As an admin: every route is reachable, so the generated cases reach the handlers.
    case.call_and_validate(base_url=stack_url, checks=CHECKS, timeout=30, headers=bearer(stack_url))


@registry.parametrize()
@BOUNDED
def test_registry_answers_as_documented(case: Any, stack_url: str) -> None:
    check(case, stack_url)


@assetdb.parametrize()
@BOUNDED
def test_assetdb_answers_as_documented(case: Any, stack_url: str) -> None:
    check(case, stack_url)


@dbregistry.parametrize()
@BOUNDED
def test_dbregistry_answers_as_documented(case: Any, stack_url: str) -> None:
    check(case, stack_url)


@components.parametrize()
@BOUNDED
def test_components_answer_as_documented(case: Any, stack_url: str) -> None:
    check(case, stack_url)
