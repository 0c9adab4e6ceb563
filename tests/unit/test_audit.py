"""The audit records' shape and the helpers that build them (``logic/audit.py``)."""

from __future__ import annotations

import pytest

from assets_core.errors import Forbidden, InvalidInput
from assets_core.identity import ADMIN, WRITER, Caller, acting_as
from assets_core.logic import audit, lineage


def test_a_record_has_the_contracts_fields_then_its_details_and_its_place() -> None:
    change = audit.Change(
        "AssetUpdated", "asset", "m-1", version="v2", changes=("b", "a"), detail={"x": 1}
    )
    record = audit.record_of("registry", change, at="T", by="alice", seq=3)
    assert record == {
        "at": "T",
        "actor": "alice",
        "action": "AssetUpdated",
        "service": "registry",
        "resource": "asset",
        "id": "m-1",
        "version": "v2",
        "changes": ["a", "b"],
        "x": 1,
        "seq": 3,
    }
    bare = audit.record_of(
        "components", audit.Change("ComponentRegistered", "component", "c"), at="T", by="s", seq=1
    )
    assert "version" not in bare
    assert "changes" not in bare


def test_changed_fields_ignore_the_server_stamps() -> None:
    before = {"a": 1, "b": 2, "updated_at": "x", "updated_by": "p"}
    after = {"a": 1, "b": 3, "c": 4, "updated_at": "y", "updated_by": "q"}
    assert audit.changed_fields(before, after) == ("b", "c")


def test_asset_types_come_from_every_profile_once() -> None:
    document = {
        "profiles": [{"asset_type": "model"}, {"asset_type": "dataset"}, {"asset_type": "model"}],
        "asset_id": "a",
        "asset_version": "1",
    }
    assert audit.asset_types(document) == ["model", "dataset"]
    assert audit.version_created(document).detail == {"asset_type": ["model", "dataset"]}
    assert audit.asset_types({"profiles": ["odd", {"asset_type": 3}]}) == []


def test_the_system_is_its_own_actor() -> None:
    assert audit.actor() == "system"
    with acting_as(Caller(sub="alice", roles=frozenset({WRITER}))):
        assert audit.actor() == "alice"


def test_the_audit_query_is_for_admins_and_checks_since() -> None:
    with acting_as(Caller(sub="alice", roles=frozenset({WRITER}))), pytest.raises(Forbidden):
        audit.audit_query(resource=None, id=None, actor=None, since=None)
    with acting_as(Caller(sub="ann", roles=frozenset({ADMIN}))):
        query = audit.audit_query(
            resource="asset", id="m", actor=None, since="2026-12-01T10:00:00+01:00"
        )
        assert query == {"resource": "asset", "id": "m", "at": {"$gte": "2026-12-01T09:00:00.000Z"}}
        assert audit.audit_query(resource=None, id=None, actor=None, since="2026-12-01")["at"] == {
            "$gte": "2026-12-01T00:00:00.000Z"
        }
        for bad in ("soon", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"):
            with pytest.raises(InvalidInput):
                audit.audit_query(resource=None, id=None, actor=None, since=bad)


def test_recorded_without_a_trail_only_writes() -> None:
    assert audit.recorded(None, "registry", lambda: 7, audit.Change("A", "asset", "x")) == 7


@pytest.mark.parametrize(("given", "wanted"), [(None, 1), ("", 1), ("1", 1), (10, 10)])
def test_depths(given: object, wanted: int) -> None:
    assert lineage.check_depth(given) == wanted  # type: ignore[arg-type]


@pytest.mark.parametrize("given", [0, 11, "-1", "two", "1.5"])
def test_bad_depths(given: object) -> None:
    with pytest.raises(InvalidInput):
        lineage.check_depth(given)  # type: ignore[arg-type]


def test_directions() -> None:
    assert lineage.check_direction(None) == "both"
    assert lineage.check_direction("upstream") == "upstream"
    with pytest.raises(InvalidInput):
        lineage.check_direction("up")
