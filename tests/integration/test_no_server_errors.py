"""Nothing a client sends produces a 500: open-ended bodies against every JSON route."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.registry_graphql.handler import handler as graphql_handler
from functions.registry_query.handler import handler as query_handler
from functions.registry_write.handler import handler as write_handler
from tests.support import event, invoke

keys = st.sampled_from(
    ["asset_id", "profiles", "asset_version", "$or", "$where", "$regex", "$in", "x.y", "", "$"]
) | st.text(max_size=6)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=15,
)
raw_bodies = st.one_of(
    json_values.map(json.dumps),
    st.text(max_size=30),
    st.binary(max_size=30).map(lambda b: b.decode("latin-1")),
)
ROUTES = [
    (write_handler, "apigw_registry_post_assets"),
    (write_handler, "apigw_registry_put_asset"),
    (query_handler, "apigw_registry_query_search"),
    (graphql_handler, "apigw_registry_graphql_post"),
]


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), raw=raw_bodies)
def test_any_body_gets_a_contract_answer(route: tuple[Any, str], raw: str) -> None:
    handler, name = route
    status, body = invoke(handler, event(name, raw_body=raw))
    assert status < 500, body
    if status >= 400:
        assert body["success"] is False
        assert body["error"]["code"]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filters=json_values)
def test_any_graphql_filter_variable_gets_a_contract_answer(filters: Any) -> None:
    body = {
        "query": "query($f: GenericScalar!) { searchAssets(filters: $f) { assetId } }",
        "variables": {"f": filters},
    }
    status, answer = invoke(graphql_handler, event("apigw_registry_graphql_post", body=body))
    assert status < 500, answer


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segment=st.text(min_size=1, max_size=20), limit=st.text(max_size=5))
def test_any_path_segment_and_limit_gets_a_contract_answer(segment: str, limit: str) -> None:
    from urllib.parse import quote

    request = event(
        "apigw_registry_query_by_tag",
        path=f"/registry/query/by-tag/{quote(segment, safe='')}",
        path_parameters={"tag": segment},
        query={"limit": limit},
    )
    status, body = invoke(query_handler, request)
    assert status < 500, body
