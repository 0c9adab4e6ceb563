"""What the database can store, checked before writing: the field is named, nothing recurses."""

from __future__ import annotations

import re
from typing import Any

import pytest

from assets_core.storable import MAX_DEPTH, NotStorable, check_storable, check_update_storable


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"n": value}
    return value


def test_ordinary_documents_pass() -> None:
    check_storable(
        {
            "a": [1, -(2**63), 2**63 - 1, 1.5, True, None, "ü", {"b": ["c"]}],
            "d": nested(MAX_DEPTH - 1),
        }
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"a": [0, {"b": 2**63}]}, "'a.1.b': integers must fit in 64 bits"),
        ({"a": {"x\x00": 1}}, "'a.x\\0': a key may not hold a NUL character"),
        ({"a": {"$gt": 1}}, "'a.$gt': a key may not start with '$'"),
        ({"a.b": 1}, "'a.b': a key may not hold '.'"),
        ({"": 1}, "'': a key may not be empty"),
        ({"a": "\udfff"}, "'a': not valid Unicode text"),
        (nested(MAX_DEPTH + 1), f"nested deeper than {MAX_DEPTH} levels"),
    ],
)
def test_what_the_database_refuses_is_named(document: dict[str, Any], message: str) -> None:
    with pytest.raises(NotStorable, match=re.escape(message)):
        check_storable(document)


def test_a_very_deep_document_is_refused_without_recursing() -> None:
    with pytest.raises(NotStorable, match=r"^'n\.n\.[n.]+\.\.\.': nested deeper") as refused:
        check_storable(nested(100_000))
    assert len(refused.value.message) < 200


def test_update_operators_take_dotted_paths_but_check_what_they_write() -> None:
    check_update_storable({"$set": {"metadata.size": 3}, "$unset": {"old": ""}})
    with pytest.raises(NotStorable, match=re.escape("'metadata.n': integers")):
        check_update_storable({"$set": {"metadata.n": 2**70}})
    with pytest.raises(NotStorable, match="may not start with"):
        check_update_storable({"$set": {"componentMetadata.$where": 1}})
    with pytest.raises(NotStorable, match=re.escape("may not hold '.'")):
        check_update_storable({"$set": {"metadata": {"a.b": 1}}})
