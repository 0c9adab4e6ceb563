from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assets_core.errors import InvalidFilter
from assets_core.filters import (
    MAX_DEPTH,
    QUERY_OPERATORS,
    check_regex,
    validate_filter,
    validate_update,
)

GOOD_FILTERS = [
    {"asset_version": "v1", "profiles.asset_type": "model"},
    {"$and": [{"asset_version": "v1"}, {"$or": [{"a": 1}, {"b": {"$in": [1, 2]}}]}]},
    {"profiles": {"$elemMatch": {"asset_type": "model", "asset_tags": {"$all": ["x"]}}}},
    {"asset_file_ids": {"$size": 0}, "asset_workflow_id": {"$exists": False}},
    {"asset_id": {"$regex": "^asset-0", "$options": "i"}},
    {"asset_id": {"$not": {"$regex": "^tmp"}}},
    {"n": {"$gte": 1, "$lt": 5, "$ne": 3}},
    {"$nor": [{"x": None}]},
    {"tags": {"$elemMatch": {"$eq": "a"}}},
    {"plain": {"nested": {"object": [1, 2]}}},
]


@pytest.mark.parametrize("query", GOOD_FILTERS)
def test_allowed_filters_pass_unchanged(query: dict[str, object]) -> None:
    assert validate_filter(query) is query


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"$where": "sleep(1000)"}, "$where"),
        ({"a": {"$function": {"body": "x"}}}, "$function"),
        ({"$expr": {"$eq": ["$a", "$b"]}}, "$expr"),
        ({"a": {"$accumulator": {}}}, "$accumulator"),
        ({"a": {"$bogus": 1}}, "$bogus"),
        ({"$or": [{"a": {"$lookup": 1}}]}, "$lookup"),
        ({"a": {"b": {"$where": "1"}}}, "$where"),
        ({"a": {"$in": [{"$where": 1}]}}, "$where"),
    ],
)
def test_refused_operators_are_named(query: dict[str, object], named: str) -> None:
    with pytest.raises(InvalidFilter) as raised:
        validate_filter(query)
    assert f"'{named}'" in raised.value.message
    assert raised.value.code == "OPERATOR_NOT_ALLOWED"


@pytest.mark.parametrize(
    "query",
    [
        [],
        "a",
        {"$and": {}},
        {"$and": []},
        {"$or": ["x"]},
        {"a": {"$in": 1}},
        {"a": {"$size": -1}},
        {"a": {"$size": True}},
        {"a": {"$exists": "yes"}},
        {"a": {"$options": "i"}},
        {"a": {"$regex": 5}},
        {"a": {"$regex": "x", "$options": "q"}},
        {"a": {"$regex": "("}},
        {"a": {"$gt": 1, "plain": 2}},
        {"a": {"$and": [{"b": 1}]}},
        {"$eq": 1},
        {"": 1},
        {"a..b": 1},
    ],
)
def test_malformed_filters_are_refused(query: object) -> None:
    with pytest.raises(InvalidFilter):
        validate_filter(query)


def _nested(depth: int) -> dict[str, object]:
    query: dict[str, object] = {"leaf": 1}
    for _ in range(depth - 1):
        query = {"$and": [query]}
    return query


def test_depth_limit() -> None:
    validate_filter(_nested(MAX_DEPTH // 2))
    with pytest.raises(InvalidFilter, match="deeper than 12"):
        validate_filter(_nested(MAX_DEPTH))


def test_size_limit() -> None:
    validate_filter({"a": "x" * 60_000})
    with pytest.raises(InvalidFilter, match="65536 bytes"):
        validate_filter({"a": "x" * 70_000})


@pytest.mark.parametrize(
    "pattern",
    ["^(a+)+$", "(a*)*b", "(a|aa)+$", "(\\w+\\s?)*$", "((ab)*)+", "(a)\\1", "(x+x+)+y"],
)
def test_catastrophic_regexes_are_refused(pattern: str) -> None:
    with pytest.raises(InvalidFilter) as raised:
        check_regex(pattern)
    assert raised.value.code == "REGEX_NOT_ALLOWED"


@pytest.mark.parametrize(
    "pattern", ["^asset-0\\d+$", "model|dataset", "[a-z]+@x\\.com", "(ab){2,5}", "a.*b", "(?i)llm"]
)
def test_ordinary_regexes_pass(pattern: str) -> None:
    check_regex(pattern)


def test_regex_length_limit() -> None:
    check_regex("a" * 256)
    with pytest.raises(InvalidFilter, match="at most 256"):
        check_regex("a" * 257)


def test_update_operators_and_protected_fields() -> None:
    validate_update({"$set": {"description": "x"}, "$inc": {"n": 1}}, protected=["componentURI"])
    with pytest.raises(InvalidFilter, match="'\\$rename'"):
        validate_update({"$rename": {"a": "b"}}, protected=[])
    with pytest.raises(InvalidFilter, match="cannot be changed"):
        validate_update({"$set": {"componentId.name": "x"}}, protected=["componentId"])
    with pytest.raises(InvalidFilter):
        validate_update({"$set": {"$where": 1}}, protected=[])
    with pytest.raises(InvalidFilter):
        validate_update({}, protected=[])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(json_values)
def test_any_json_is_either_accepted_or_refused_cleanly(value: object) -> None:
    """Open-ended input never raises anything but InvalidFilter, and what passes only uses
    allowed operators."""
    try:
        validate_filter(value)
    except InvalidFilter:
        return
    assert operator_keys(value) <= QUERY_OPERATORS


def operator_keys(value: object) -> set[str]:
    """Every object key of a JSON value that starts with '$' (a key that merely holds a '"$',
    such as '"$x', is a field name: reading keys from the JSON text took it for one)."""
    if isinstance(value, dict):
        found = {key for key in value if isinstance(key, str) and key.startswith("$")}
        for item in value.values():
            found |= operator_keys(item)
        return found
    if isinstance(value, list):
        return set().union(*(operator_keys(item) for item in value)) if value else set()
    return set()


@given(st.text(max_size=40))
def test_any_pattern_is_accepted_or_refused_cleanly(pattern: str) -> None:
    try:
        check_regex(pattern)
    except InvalidFilter:
        return
    re.compile(pattern)


@pytest.mark.parametrize(
    "query",
    [
        {"n": 2**64},
        {"n": {"$gt": -(2**63) - 1}},
        {"$or": [{"a": 1}, {"b": {"$in": [1, 2**70]}}]},
    ],
)
def test_an_integer_beyond_64_bits_is_refused_before_the_driver(query: dict) -> None:
    # The driver cannot encode it (OverflowError, a 500 from every search route).
    with pytest.raises(InvalidFilter, match="beyond 64 bits"):
        validate_filter(query)
    validate_filter({"n": 2**63 - 1, "m": {"$lt": -(2**63)}})


def test_a_nul_in_a_literal_objects_key_is_refused_before_the_driver() -> None:
    # Found by schemathesis on the wire server: BSON cannot encode the key (a 500 before).
    with pytest.raises(InvalidFilter, match="NUL"):
        validate_filter({"componentMetadata": {"a\x00b": {}}})
