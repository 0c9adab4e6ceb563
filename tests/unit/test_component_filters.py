from __future__ import annotations

from typing import Any

import pytest

from assets_core.errors import InvalidFilter, InvalidInput
from assets_core.logic.components import NumberedPage, typed_filter


@pytest.mark.parametrize(
    ("typed", "query"),
    [
        (None, {}),
        ({}, {}),
        ({"componentType": "model", "tags": None}, {"componentType": "model"}),
        (
            {"componentId": {"name": "a", "version": None}, "tags": ["x", "y"]},
            {"componentId.name": "a", "tags": {"$all": ["x", "y"]}},
        ),
        ({"_operators": {"componentType": {"in": ["a"]}}}, {"componentType": {"$in": ["a"]}}),
        (
            {"OR": [{"componentType": "a"}, {"componentType": "b"}]},
            {"$or": [{"componentType": "a"}, {"componentType": "b"}]},
        ),
        (
            {"componentType": "a", "_operators": {"tags": {"$size": 1}}},
            {"$and": [{"componentType": "a"}, {"tags": {"$size": 1}}]},
        ),
        (
            {"AND": [{"componentType": "a"}], "_operators": {"tags": {"size": 1}}},
            {"$and": [{"$and": [{"componentType": "a"}]}, {"tags": {"$size": 1}}]},
        ),
    ],
)
def test_typed_filters_become_mongodb_filters(
    typed: dict[str, Any] | None, query: dict[str, Any]
) -> None:
    assert typed_filter(typed) == query


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ({"_operators": ["componentType"]}, InvalidInput),
        ({"_operators": {"componentType": "a"}}, InvalidInput),
        ({"_operators": {"tags": {"where": "1"}}}, InvalidFilter),
        ({"OR": [{"_operators": {"componentURI": {"regex": "^(a+)+$"}}}]}, InvalidFilter),
    ],
)
def test_typed_filters_are_checked_as_rest_filters_are(
    typed: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        typed_filter(typed)


def test_numbered_page_counts_its_pages() -> None:
    assert NumberedPage(items=[], count=5, number=1, per_page=2).page_count == 3
    assert NumberedPage(items=[], count=0, number=1, per_page=20).page_count == 0
