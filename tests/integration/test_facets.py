"""``POST /registry/query/facets``: the console's search page counts types, sub-types, tags
and owners over what a filter matches, through the handler, with visibility applied."""

from __future__ import annotations

from typing import Any

import pytest

from functions.registry_query.handler import handler as query_handler
from tests.integration.test_access import ALICE, BOB, ROOT, call, create_asset
from tests.integration.test_registry_query import profile
from tests.support import event, invoke


@pytest.fixture
def catalogue() -> None:
    create_asset(
        ALICE,
        "llama",
        visibility="public",
        profiles=[
            profile("llama", "model", "llm", ["generative", "text"]),
            # a second profile of the same type and tag counts the asset once
            profile("llama", "model", "chat", ["generative"]),
        ],
    )
    create_asset(
        ALICE, "cats", visibility="public", profiles=[profile("cats", "data", "image", ["text"])]
    )
    create_asset(BOB, "secret", profiles=[profile("secret", "model", "llm", ["hidden-tag"])])


def counts(body: dict[str, Any], name: str) -> dict[str, int]:
    return {row["value"]: row["count"] for row in body["facets"][name]}


@pytest.mark.usefixtures("catalogue")
def test_facets_count_each_value_once_per_asset_the_caller_sees() -> None:
    status, body = call(query_handler, "apigw_registry_query_facets", ALICE, body={})
    assert status == 200, body
    assert counts(body, "asset_type") == {"model": 1, "data": 1}
    assert counts(body, "asset_sub_type") == {"llm": 1, "chat": 1, "image": 1}
    assert counts(body, "tag") == {"generative": 1, "text": 2}
    assert counts(body, "owner") == {"alice": 2}  # bob's private asset is not counted
    assert body["paths"]["tag"] == "profiles.asset_tags"
    # the most frequent first
    assert body["facets"]["tag"][0] == {"value": "text", "count": 2}


@pytest.mark.usefixtures("catalogue")
def test_facets_follow_the_filter_and_an_admin_sees_everything() -> None:
    status, body = call(
        query_handler, "apigw_registry_query_facets", ROOT, body={"profiles.asset_type": "model"}
    )
    assert status == 200, body
    assert counts(body, "owner") == {"alice": 1, "bob": 1}
    assert counts(body, "tag") == {"generative": 1, "text": 1, "hidden-tag": 1}
    assert "data" not in counts(body, "asset_type")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"$where": "1"}, "OPERATOR_NOT_ALLOWED"),
        ({"asset_container_registry_creds_config.user": "x"}, "FIELD_NOT_SEARCHABLE"),
        ([1, 2], None),
    ],
)
def test_a_bad_filter_is_a_400(body: Any, code: str | None) -> None:
    status, answer = invoke(query_handler, event("apigw_registry_query_facets", body=body))
    assert status == 400, answer
    assert answer["success"] is False
    if code:
        assert answer["error"]["code"] == code
