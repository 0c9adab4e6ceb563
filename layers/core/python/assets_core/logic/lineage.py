"""Lineage: typed edges between asset versions, kept as a DAG, walked with visibility.

An edge ``from`` -> ``to`` says the ``from`` version ``relation`` the ``to`` version (a model
``trained_on`` a dataset): ``to`` is upstream of ``from``. Each edge is one document in the
lineage collection, keyed by both ends and the relation, so an edge recorded twice is one.

No edge may close a cycle. Adding one checks, in the write's transaction, that its ``from``
is not already upstream of its ``to``; every edge write first steps one counter shared by the
whole graph, so two edge writes at once conflict and the second runs again on a graph that
holds the first (two edges that would close a cycle together cannot both land).

A walk answers only the versions the caller may see: a version hidden from them is left
out with its edges (and the walk does not go through it); a deleted version, until the purge
removes it and its edges, is shown marked ``deleted``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from assets_core.collections import REGISTRY_FIELD
from assets_core.errors import Conflict, InvalidInput, NotFound
from assets_core.identity import current_caller, now_iso, stamp_of, visible_to
from assets_core.logic import versions
from assets_core.ports import DocumentStore
from assets_core.scoping import unscoped

UPSTREAM = "upstream"
DOWNSTREAM = "downstream"
BOTH = "both"
DIRECTIONS = (UPSTREAM, DOWNSTREAM, BOTH)
MAX_DEPTH = 10
# How far the cycle check looks upstream before it refuses an edge as too deep to check.
MAX_CHECKED_NODES = 20_000
BATCH = 500
# A walk answers at most this many versions (a response stays far below Lambda's 6 MB);
# one that reaches more says ``truncated``.
MAX_NODES = 2000
# The document every edge write steps, so that edge writes run one after another.
GRAPH_LOCK = "#graph"


class EdgeStore(Protocol):
    """The lineage collection, as a ``MongoDocumentStore`` offers it."""

    key_field: str

    def insert(self, document: Mapping[str, Any]) -> None: ...
    def get(self, key: str) -> dict[str, Any] | None: ...
    def find(
        self, query: Mapping[str, Any], *, sort: Any = (), skip: int = 0, limit: int = 100
    ) -> list[dict[str, Any]]: ...
    def delete_many(self, query: Mapping[str, Any]) -> int: ...
    def step(self, key: str, counter: str) -> int: ...


def node_key(asset_id: str, version: str) -> str:
    """A version as the walk names it: ``<asset_id>/<asset_version>`` (an id holds no /)."""
    return versions.version_key(asset_id, version)


def edge_key(source: str, relation: str, target: str) -> str:
    return f"{source}|{relation}|{target}"


def check_direction(direction: str | None) -> str:
    chosen = direction or BOTH
    if chosen not in DIRECTIONS:
        raise InvalidInput(
            "direction must be upstream, downstream or both.", code="INVALID_QUERY_PARAMETER"
        )
    return chosen


def check_depth(depth: int | str | None) -> int:
    if depth is None or depth == "":
        return 1
    try:
        chosen = int(depth)
    except (TypeError, ValueError):
        raise InvalidInput(
            "depth must be a whole number from 1 to 10.", code="INVALID_QUERY_PARAMETER"
        ) from None
    if not 1 <= chosen <= MAX_DEPTH:
        raise InvalidInput(f"depth must be from 1 to {MAX_DEPTH}.", code="INVALID_QUERY_PARAMETER")
    return chosen


def _target(edge: Mapping[str, Any], *, store: DocumentStore, versions_store: DocumentStore) -> str:
    """The node an edge points at: a live version the caller may see, else 404."""
    asset_id, wanted = str(edge["asset_id"]), str(edge["asset_version"])
    try:
        found = versions.read(asset_id, wanted, store=store, versions=versions_store)
    except NotFound:
        raise NotFound(
            f"The lineage target '{asset_id}' version '{wanted}' was not found.",
            code="LINEAGE_TARGET_NOT_FOUND",
        ) from None
    return node_key(asset_id, found.version)


def add(
    asset_id: str,
    version: str,
    edge: Mapping[str, Any],
    *,
    edges: EdgeStore,
    store: DocumentStore,
    versions_store: DocumentStore,
) -> dict[str, Any]:
    """Record an edge from this version (which the caller must be allowed to change) to
    another; 400 for an edge to itself, 404 for a target the caller cannot see, 409 for one
    that would close a cycle. Run in the write's transaction. The edge as recorded, with
    ``created`` False when it was recorded before (nothing changes)."""
    source = node_key(asset_id, version)
    target = _target(edge, store=store, versions_store=versions_store)
    relation = str(edge["relation"])
    if target == source:
        raise InvalidInput("A version cannot be its own lineage.", code="LINEAGE_SELF_EDGE")
    edges.step(GRAPH_LOCK, "steps")  # edge writes run one at a time: the check sees them all
    if _reaches(edges, start=target, goal=source):
        raise Conflict(
            f"The edge would close a cycle: '{source}' is already upstream of '{target}'.",
            code="LINEAGE_CYCLE",
        )
    key = edge_key(source, relation, target)
    recorded = edges.get(key)
    if recorded is not None:
        return {**_shown_edge(recorded), "created": False}
    target_id = target.split("/", 1)[0]
    document = {
        edges.key_field: key,
        "from_key": source,
        "to_key": target,
        "from_id": asset_id,
        "to_id": target_id,
        "relation": relation,
        "created_at": now_iso(),
        "created_by": stamp_of(current_caller()),
    }
    edges.insert(document)
    return {**_shown_edge(document), "created": True}


def declare(
    document: Mapping[str, Any],
    declared: list[dict[str, Any]],
    *,
    edges: EdgeStore,
    store: DocumentStore,
    versions_store: DocumentStore,
) -> list[dict[str, Any]]:
    """Record the edges a new version declared (its ``lineage``), in the transaction that
    creates it."""
    recorded = []
    for edge in declared:
        recorded.append(
            add(
                str(document["asset_id"]),
                str(document["asset_version"]),
                edge,
                edges=edges,
                store=store,
                versions_store=versions_store,
            )
        )
    return recorded


def _shown_edge(document: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "from": document["from_key"],
        "to": document["to_key"],
        "relation": document["relation"],
        "created_at": document.get("created_at"),
        "created_by": document.get("created_by"),
    }


def _reaches(edges: EdgeStore, *, start: str, goal: str) -> bool:
    """Whether ``goal`` is upstream of ``start`` (or is it)."""
    seen = {start}
    frontier = [start]
    while frontier:
        if goal in frontier:
            return True
        following: list[str] = []
        for batch in _batches(frontier):
            for found in edges.find({"from_key": {"$in": batch}}, limit=1_000_000):
                node = str(found["to_key"])
                if node not in seen:
                    seen.add(node)
                    following.append(node)
        if len(seen) > MAX_CHECKED_NODES:
            raise Conflict(
                "The lineage upstream of this target is too large to check for cycles.",
                code="LINEAGE_TOO_LARGE",
            )
        frontier = following
    return False


def _batches(keys: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(keys), BATCH):
        yield keys[start : start + BATCH]


def walk(
    asset_id: str,
    version: str | None,
    *,
    direction: str | None,
    depth: int | str | None,
    edges: EdgeStore,
    store: DocumentStore,
    versions_store: DocumentStore,
) -> dict[str, Any]:
    """The lineage around a version the caller may see, ``depth`` edges out (1-10, default
    1) ``direction`` (default both), as nodes and edges; only versions the caller may see
    are in it."""
    direction = check_direction(direction)
    depth = check_depth(depth)
    found = versions.read(asset_id, version, store=store, versions=versions_store)
    start = node_key(asset_id, found.version)
    nodes: dict[str, dict[str, Any] | None] = {start: _node(asset_id, found.document)}
    shown: dict[str, dict[str, Any]] = {}
    ways = [UPSTREAM, DOWNSTREAM] if direction == BOTH else [direction]
    truncated = False
    for way in ways:
        frontier = [start]
        for _ in range(depth):
            if _visible_count(nodes) >= MAX_NODES:
                truncated = truncated or bool(frontier)
                break
            frontier = _step(frontier, way, edges, versions_store, nodes, shown)
            if not frontier:
                break
    answer: dict[str, Any] = {
        "nodes": [node for node in nodes.values() if node is not None][:MAX_NODES],
        "edges": sorted(shown.values(), key=lambda e: (e["from"], e["relation"], e["to"])),
    }
    if truncated or _visible_count(nodes) > MAX_NODES:
        kept = {node["key"] for node in answer["nodes"]}
        answer["edges"] = [e for e in answer["edges"] if e["from"] in kept and e["to"] in kept]
        answer["truncated"] = True
    return answer


def _visible_count(nodes: Mapping[str, dict[str, Any] | None]) -> int:
    return sum(1 for node in nodes.values() if node is not None)


def _step(
    frontier: list[str],
    way: str,
    edges: EdgeStore,
    versions_store: DocumentStore,
    nodes: dict[str, dict[str, Any] | None],
    shown: dict[str, dict[str, Any]],
) -> list[str]:
    """One level of the walk: the edges out of the frontier, the nodes they reach that the
    caller may see; the next frontier."""
    near, far = ("from_key", "to_key") if way == UPSTREAM else ("to_key", "from_key")
    found_edges: list[dict[str, Any]] = []
    for batch in _batches(frontier):
        found_edges.extend(edges.find({near: {"$in": batch}}, limit=1_000_000))
    _learn(sorted({str(e[far]) for e in found_edges} - set(nodes)), versions_store, nodes)
    here = set(frontier)
    following: dict[str, None] = {}  # in the order reached, once each
    for edge in found_edges:
        other = str(edge[far])
        if nodes.get(other) is None:
            continue  # hidden from the caller (or gone): left out, with its edges
        key = str(edge[edges.key_field])
        if key not in shown:
            shown[key] = {
                "from": edge["from_key"],
                "to": edge["to_key"],
                "relation": edge["relation"],
            }
        if other not in here:
            following[other] = None
    return list(following)


def _learn(
    keys: list[str], versions_store: DocumentStore, nodes: dict[str, dict[str, Any] | None]
) -> None:
    """Look up versions by key, as the caller may see them (deleted ones too, marked)."""
    every = unscoped(versions_store)
    visible = visible_to(current_caller())
    for batch in _batches(keys):
        query: dict[str, Any] = {"version_key": {"$in": batch}}
        if visible is not None:
            query = {"$and": [query, visible]}
        for document in every.find(query, limit=len(batch)):
            nodes[str(document["version_key"])] = _node(str(document["asset_id"]), document)
        for key in batch:
            nodes.setdefault(key, None)


def _node(asset_id: str, document: Mapping[str, Any]) -> dict[str, Any]:
    profiles = document.get("profiles") or []
    asset_type = None
    if profiles and isinstance(profiles[0], Mapping):
        asset_type = profiles[0].get("asset_type")
    node = {
        "key": node_key(asset_id, str(document["asset_version"])),
        "asset_id": asset_id,
        "asset_version": document["asset_version"],
        "asset_type": asset_type,
    }
    marks = document.get(REGISTRY_FIELD) or {}
    if isinstance(marks, Mapping) and (marks.get("deleted_at") or marks.get("asset_deleted_at")):
        node["deleted"] = True
    return node


def forget(edges: EdgeStore, *, asset_id: str, version: str | None = None) -> int:
    """Remove the edges of a version (or of every version of an asset), at its purge."""
    if version is None:
        return edges.delete_many({"$or": [{"from_id": asset_id}, {"to_id": asset_id}]})
    key = node_key(asset_id, version)
    return edges.delete_many({"$or": [{"from_key": key}, {"to_key": key}]})
