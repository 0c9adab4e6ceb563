"""Lineage between asset versions, the audit trail and its change events (the contract's
"Lineage" and "Audit and change events"), through the handlers, on the session's MongoDB
wire server (transactions and all) and S3."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import pytest

from assets_core.identity import ADMIN, READER, WRITER
from assets_core.stores.factory import assets_store, audit_trail
from functions.assetdb.handler import handler as assetdb_handler
from functions.components.handler import handler as components_handler
from functions.dbregistry.handler import handler as dbregistry_handler
from functions.registry_graphql.handler import handler as graphql_handler
from functions.registry_query.handler import handler as query_handler
from functions.registry_write.handler import handler as write_handler
from tests.integration.test_ingest import run, status_of, upload
from tests.integration.test_versions import add_version, call, create
from tests.support import bundle_asset, caller, event, invoke, make_asset, zip_bytes

pytestmark = pytest.mark.usefixtures("s3", "status")

ALICE = caller("alice", WRITER)
BOB = caller("bob", WRITER)
CAROL = caller("carol", READER)
ANN = caller("ann", ADMIN)


class RecordingBus:
    """An event bus that takes every entry (or refuses all while ``down``)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.down = False

    def put(self, entries: Sequence[Mapping[str, Any]]) -> list[bool]:
        if self.down:
            raise ConnectionError("the bus is unreachable")
        self.events.extend(dict(entry) for entry in entries)
        return [True] * len(entries)


@pytest.fixture
def bus() -> RecordingBus:
    recording = RecordingBus()
    audit_trail().publisher = recording
    return recording


def lineage_of(asset_id: str, who: Any = None, **query: str) -> tuple[int, Any]:
    return call(
        query_handler,
        "apigw_registry_get_lineage",
        f"/registry/assets/{asset_id}/lineage",
        who=who,
        query=query or None,
        asset_id=asset_id,
    )


def link(
    asset_id: str, relation: str, target: str, version: str, who: Any = None
) -> tuple[int, Any]:
    return call(
        write_handler,
        "apigw_registry_post_lineage",
        f"/registry/assets/{asset_id}/lineage",
        who=who,
        body={"relation": relation, "asset_id": target, "asset_version": version},
        asset_id=asset_id,
    )


def audit(who: Any = None, **query: str) -> tuple[int, Any]:
    return call(query_handler, "apigw_registry_get_audit", "/registry/audit", who=who, query=query)


def keys(graph: dict[str, Any]) -> set[str]:
    return {node["key"] for node in graph["nodes"]}


def model_trained_on_a_dataset_from_a_base() -> None:
    create("dataset-1", asset_version="d1")
    create("base-1", asset_version="b1")
    status, body = invoke(
        write_handler,
        event(
            "apigw_registry_post_assets",
            body=make_asset(
                "model-1",
                asset_version="m1",
                lineage=[
                    {"relation": "trained_on", "asset_id": "dataset-1", "asset_version": "d1"},
                    {"relation": "derived_from", "asset_id": "base-1", "asset_version": "b1"},
                ],
            ),
        ),
    )
    assert status == 201, body


# -- lineage ---------------------------------------------------------------------------------


def test_a_model_shows_its_dataset_and_base_upstream_and_each_shows_it_downstream() -> None:
    model_trained_on_a_dataset_from_a_base()
    status, up = lineage_of("model-1", direction="upstream")
    assert status == 200, up
    assert keys(up) == {"model-1/m1", "dataset-1/d1", "base-1/b1"}
    assert {(e["from"], e["relation"], e["to"]) for e in up["edges"]} == {
        ("model-1/m1", "trained_on", "dataset-1/d1"),
        ("model-1/m1", "derived_from", "base-1/b1"),
    }
    for upstream in ("dataset-1", "base-1"):
        status, down = lineage_of(upstream, direction="downstream")
        assert status == 200
        assert "model-1/m1" in keys(down)
        status, none_up = lineage_of(upstream, direction="upstream")
        assert keys(none_up) == {f"{upstream}/{upstream[0]}1"}


def test_graphql_walks_the_same_lineage() -> None:
    model_trained_on_a_dataset_from_a_base()
    query = (
        '{ lineage(assetId: "model-1", direction: "upstream", depth: 2) '
        "{ nodes { assetId assetVersion } edges { from to relation } } }"
    )
    status, body = invoke(
        graphql_handler, event("apigw_registry_graphql_post", body={"query": query})
    )
    assert status == 200, body
    graph = body["data"]["lineage"]
    assert {n["assetId"] for n in graph["nodes"]} == {"model-1", "dataset-1", "base-1"}
    assert len(graph["edges"]) == 2


def test_edges_by_route_walk_to_depth_and_refuse_cycles() -> None:
    for name in ("a", "b", "c"):
        create(name, asset_version="1")
    assert link("b", "derived_from", "a", "1")[0] == 201
    assert link("c", "fine_tuned_from", "b", "1")[0] == 201
    assert keys(lineage_of("c", direction="upstream", depth="1")[1]) == {"c/1", "b/1"}
    assert keys(lineage_of("c", direction="upstream", depth="2")[1]) == {"c/1", "b/1", "a/1"}
    status, body = link("a", "derived_from", "c", "1")
    assert (status, body["error"]["code"]) == (409, "LINEAGE_CYCLE")
    # the same edge again is the same edge
    assert link("b", "derived_from", "a", "1")[0] == 200
    assert len(lineage_of("b", direction="upstream")[1]["edges"]) == 1


def test_two_edges_that_would_close_a_cycle_together_cannot_both_land() -> None:
    create("p", asset_version="1")
    create("q", asset_version="1")
    results: list[int] = []
    barrier = threading.Barrier(2)

    def add(source: str, target: str) -> None:
        barrier.wait()
        results.append(link(source, "depends_on", target, "1")[0])

    threads = [
        threading.Thread(target=add, args=("p", "q")),
        threading.Thread(target=add, args=("q", "p")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [201, 409]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {"relation": "trained_on", "asset_id": "a", "asset_version": "1"},
            400,
            "LINEAGE_SELF_EDGE",
        ),
        ({"relation": "trained_on", "asset_id": "nope", "asset_version": "1"}, 404, None),
        ({"relation": "trained_on", "asset_id": "a", "asset_version": "9"}, 404, None),
        ({"relation": "liked", "asset_id": "b", "asset_version": "1"}, 400, None),
        ({"relation": "x-reviewed_by", "asset_id": "b", "asset_version": "1"}, 201, None),
    ],
)
def test_bad_edges_are_refused(body: dict[str, Any], status: int, code: str | None) -> None:
    create("a", asset_version="1")
    create("b", asset_version="1")
    got, answer = call(
        write_handler,
        "apigw_registry_post_lineage",
        "/registry/assets/a/lineage",
        body=body,
        asset_id="a",
    )
    assert got == status, answer
    if code:
        assert answer["error"]["code"] == code


@pytest.mark.parametrize(
    "query", [{"depth": "0"}, {"depth": "11"}, {"depth": "x"}, {"direction": "sideways"}]
)
def test_bad_walks_are_400(query: dict[str, str]) -> None:
    create("a", asset_version="1")
    assert lineage_of("a", **query)[0] == 400


def test_a_private_version_is_left_out_with_its_edges_and_a_deleted_one_is_marked() -> None:
    create("secret-data", who=BOB, asset_version="s1", visibility="private")
    create("pub-base", who=BOB, asset_version="p1", visibility="public")
    create("model-x", who=ANN, asset_version="x1", visibility="public")
    assert link("model-x", "trained_on", "secret-data", "s1", who=ANN)[0] == 201
    assert link("model-x", "derived_from", "pub-base", "p1", who=ANN)[0] == 201
    # alice cannot link to what she cannot see
    create("alices", who=ALICE, asset_version="1")
    assert link("alices", "trained_on", "secret-data", "s1", who=ALICE)[0] == 404
    status, graph = lineage_of("model-x", who=CAROL, direction="upstream")
    assert status == 200
    assert keys(graph) == {"model-x/x1", "pub-base/p1"}
    assert "secret-data" not in str(graph)
    # a deleted version stays, marked, until it is purged
    status, _ = call(
        write_handler,
        "apigw_registry_delete_asset",
        "/registry/assets/pub-base",
        who=BOB,
        asset_id="pub-base",
    )
    assert status == 200
    graph = lineage_of("model-x", who=ANN, direction="upstream")[1]
    deleted = [n for n in graph["nodes"] if n["asset_id"] == "pub-base"]
    assert deleted
    assert deleted[0]["deleted"] is True
    status, _ = call(
        write_handler,
        "apigw_registry_purge_asset",
        "/registry/assets/pub-base",
        who=ANN,
        query={"purge": "true"},
        asset_id="pub-base",
    )
    assert status == 200
    graph = lineage_of("model-x", who=ANN, direction="upstream")[1]
    assert keys(graph) == {"model-x/x1", "secret-data/s1"}


def test_a_bundle_declares_its_lineage_and_a_missing_target_fails_it() -> None:
    create("ds", asset_version="d1", visibility="public")
    good = upload(
        zip_bytes(
            {"w.bin": b"w"},
            asset=bundle_asset(
                "bundled-model",
                lineage=[{"relation": "trained_on", "asset_id": "ds", "asset_version": "d1"}],
            ),
        )
    )
    run(good)
    assert status_of(good)["status"] == "success"
    assert "ds/d1" in keys(lineage_of("bundled-model", direction="upstream")[1])
    bad = upload(
        zip_bytes(
            {"w.bin": b"w"},
            asset=bundle_asset(
                "orphan-model",
                lineage=[{"relation": "trained_on", "asset_id": "ghost", "asset_version": "1"}],
            ),
        )
    )
    run(bad)
    assert status_of(bad)["status"].startswith("failed")
    assert assets_store().get("orphan-model") is None


# -- audit and events ------------------------------------------------------------------------


def records() -> list[dict[str, Any]]:
    status, body = audit(who=ANN, limit="1000")
    assert status == 200, body
    return list(body["items"])


WRITES: list[tuple[str, Any, str, dict[str, Any]]] = [
    # (action, handler, recorded event, what the event needs)
    ("AssetVersionCreated", write_handler, "apigw_registry_post_assets", {}),
    ("AssetUpdated", write_handler, "apigw_registry_put_asset", {}),
    ("AssetVersionCreated", write_handler, "apigw_registry_post_version", {}),
    ("AliasSet", write_handler, "apigw_registry_put_alias", {}),
    ("AliasDeleted", write_handler, "apigw_registry_delete_alias", {}),
    ("LineageAdded", write_handler, "apigw_registry_post_lineage", {}),
    ("AssetVersionDeleted", write_handler, "apigw_registry_delete_version", {}),
    ("AssetVersionRestored", write_handler, "apigw_registry_restore_version", {}),
    ("AssetDeleted", write_handler, "apigw_registry_delete_asset", {}),
    ("AssetRestored", write_handler, "apigw_registry_restore_asset", {}),
    ("AssetPurged", write_handler, "apigw_registry_purge_asset", {}),
    ("ComponentRegistered", components_handler, "apigw_components_register", {}),
    ("ComponentUpdated", components_handler, "apigw_components_update", {}),
    ("ComponentUpdated", components_handler, "apigw_components_add_metadata", {}),
    ("ComponentUpdated", components_handler, "apigw_components_update_metadata", {}),
    ("ComponentUnregistered", components_handler, "apigw_components_unregister", {}),
    ("RegistryCreated", dbregistry_handler, "apigw_dbregistry_create", {}),
    ("RegistryUpdated", dbregistry_handler, "apigw_dbregistry_put", {}),
    ("RegistryDeleted", dbregistry_handler, "apigw_dbregistry_delete", {}),
    ("AssetRecordCreated", assetdb_handler, "apigw_assetdb_create_external", {}),
    ("AssetRecordUpdated", assetdb_handler, "apigw_assetdb_put_asset", {}),
    ("AssetRecordDeleted", assetdb_handler, "apigw_assetdb_delete_asset", {}),
    ("AssetRecordCreated", assetdb_handler, "apigw_assetdb_upload_asset_presigned", {}),
    ("AssetRecordUpdated", assetdb_handler, "by-id:apigw_assetdb_put_asset", {}),
    ("AssetRecordDeleted", assetdb_handler, "by-id:apigw_assetdb_delete_asset", {}),
    ("AssetRecordCreated", assetdb_handler, "apigw_assetdb_upload_asset", {}),
]


def _prepared(
    name: str, registry_id: str | None, uri: str | None = None, record_id: str | None = None
) -> dict[str, Any]:
    """The recorded event, pointed at what the walk created before it."""
    if name.startswith("by-id:"):  # the same change, by the record's id
        request = event(name.removeprefix("by-id:"))
        method = request["requestContext"]["http"]["method"]
        request["routeKey"] = f"{method} /assetdb/asset-by-id/{{asset_id}}"
        request["pathParameters"] = {"asset_id": record_id}
        request["rawPath"] = f"/assetdb/asset-by-id/{record_id}"
        request["requestContext"]["http"]["path"] = request["rawPath"]
        return request
    request = event(name)
    if name == "apigw_registry_post_version":
        request["body"] = json.dumps(make_asset("asset-001", asset_version="v2"))
    if name in ("apigw_registry_put_alias",):
        request["body"] = '{"asset_version": "v2"}'
    if name in ("apigw_registry_delete_version", "apigw_registry_restore_version"):
        request["pathParameters"] = {"asset_id": "asset-001", "version": "v1"}
        suffix = "/restore" if "restore" in name else ""
        request["rawPath"] = f"/registry/assets/asset-001/versions/v1{suffix}"
        request["requestContext"]["http"]["path"] = request["rawPath"]
    if name in ("apigw_dbregistry_put", "apigw_dbregistry_delete") and registry_id:
        request["pathParameters"] = {"registry_id": registry_id}
        request["rawPath"] = f"/dbregistry/asset_registry/{registry_id}"
        request["requestContext"]["http"]["path"] = request["rawPath"]
    if name == "apigw_assetdb_create_external":
        fields = json.loads(request["body"])
        request["body"] = json.dumps({**fields, "asset_name": "SampleAsset"})
    if name in ("apigw_assetdb_put_asset", "apigw_assetdb_delete_asset") and uri:
        request["pathParameters"] = {"asset_uri": uri}
        request["rawPath"] = f"/assetdb/asset/{quote(uri, safe=':')}"
        request["requestContext"]["http"]["path"] = request["rawPath"]
    return request


def test_every_write_route_leaves_one_audit_record_and_one_event(bus: RecordingBus) -> None:
    # the lineage edge needs its target
    create("dataset-001", asset_version="1.0.0")
    before = len(records())
    sent_before = len(bus.events)
    registry_id: str | None = None
    uri: str | None = None
    record_id: str | None = None
    for action, handler, name, _ in WRITES:
        status, body = invoke(handler, _prepared(name, registry_id, uri, record_id))
        assert status in (200, 201), (name, status, body)
        if name == "apigw_dbregistry_create":
            registry_id = body["asset_registry_id"]
        if name == "apigw_assetdb_create_external":
            uri = body["asset_uri"]
        if name == "apigw_assetdb_upload_asset_presigned":
            record_id = body["asset_id"]
        found = records()
        assert len(found) == before + 1, (name, found[:2])
        assert found[0]["action"] == action, name
        assert len(bus.events) == sent_before + 1, name
        before, sent_before = len(found), len(bus.events)
    # every route that writes is in the walk
    from assets_core.routes import WRITE, all_routes

    writes = {r.route_key for _, r in all_routes() if r.access == WRITE and r.method != "GET"}
    walked = {_prepared(name, "r", "u", "i")["routeKey"] for _, _, name, _ in WRITES}
    # An upload ticket, or a session's parts, completion or abort, changes nothing yet: the
    # upload's outcome is its record (ingest's, or the Assets DB file's arrival).
    sessions = {
        f"{method} {prefix}/uploads/{{upload_id}}{tail}"
        for prefix in ("/registry", "/assetdb")
        for method, tail in (("POST", "/parts"), ("POST", "/complete"), ("DELETE", ""))
    }
    assert writes - walked == {"POST /registry/zip/upload", *sessions}


def test_an_upload_records_its_outcome(bus: RecordingBus) -> None:
    good = upload(zip_bytes({"a.txt": b"a"}, asset=bundle_asset("up-1")))
    run(good)
    bad = upload(b"not a zip")
    run(bad)
    found = records()
    outcomes = {(r["action"], r.get("upload_id") or r["id"]) for r in found}
    assert ("AssetVersionCreated", good) in outcomes
    assert ("UploadFailed", bad) in outcomes
    assert len(found) == 2
    assert len(bus.events) == 2


def test_a_refused_write_leaves_no_record(bus: RecordingBus) -> None:
    create("a-1")
    before = len(records())
    status, _ = invoke(write_handler, event("apigw_registry_post_assets", body=make_asset("a-1")))
    assert status == 400
    assert len(records()) == before
    status, _ = call(
        write_handler,
        "apigw_registry_put_asset",
        "/registry/assets/a-1",
        who=BOB,
        body={"asset_brief_description": "x"},
        asset_id="a-1",
    )
    assert status in (403, 404)
    assert len(records()) == before


def test_records_name_actor_changes_and_type_and_filter_newest_first(bus: RecordingBus) -> None:
    create("m-1", who=ALICE, asset_version="1")
    status, _ = call(
        write_handler,
        "apigw_registry_put_asset",
        "/registry/assets/m-1",
        who=ALICE,
        body={"asset_brief_description": "better"},
        asset_id="m-1",
    )
    assert status == 200
    status, body = audit(who=ANN, resource="asset", id="m-1")
    assert status == 200
    updated, created = body["items"]
    assert (updated["action"], created["action"]) == ("AssetUpdated", "AssetVersionCreated")
    assert updated["actor"] == created["actor"] == "alice"
    assert updated["changes"] == ["asset_brief_description"]
    assert created["asset_type"] == ["model"]
    assert (created["seq"], updated["seq"]) == (1, 2)
    assert audit(who=ANN, actor="nobody")[1]["items"] == []
    assert audit(who=ANN, since="2999-01-01T00:00:00Z")[1]["items"] == []
    page = audit(who=ANN, limit="1")[1]
    assert len(page["items"]) == 1
    assert page["next_cursor"]
    # the event is the record
    detail = json.loads(bus.events[-1]["Detail"])
    assert bus.events[-1]["Source"] == "assets-registry.registry"
    assert bus.events[-1]["DetailType"] == "AssetUpdated"
    assert detail["id"] == "m-1"
    assert detail["seq"] == 2


@pytest.mark.parametrize("who", [ALICE, CAROL, None])
def test_the_audit_trail_is_for_admins(who: Any) -> None:
    status, _ = audit(who=who or caller(None))
    assert status in (401, 403)
    if who is not None:
        assert status == 403


def test_a_bad_since_is_400() -> None:
    assert audit(who=ANN, since="yesterday")[0] == 400


def test_a_bus_outage_loses_no_event_and_fails_no_write(bus: RecordingBus) -> None:
    bus.down = True
    create("m-1", asset_version="1")
    for n in range(2, 5):
        assert add_version("m-1", str(n))[0] == 201
    assert bus.events == []
    assert audit_trail().waiting() == 4
    bus.down = False
    assert audit_trail().publish() == 4
    sent = [json.loads(e["Detail"]) for e in bus.events]
    assert [e["seq"] for e in sent] == [1, 2, 3, 4]
    assert audit_trail().waiting() == 0
    assert audit_trail().publish() == 0  # nothing twice


def test_with_eventbridge_unreachable_writes_succeed_and_the_outbox_function_sends_later(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os
    import socket
    import time as clock

    import boto3
    from botocore.config import Config

    from assets_core.stores.audit import EventBridgePublisher
    from functions.outbox.handler import handler as outbox_handler
    from local.apigw import LocalContext
    from local.events import EventLog, configure_events

    # Given the trail publishing to a bus whose endpoint refuses connections
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    config = Config(connect_timeout=1, read_timeout=3, retries={"max_attempts": 1})
    trail = audit_trail()
    trail.publisher = EventBridgePublisher(
        boto3.client("events", endpoint_url=dead, config=config), "it-events"
    )
    # When assets are written
    started = clock.monotonic()
    create("m-out", asset_version="1")
    assert add_version("m-out", "2")[0] == 201
    took = clock.monotonic() - started
    # Then the writes succeed at once and their events wait in the outbox
    assert took < 5
    assert trail.waiting() == 2
    # and once the bus answers, the outbox function publishes them, in order
    endpoint = os.environ["S3_ENDPOINT_URL"]
    log = EventLog(endpoint, configure_events(endpoint, "it-events"))
    log.drain()
    trail.publisher = EventBridgePublisher(
        boto3.client("events", endpoint_url=endpoint), "it-events"
    )
    assert outbox_handler({}, LocalContext("outbox")) == {"published": 2, "waiting": 0}
    deadline = clock.monotonic() + 10
    while len(log.listed({"id": "m-out"})) < 2 and clock.monotonic() < deadline:
        clock.sleep(0.1)
    received = log.listed({"id": "m-out"})
    assert sorted(e["detail"]["seq"] for e in received) == [1, 2]
    assert {e["source"] for e in received} == {"assets-registry.registry"}


# -- what the review found ---------------------------------------------------------------


def test_declared_lineage_is_not_in_the_document_a_reader_gets() -> None:
    create("secret-ds", who=ALICE, asset_version="s1", visibility="private")
    document = make_asset(
        "alice-model",
        asset_version="m1",
        visibility="public",
        lineage=[{"relation": "trained_on", "asset_id": "secret-ds", "asset_version": "s1"}],
    )
    status, created = invoke(
        write_handler, event("apigw_registry_post_assets", body=document, caller=ALICE)
    )
    assert status == 201, created
    assert "lineage" not in created
    status, read = call(
        query_handler,
        "apigw_registry_get_asset",
        "/registry/assets/alice-model",
        who=CAROL,
        asset_id="alice-model",
    )
    assert status == 200
    assert "secret-ds" not in json.dumps(read)
    assert keys(lineage_of("alice-model", who=CAROL, direction="upstream")[1]) == {"alice-model/m1"}
    assert "secret-ds/s1" in keys(lineage_of("alice-model", who=ALICE, direction="upstream")[1])


def test_an_edge_added_again_changes_nothing_and_records_nothing(bus: RecordingBus) -> None:
    create("a", asset_version="1")
    create("b", asset_version="1")
    assert link("b", "derived_from", "a", "1")[0] == 201
    before = len(records())
    again, edge = link("b", "derived_from", "a", "1")
    assert (again, edge["from"], edge["to"]) == (200, "b/1", "a/1")
    assert len(records()) == before


def test_a_write_whose_commit_fails_deletes_no_file_and_no_record(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pymongo.errors import AutoReconnect

    from assets_core.stores import documents

    status, created = invoke(assetdb_handler, event("apigw_assetdb_upload_asset"))
    assert status == 201, created
    key = created["asset_file_info"]["key"]

    def refused(started: Any) -> None:
        raise AutoReconnect("connection closed before the commit")

    monkeypatch.setattr(documents, "_commit", refused)
    request = _prepared("by-id:apigw_assetdb_delete_asset", None, record_id=created["asset_id"])
    assert invoke(assetdb_handler, request)[0] == 503
    monkeypatch.undo()
    # the record and its file are both still there
    found = s3.list_objects_v2(Bucket=audit_bucket(), Prefix=key).get("KeyCount")
    assert found == 1
    assert (
        invoke(
            assetdb_handler,
            _prepared("by-id:apigw_assetdb_put_asset", None, record_id=created["asset_id"]),
        )[0]
        == 200
    )


def audit_bucket() -> str:
    from assets_core.config import get_settings

    return get_settings().bucket_name


def test_an_unknown_commit_outcome_is_a_503_never_a_second_run(
    monkeypatch: pytest.MonkeyPatch, bus: RecordingBus
) -> None:
    from pymongo.errors import OperationFailure

    from assets_core.stores import documents

    sent: list[int] = []
    real = documents.ClientSession.commit_transaction

    def landed_then_unknown(started: Any) -> None:
        sent.append(1)
        if len(sent) == 1:
            real(started)  # it lands...
        raise OperationFailure("lost", 50, {"errorLabels": ["UnknownTransactionCommitResult"]})

    monkeypatch.setattr(documents.ClientSession, "commit_transaction", landed_then_unknown)
    status, _ = invoke(components_handler, event("apigw_components_register"))
    monkeypatch.undo()
    # ...and the commit is sent again (never the work), then the write is a 503
    assert status == 503
    assert len(sent) == 3
    found = [r for r in records() if r["action"] == "ComponentRegistered"]
    assert len(found) == 1


def test_a_secret_of_an_attempt_that_runs_again_is_deleted(monkeypatch: pytest.MonkeyPatch) -> None:
    from assets_core.stores import documents
    from assets_core.stores.factory import credentials_vault

    vault = credentials_vault()
    assert vault is not None
    attempts = {"n": 0}
    real = documents._attempt_once

    def conflicting_once(work: Any) -> Any:
        attempts["n"] += 1
        if attempts["n"] == 1:

            def failing() -> Any:
                work()
                raise documents._RunAgain

            return real(failing)
        return real(work)

    monkeypatch.setattr(documents, "_attempt_once", conflicting_once)
    asset_id = f"creds-{uuid.uuid4().hex[:8]}"  # the session's Secrets Manager is shared
    document = make_asset(asset_id)
    document["asset_container_registry_creds_config"] = {"username": "u", "password": "p"}
    status, body = invoke(write_handler, event("apigw_registry_post_assets", body=document))
    assert status == 201, body
    assert attempts["n"] == 2
    client = vault.client  # type: ignore[attr-defined]
    names = [
        s["Name"]
        for page in client.get_paginator("list_secrets").paginate()
        for s in page["SecretList"]
        if any(t == {"Key": "asset_id", "Value": asset_id} for t in s.get("Tags", []))
        and "DeletedDate" not in s
    ]
    assert len(names) == 1, names


def test_a_request_publishes_one_batch_and_leaves_a_backlog_to_the_outbox(
    bus: RecordingBus,
) -> None:
    bus.down = True
    create("m-b", asset_version="1")
    for n in range(2, 26):
        assert add_version("m-b", str(n))[0] == 201
    assert audit_trail().waiting() == 25
    bus.down = False
    assert add_version("m-b", "26")[0] == 201
    assert len(bus.events) == 10  # the oldest ten, in order
    assert [json.loads(e["Detail"])["seq"] for e in bus.events] == list(range(1, 11))
    assert audit_trail().publish() == 16
    assert [json.loads(e["Detail"])["seq"] for e in bus.events] == list(range(1, 27))


def test_a_drainer_whose_lease_ran_out_stops(
    monkeypatch: pytest.MonkeyPatch, bus: RecordingBus
) -> None:
    from assets_core.stores import audit as adapter

    bus.down = True
    create("m-l", asset_version="1")
    for n in range(2, 31):
        assert add_version("m-l", str(n))[0] == 201
    bus.down = False
    trail = audit_trail()
    monkeypatch.setattr(trail, "_renew", lambda stream, token: False)
    assert trail.publish() == 10  # one batch, then the lease is found lost
    monkeypatch.undo()
    assert trail.publish() == 20
    assert [json.loads(e["Detail"])["seq"] for e in bus.events] == list(range(1, 31))
    del adapter


def test_a_failed_upload_is_recorded_once_however_often_it_runs(bus: RecordingBus) -> None:
    from assets_core.logic import audit as audit_logic
    from assets_core.stores.factory import upload_stores

    bad = upload(b"not a zip")
    run(bad)
    trail = upload_stores().trail
    audit_logic.recorded_once(trail, "registry", audit_logic.upload_failed(bad, "again"))
    failures = [r for r in records() if r["action"] == "UploadFailed"]
    assert len(failures) == 1


def test_a_presigned_assets_db_file_that_arrives_is_recorded(s3: Any, bus: RecordingBus) -> None:
    from functions.ingest.handler import ingest
    from local.apigw import LocalContext
    from tests.support import EVENTS

    status, created = invoke(assetdb_handler, event("apigw_assetdb_upload_asset_presigned"))
    assert status == 201
    key = created["asset_file_info"]["key"]
    s3.put_object(Bucket=audit_bucket(), Key=key, Body=b"w" * 1000)
    record = json.loads((EVENTS / "sqs_s3_object_created.json").read_text())
    body = json.loads(record["Records"][0]["body"])
    body["Records"][0]["s3"]["object"]["key"] = key
    record["Records"][0]["body"] = json.dumps(body)
    assert ingest(record, LocalContext("ingest")) == {"batchItemFailures": []}
    assert ingest(record, LocalContext("ingest")) == {"batchItemFailures": []}  # again: no change
    actions = [r["action"] for r in records() if r["id"] == created["asset_id"]]
    assert actions == ["AssetObjectStored", "AssetRecordCreated"]


def test_a_walk_past_its_bound_says_it_is_truncated(monkeypatch: pytest.MonkeyPatch) -> None:
    from assets_core.logic import lineage as lineage_logic

    monkeypatch.setattr(lineage_logic, "MAX_NODES", 3)
    create("hub", asset_version="1")
    for n in range(5):
        create(f"leaf-{n}", asset_version="1")
        assert link(f"leaf-{n}", "derived_from", "hub", "1")[0] == 201
    graph = lineage_of("hub", direction="downstream", depth="2")[1]
    assert graph["truncated"] is True
    assert len(graph["nodes"]) == 3
    kept = keys(graph)
    assert all(e["from"] in kept and e["to"] in kept for e in graph["edges"])
    assert "truncated" not in lineage_of("leaf-0", direction="upstream")[1]


def test_a_write_after_a_failed_call_in_a_transaction_never_lands_alone(
    monkeypatch: pytest.MonkeyPatch, bus: RecordingBus
) -> None:
    from assets_core.errors import AppError
    from assets_core.stores.factory import versions_store

    # Given an update whose copy of the version fails once (mirror_current swallows it)
    create("m-f", asset_version="1")
    mirrored = versions_store().unscoped
    real_put = type(mirrored).put
    failures = {"left": 1}

    def failing_put(self: Any, key: str, document: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            try:  # a write the server refuses, inside the transaction
                self._run(
                    lambda: self.collection.database["scratch"].insert_one(
                        {"_id": "taken"}, session=session_of()
                    )
                )
            except AppError:
                failures["refused"] = 1
                raise
        real_put(self, key, document)

    from assets_core.stores.documents import session as session_of

    mirrored.collection.database["scratch"].insert_one({"_id": "taken"})
    monkeypatch.setattr(type(mirrored), "put", failing_put)
    # When it is made
    status, answer = call(
        write_handler,
        "apigw_registry_put_asset",
        "/registry/assets/m-f",
        body={"asset_brief_description": "changed"},
        asset_id="m-f",
    )
    # Then it lands once, with one record: the attempt that failed wrote nothing alone
    assert status == 200, answer
    found = [r for r in records() if r["id"] == "m-f"]
    assert failures.get("refused") == 1, "the store refused the copy once"
    assert [r["seq"] for r in found] == [2, 1]


def test_a_deleted_version_stays_in_the_walk_marked_until_purged() -> None:
    create("ds-v", asset_version="1")
    assert add_version("ds-v", "2")[0] == 201
    create("m-v", asset_version="1")
    assert link("m-v", "trained_on", "ds-v", "1")[0] == 201
    status, _ = call(
        write_handler,
        "apigw_registry_delete_version",
        "/registry/assets/ds-v/versions/1",
        asset_id="ds-v",
        version="1",
    )
    assert status == 200
    graph = lineage_of("m-v", direction="upstream")[1]
    [node] = [n for n in graph["nodes"] if n["key"] == "ds-v/1"]
    assert node["deleted"] is True
    # nor can a new edge point at it
    assert link("m-v", "derived_from", "ds-v", "1")[0] == 404
