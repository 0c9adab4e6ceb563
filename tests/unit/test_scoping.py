"""The caller's conditions as the stores send them: one flat document where the fields do
not overlap (a server's planner finds the indexed fields at the top), ``$and`` where they do,
and a read by key that checks visibility on the record found, on both document backends."""

from __future__ import annotations

from typing import Any

import pytest

from assets_core.identity import ADMIN, PRIVATE, PUBLIC, READER, VISIBILITY, Caller, acting_as
from assets_core.scoping import CallerScopedStore
from tests.unit.test_document_store import StoreFactory, collection_store  # noqa: F401

LIVE = {"_registry.deleted_at": None}
ALICE = Caller(sub="alice", roles=frozenset({READER}))
BOB = Caller(sub="bob", roles=frozenset({READER}))
ADMIN_CALLER = Caller(sub="root", roles=frozenset({ADMIN}))
ANONYMOUS = Caller(sub=None, roles=frozenset({READER}))


class Unread:
    """A store no test reads: for the conditions alone."""

    key_field = "key"


def scoped(store: Any) -> CallerScopedStore[Any]:
    return CallerScopedStore(store, private_records=True, live=LIVE)


@pytest.fixture
def store(collection_store: StoreFactory) -> CallerScopedStore[Any]:  # noqa: F811
    documents = collection_store("scoped", key_field="key")
    for key, owner, visibility in (
        ("a-public", "alice", PUBLIC),
        ("a-private", "alice", PRIVATE),
        ("b-private", "bob", PRIVATE),
    ):
        documents.insert(
            {"key": key, "kind": "k", "created_by": owner, VISIBILITY: visibility, "_registry": {}}
        )
    documents.insert(
        {
            "key": "gone",
            "kind": "k",
            "created_by": "alice",
            VISIBILITY: PUBLIC,
            "_registry": {"deleted_at": "2026-01-01T00:00:00Z"},
        }
    )
    return scoped(documents)


def test_conditions_are_one_flat_document() -> None:
    store = scoped(Unread())
    with acting_as(ALICE):
        assert store.where({"kind": "k"}) == {
            "kind": "k",
            "$or": [{VISIBILITY: PUBLIC}, {"created_by": "alice"}],
            **LIVE,
        }
    with acting_as(ADMIN_CALLER):
        assert store.where({"kind": "k"}) == {"kind": "k", **LIVE}
    with acting_as(ANONYMOUS):
        assert store.where({}) == {VISIBILITY: PUBLIC, **LIVE}


def test_overlapping_conditions_stay_a_conjunction() -> None:
    store = scoped(Unread())
    query = {"$or": [{"kind": "a"}, {"kind": "b"}], VISIBILITY: PRIVATE}
    with acting_as(ALICE):
        assert store.where(query) == {
            "$and": [
                {**query, **LIVE},
                {"$or": [{VISIBILITY: PUBLIC}, {"created_by": "alice"}]},
            ]
        }
    with acting_as(ANONYMOUS):  # the query's own visibility field and the caller's
        assert store.where(query) == {"$and": [{**query, **LIVE}, {VISIBILITY: PUBLIC}]}


@pytest.mark.parametrize(
    ("caller", "seen"),
    [
        (ALICE, ["a-private", "a-public"]),
        (BOB, ["a-public", "b-private"]),
        (ANONYMOUS, ["a-public"]),
        (ADMIN_CALLER, ["a-private", "a-public", "b-private"]),
    ],
)
def test_each_caller_finds_what_it_may_see(
    store: CallerScopedStore[Any], caller: Caller, seen: list[str]
) -> None:
    with acting_as(caller):
        assert sorted(d["key"] for d in store.find({"kind": "k"})) == seen
        # The same rule for a query whose own fields overlap the caller's conditions.
        overlapping = {"$or": [{"kind": "k"}, {"kind": "x"}], "_registry.deleted_at": None}
        assert sorted(d["key"] for d in store.find(overlapping)) == seen
        for key in ("a-public", "a-private", "b-private", "gone", "missing"):
            found = store.get(key)
            assert (found is not None) == (key in seen), key
            versioned = store.read(key)
            assert (versioned is not None) == (key in seen), key
