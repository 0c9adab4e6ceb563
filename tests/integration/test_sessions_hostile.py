"""Upload sessions under hostile input and races: no body a client sends is a 500; a complete,
an abort or a read that overlaps another (or follows ingest) never leaves the status saying
something false; a refused request leaves nothing behind; the command's memory stays bounded."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from functools import partial
from typing import Any

import pytest

from assets_core.errors import Conflict
from assets_core.stores.factory import assetdb_store
from assets_core.stores.status import status_store
from functions.assetdb.handler import handler as assetdb_handler
from functions.ingest.handler import ingest
from functions.registry_zip.handler import handler as zip_handler
from local.apigw import LocalContext
from tests.integration.test_ingest import run, status_of
from tests.integration.test_upload_sessions import (
    BUCKET,
    MIB,
    STRANGER,
    UPLOADER,
    a_bundle,
    crc,
    open_session,
    send_all,
    session_call,
    split,
)
from tests.support import EVENTS, caller, event, invoke, object_created

pytestmark = pytest.mark.usefixtures("s3", "status")
ADMIN = caller("adm", "assets-admin")
READER = caller("session-uploader", "assets-reader")
ANON = caller(None)


def raw_call(
    name: str, upload_id: str, raw: str | None, who: Any = UPLOADER, handler: Any = zip_handler
):
    service = "assetdb" if handler is assetdb_handler else "registry"
    recorded = json.loads((EVENTS / f"apigw_{service}_{name}.json").read_text())
    path = recorded["rawPath"].replace(recorded["pathParameters"]["upload_id"], upload_id)
    options: dict[str, Any] = {"path": path, "path_parameters": {"upload_id": upload_id}}
    if raw is not None:
        options["raw_body"] = raw
    return invoke(handler, event(f"apigw_{service}_{name}", caller=who, **options))


def open_db(body: dict[str, Any], who: Any = UPLOADER) -> tuple[int, Any]:
    full = {
        "filename": "big.bin",
        "asset_metadata": {"asset_name": "Big", "asset_version": {"version": "1", "tag": "a"}},
        **body,
    }
    return invoke(
        assetdb_handler, event("apigw_assetdb_upload_asset_presigned", body=full, caller=who)
    )


BAD_BODIES = [
    "{",
    "null",
    "[]",
    '"x"',
    "1e309",
    '{"parts": null}',
    '{"parts": {}}',
    '{"parts": [null]}',
    '{"parts": [{"part_number": 0, "checksum": "00000000"}]}',
    '{"parts": [{"part_number": 10001, "checksum": "00000000"}]}',
    '{"parts": [{"part_number": 1e30, "checksum": "00000000"}]}',
    '{"parts": [{"part_number": true, "checksum": "00000000"}]}',
    '{"parts": [{"part_number": 1, "checksum": "0000000\\u0000"}]}',
    '{"parts": [{"part_number": 1, "checksum": "ÿÿÿÿÿÿÿÿ"}]}',
    '{"parts": [{"part_number": 1, "checksum": "00000000", "x": 1}]}',
    '{"parts": [{"part_number": 1, "etag": "\\"\\u0000\\ud800\\"", "checksum": "00000000"}]}',
    '{"parts": [{"part_number": 1, "etag": "' + "é" * 200 + '", "checksum": "00000000"}]}',
    '{"parts": [{"part_number": 1, "etag": null, "checksum": "00000000"}]}',
    '{"parts": [{"part_number": 1, "etag": "\\"a\\"", "checksum": "00000000"},'
    ' {"part_number": 1, "etag": "\\"a\\"", "checksum": "00000000"}]}',
    json.dumps({"parts": [{"part_number": n, "checksum": "00000000"} for n in range(1, 1002)]}),
    json.dumps(
        {
            "parts": [
                {"part_number": n, "etag": "e", "checksum": "00000000"} for n in range(1, 10002)
            ]
        }
    ),
    json.dumps({"parts": [{"part_number": 1, "checksum": "00000000"}], "extra": True}),
    "\u00ff\u00fe",
]


@pytest.mark.parametrize("handler", [zip_handler, assetdb_handler], ids=["registry", "assetdb"])
def test_no_500_from_hostile_bodies_on_session_routes(handler: Any) -> None:
    if handler is zip_handler:
        status, started = open_session({"size": 11 * MIB, "multipart": True, "part_size": 5 * MIB})
        assert status == 202, started
        upload_id = started["upload"]["upload_id"]
    else:
        status, started = open_db({"size": 11 * MIB, "multipart": True, "part_size": 5 * MIB})
        assert status == 201, started
        upload_id = started["upload"]["upload_id"]
    failures = []
    for name in ("sign_upload_parts", "complete_upload_session"):
        for raw in BAD_BODIES:
            code, answer = raw_call(name, upload_id, raw, handler=handler)
            if code >= 500:
                failures.append((name, raw[:80], code, str(answer)[:200]))
    for name in ("get_upload_session", "delete_upload_session"):
        for odd in ("%00", "\u00e9", "A" * 2000, upload_id.upper(), upload_id + "/x", " "):
            code, answer = raw_call(name, odd, None, handler=handler)
            if code >= 500:
                failures.append((name, odd[:40], code, str(answer)[:200]))
    assert not failures, failures


OPEN_BODIES = [
    {"size": 6 * MIB, "multipart": True, "parts": None},
    {"size": 6 * MIB, "multipart": "yes"},
    {"size": 6 * MIB, "multipart": None, "crc32": None},
    {"size": 6 * MIB, "multipart": True, "crc32": "ZZZZZZZZ"},
    {"size": 6 * MIB, "multipart": True, "part_size": None, "checksum_algorithm": None},
    {"size": 6 * MIB, "multipart": True, "parts": [{"part_number": 9, "checksum": "00000000"}]},
    {"size": 6 * MIB, "multipart": True, "parts": [{"part_number": 1, "checksum": "0" * 64}]},
    {
        "size": 6 * MIB,
        "multipart": True,
        "checksum_algorithm": "sha256",
        "parts": [{"part_number": 1, "checksum": "0" * 8}],
    },
    {
        "size": 6 * MIB,
        "multipart": True,
        "parts": [
            {"part_number": 1, "checksum": "00000000"},
            {"part_number": 1, "checksum": "00000000"},
        ],
    },
    {"size": 6 * MIB, "multipart": True, "part_size": 5 * 1024**3 + 1},
    {"size": 2**80, "multipart": True},
    {"size": -1, "multipart": True},
    {"size": 6 * MIB, "multipart": True, "unknown": 1},
    {"size": 1, "multipart": True},
]


@pytest.mark.parametrize("body", OPEN_BODIES, ids=[str(i) for i in range(len(OPEN_BODIES))])
def test_no_500_opening(body: dict[str, Any]) -> None:
    status, answer = open_session(body)
    assert status < 500, answer
    status2, answer2 = open_db(body)
    assert status2 < 500, answer2


# -- leaks when opening fails -----------------------------------------------------------------


def test_a_refused_open_leaves_no_store_upload_nor_pending_record(s3: Any) -> None:
    from assets_core.stores.factory import assetdb_store

    bad = {
        "size": 6 * MIB,
        "multipart": True,
        "parts": [{"part_number": 9, "checksum": "00000000"}],
    }
    assert open_session(bad)[0] == 400
    left = s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    assert open_db(bad)[0] == 400
    left_after = s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    records = assetdb_store().count({})
    assert (len(left), len(left_after), records) == (0, 0, 0)


def test_duplicate_parts_when_opening_are_refused_as_when_signing() -> None:
    twice = [{"part_number": 1, "checksum": "00000000"}] * 2
    status, answer = open_session({"size": 6 * MIB, "multipart": True, "parts": twice})
    assert status == 400, answer


# -- a whole crc32 declared outside a session ----------------------------------------------------


def test_the_fields_of_a_session_on_a_single_upload_are_refused() -> None:
    for extra in ({"crc32": "00000000"}, {"part_size": 5 * MIB}, {"checksum_algorithm": "crc32"}):
        status, answer = open_session({"size": MIB, **extra})
        assert (status, answer["error"]["code"]) == (400, "NOT_A_SESSION"), answer
        status, answer = open_db({"size": MIB, **extra})
        assert (status, answer["error"]["code"]) == (400, "NOT_A_SESSION"), answer


# -- states after ingest --------------------------------------------------------------------------


def completed_session(asset_id: str) -> tuple[str, list[dict[str, Any]]]:
    bundle = a_bundle(asset_id, size=6 * MIB)
    parts = split(bundle, 5 * MIB)
    _, started = open_session(
        {"size": len(bundle), "multipart": True, "part_size": 5 * MIB, "crc32": crc(bundle)}
    )
    upload = started["upload"]
    named = send_all(upload, parts)
    status, done = session_call("complete_upload_session", upload["upload_id"], {"parts": named})
    assert status == 202, done
    return upload["upload_id"], named


def test_delete_after_a_successful_ingest_does_not_rewrite_the_status() -> None:
    upload_id, _ = completed_session("abort-after-success")
    run(upload_id)
    assert status_of(upload_id)["status"] == "success"
    status, answer = session_call("delete_upload_session", upload_id)
    after = status_of(upload_id)["status"]
    assert (status, after) == (409, "success"), (status, answer, after)


def test_delete_after_a_failed_ingest_keeps_the_reason() -> None:
    bundle = os.urandom(6 * MIB)  # not a zip: ingest fails
    parts = split(bundle, 5 * MIB)
    _, started = open_session({"size": len(bundle), "multipart": True, "part_size": 5 * MIB})
    upload = started["upload"]
    named = send_all(upload, parts)
    assert session_call("complete_upload_session", upload["upload_id"], {"parts": named})[0] == 202
    run(upload["upload_id"])
    failed = status_of(upload["upload_id"])["status"]
    assert failed.startswith("failed"), failed
    status, answer = session_call("delete_upload_session", upload["upload_id"])
    after = status_of(upload["upload_id"])["status"]
    assert after == failed, (status, answer, after)


# -- stale reads during a complete (what a concurrent request sees) ------------------------------


def found_now(upload_id: str, place: Any) -> Any:
    from assets_core.logic import sessions

    return sessions.find(upload_id, place=place, status=status_store(), caller=UPLOADER)


def test_a_get_that_read_the_session_before_a_complete_does_not_expire_it() -> None:
    from assets_core.logic import sessions, uploads
    from assets_core.stores.factory import objects

    bundle = a_bundle("stale-get", size=6 * MIB)
    parts = split(bundle, 5 * MIB)
    _, started = open_session({"size": len(bundle), "multipart": True, "part_size": 5 * MIB})
    upload_id = started["upload"]["upload_id"]
    named = send_all(started["upload"], parts)
    stale = found_now(upload_id, uploads.SESSIONS)  # GET reads the record ...
    assert session_call("complete_upload_session", upload_id, {"parts": named})[0] == 202
    view = sessions.describe(  # ... then lists parts after the complete
        stale, place=uploads.SESSIONS, objects=objects(), status=status_store()
    )
    after = status_of(upload_id)["status"]
    assert (view["status"], after) == ("completing", "completing"), (view["status"], after)


def test_a_second_complete_that_read_the_session_first_does_not_expire_it() -> None:
    from assets_core.logic import sessions, uploads
    from assets_core.models.sessions import CompletedPart
    from assets_core.stores.factory import objects

    bundle = a_bundle("stale-complete", size=6 * MIB)
    parts = split(bundle, 5 * MIB)
    _, started = open_session({"size": len(bundle), "multipart": True, "part_size": 5 * MIB})
    upload_id = started["upload"]["upload_id"]
    named = send_all(started["upload"], parts)
    stale = found_now(upload_id, uploads.SESSIONS)
    assert session_call("complete_upload_session", upload_id, {"parts": named})[0] == 202
    error = None
    try:
        sessions.complete(
            stale,
            [CompletedPart(**p) for p in named],
            place=uploads.SESSIONS,
            objects=objects(),
            status=status_store(),
        )
    except Exception as exc:
        error = exc
    after = status_of(upload_id)["status"]
    run(upload_id)
    final = status_of(upload_id)["status"]
    assert (error, after) == (None, "completing"), (repr(error), after, final)


def test_assetdb_abort_racing_a_complete_does_not_leave_aborted_over_a_stored_file(s3: Any) -> None:
    from assets_core.logic import assetdb, sessions
    from assets_core.stores.factory import objects

    data = os.urandom(6 * MIB)
    parts = split(data, 5 * MIB)
    _, created = open_db({"size": len(data), "multipart": True, "part_size": 5 * MIB})
    upload = created["upload"]
    named = send_all(upload, parts, handler=assetdb_handler)
    stale = found_now(upload["upload_id"], assetdb.SESSIONS)  # DELETE reads the record ...
    status, done = session_call(
        "complete_upload_session", upload["upload_id"], {"parts": named}, handler=assetdb_handler
    )
    assert (status, done["status"]) == (202, "completed")
    with pytest.raises(Conflict) as refused:
        sessions.abort(stale, place=assetdb.SESSIONS, objects=objects(), status=status_store())
    assert refused.value.code == "SESSION_COMPLETED"
    assert status_of(upload["upload_id"])["status"] == "completed"


# -- a failure after the store assembled the object ----------------------------------------------


def test_a_store_timeout_after_the_object_was_assembled_is_not_turned_into_expired(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from assets_core.errors import StoreUnavailable
    from assets_core.stores import objects as objects_module

    bundle = a_bundle("timeout-complete", size=6 * MIB)
    parts = split(bundle, 5 * MIB)
    _, started = open_session({"size": len(bundle), "multipart": True, "part_size": 5 * MIB})
    upload_id = started["upload"]["upload_id"]
    named = send_all(started["upload"], parts)
    real = objects_module.S3ObjectStore.complete_session

    def answered_late(self: Any, *args: Any, **kwargs: Any) -> None:
        real(self, *args, **kwargs)  # the store assembled it, the answer was lost
        raise StoreUnavailable("The object store did not answer; try again.")

    monkeypatch.setattr(objects_module.S3ObjectStore, "complete_session", answered_late)
    first = session_call("complete_upload_session", upload_id, {"parts": named})
    monkeypatch.setattr(objects_module.S3ObjectStore, "complete_session", real)
    between = status_of(upload_id)["status"]
    retry = session_call("complete_upload_session", upload_id, {"parts": named})
    after = status_of(upload_id)["status"]
    run(upload_id)
    final = status_of(upload_id)["status"]
    assert retry[0] == 202, (first, between, retry, after, final)
    assert after != "expired", (first, between, retry, after, final)


def test_a_session_left_completing_without_its_object_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from assets_core.stores import objects as objects_module

    bundle = a_bundle("killed-complete", size=6 * MIB)
    parts = split(bundle, 5 * MIB)
    _, started = open_session({"size": len(bundle), "multipart": True, "part_size": 5 * MIB})
    upload_id = started["upload"]["upload_id"]
    named = send_all(started["upload"], parts)

    class Killed(BaseException):
        pass

    def killed(self: Any, *args: Any, **kwargs: Any) -> None:
        raise Killed  # the function timed out before the store was asked

    monkeypatch.setattr(objects_module.S3ObjectStore, "complete_session", killed)
    with pytest.raises(Killed):
        session_call("complete_upload_session", upload_id, {"parts": named})
    monkeypatch.undo()
    record = status_of(upload_id)
    assert record["status"] == "completing"
    record["session"]["expires_at"] = "2020-01-01T00:00:00+00:00"
    status_store().put(upload_id, record)
    _status, view = session_call("get_upload_session", upload_id)
    assert view["status"] == "expired", view


# -- real threads ---------------------------------------------------------------------------------


def race(*calls: Any) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def go(i: int, call: Any) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=go, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.parametrize("other", ["complete", "get", "delete"])
def test_threads_racing_a_complete(other: str, s3: Any) -> None:
    outcomes = []
    for attempt in range(4):
        bundle = a_bundle(f"race-{other}-{attempt}", size=6 * MIB)
        parts = split(bundle, 5 * MIB)
        _, started = open_session({"size": len(bundle), "multipart": True, "part_size": 5 * MIB})
        upload_id = started["upload"]["upload_id"]
        named = send_all(started["upload"], parts)
        complete = partial(session_call, "complete_upload_session", upload_id, {"parts": named})
        second = {
            "complete": complete,
            "get": partial(session_call, "get_upload_session", upload_id),
            "delete": partial(session_call, "delete_upload_session", upload_id),
        }[other]
        a, b = race(complete, second)
        after = status_of(upload_id)["status"]
        exists = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"incoming/{upload_id}").get("KeyCount")
        run(upload_id)
        final = status_of(upload_id)["status"]
        outcomes.append(
            (
                a[0],
                a[1].get("status") or a[1]["error"]["code"],
                b[0],
                b[1].get("status") or b[1]["error"]["code"],
                after,
                exists,
                final,
            )
        )
    # no outcome may tell a client the session expired, nor record it, while the bundle is stored
    bad = [
        o for o in outcomes if ("SESSION_EXPIRED" in o or (o[4] in ("expired", "aborted") and o[5]))
    ]
    assert not bad, bad


def test_two_completes_at_once_leave_the_assembled_object_whole(s3: Any) -> None:
    # the session's lock lets one assemble it; the other answers 409 SESSION_BUSY or the 202
    for attempt in range(6):
        bundle = a_bundle(f"double-{attempt}", size=6 * MIB)
        parts = split(bundle, 5 * MIB)
        _, started = open_session(
            {"size": len(bundle), "multipart": True, "part_size": 5 * MIB, "crc32": crc(bundle)}
        )
        upload_id = started["upload"]["upload_id"]
        named = send_all(started["upload"], parts)
        complete = partial(session_call, "complete_upload_session", upload_id, {"parts": named})
        first, second = race(complete, complete)
        answers = sorted(
            (code, body.get("status") or body["error"]["code"]) for code, body in (first, second)
        )
        assert answers[0] == (202, "completing"), answers
        assert answers[1] in ((202, "completing"), (409, "SESSION_BUSY")), answers
        stored = s3.get_object(Bucket=BUCKET, Key=f"incoming/{upload_id}.zip")["Body"].read()
        assert hashlib.sha256(stored).digest() == hashlib.sha256(bundle).digest()


# -- access ---------------------------------------------------------------------------------------


def test_access_of_readers_anonymous_and_the_other_service() -> None:
    _, started = open_session({"size": 6 * MIB, "multipart": True})
    reg_id = started["upload"]["upload_id"]
    _, created = open_db({"size": 6 * MIB, "multipart": True})
    db_id = created["upload"]["upload_id"]
    declared = {"parts": [{"part_number": 1, "checksum": "00000000"}]}
    named = {"parts": [{"part_number": 1, "etag": '"x"', "checksum": "00000000"}]}
    seen = {}
    for who_name, who in (
        ("reader-same-sub", READER),
        ("anon", ANON),
        ("stranger", STRANGER),
        ("reader-other", caller("r2", "assets-reader")),
    ):
        for name, body in (
            ("get_upload_session", None),
            ("sign_upload_parts", declared),
            ("complete_upload_session", named),
            ("delete_upload_session", None),
        ):
            for handler, upload_id in ((zip_handler, reg_id), (assetdb_handler, db_id)):
                code, _answer = session_call(name, upload_id, body, who=who, handler=handler)
                seen[(who_name, name, "db" if handler is assetdb_handler else "reg")] = code
    # across services, for the uploader
    cross = [
        session_call(n, db_id, b, handler=zip_handler)[0]
        for n, b in (
            ("get_upload_session", None),
            ("sign_upload_parts", declared),
            ("complete_upload_session", named),
            ("delete_upload_session", None),
        )
    ] + [
        session_call(n, reg_id, b, handler=assetdb_handler)[0]
        for n, b in (
            ("get_upload_session", None),
            ("sign_upload_parts", declared),
            ("complete_upload_session", named),
            ("delete_upload_session", None),
        )
    ]
    (
        invoke(
            zip_handler,
            event(
                "apigw_registry_zip_status"
                if (EVENTS / "apigw_registry_zip_status.json").exists()
                else "apigw_registry_zip_status_queued",
                path=f"/registry/zip/status/{db_id}",
                path_parameters={"upload_id": db_id},
                caller=UPLOADER,
            ),
        )[0]
        if any(p.name.startswith("apigw_registry_zip_status") for p in EVENTS.iterdir())
        else None
    )
    allowed = {k: v for k, v in seen.items() if v < 400}
    assert (
        allowed
        == {
            ("reader-same-sub", "get_upload_session", "reg"): 200,
            ("reader-same-sub", "get_upload_session", "db"): 200,
        }
        or not allowed
    ), allowed
    assert all(c == 404 for c in cross), cross
    assert status_of(reg_id)["status"] == "uploading"
    assert status_of(db_id)["status"] == "uploading"


# -- integrity of signed URLs -------------------------------------------------------------------


def test_a_part_url_cannot_be_bent_to_another_upload_key_or_size(s3: Any) -> None:
    import httpx

    _, a = open_session({"size": 11 * MIB, "multipart": True, "part_size": 5 * MIB})
    _, b = open_session({"size": 11 * MIB, "multipart": True, "part_size": 5 * MIB})
    data = os.urandom(5 * MIB)
    short = os.urandom(3 * MIB)
    _, signed_a = session_call(
        "sign_upload_parts",
        a["upload"]["upload_id"],
        {
            "parts": [
                {"part_number": 1, "checksum": crc(data)},
                {"part_number": 2, "checksum": crc(short)},
            ]
        },
    )
    one, two = signed_a["parts"]
    store_b = status_of(b["upload_id"])["session"]["store_upload_id"]
    store_a = status_of(a["upload_id"])["session"]["store_upload_id"]
    results = {}
    results["other-upload-id"] = httpx.put(
        one["url"].replace(store_a, store_b), content=data, headers=one["headers"]
    ).status_code
    results["other-key"] = httpx.put(
        one["url"].replace(a["upload_id"], b["upload_id"]), content=data, headers=one["headers"]
    ).status_code
    results["other-part-number"] = httpx.put(
        one["url"].replace("partNumber=1", "partNumber=3"), content=data, headers=one["headers"]
    ).status_code
    # part 2 signed with the checksum of 3 MiB, but it must be 5 MiB: send the 3 MiB
    results["short-part"] = httpx.put(
        two["url"], content=short, headers={**two["headers"], "Content-Length": str(len(short))}
    ).status_code
    results["exact"] = httpx.put(one["url"], content=data, headers=one["headers"]).status_code
    # after abort, the URL is dead
    session_call("delete_upload_session", a["upload"]["upload_id"])
    results["after-abort"] = httpx.put(one["url"], content=data, headers=one["headers"]).status_code
    assert results["exact"] == 200
    assert all(
        results[k] >= 400
        for k in ("other-upload-id", "other-key", "other-part-number", "short-part", "after-abort")
    ), results


def test_a_sha256_session_completes_and_ingests(s3: Any) -> None:
    import hashlib

    bundle = a_bundle("sha-session", size=6 * MIB)
    parts = split(bundle, 5 * MIB)
    status, started = open_session(
        {
            "size": len(bundle),
            "multipart": True,
            "part_size": 5 * MIB,
            "checksum_algorithm": "sha256",
        }
    )
    assert status == 202, started
    upload_id = started["upload"]["upload_id"]
    named = send_all(started["upload"], parts, checksum=lambda p: hashlib.sha256(p).hexdigest())
    status, listed = session_call("get_upload_session", upload_id)
    assert [p["checksum"] for p in listed["received"]] == [n["checksum"] for n in named], listed
    status, done = session_call(
        "complete_upload_session", upload_id, {"parts": list(reversed(named))}
    )
    assert status == 202, done
    run(upload_id)
    assert status_of(upload_id)["status"] == "success"


# -- the client, against the handlers in-process ---------------------------------------------------


def client_for(who: Any = UPLOADER) -> Any:
    import importlib

    import httpx

    from assets_client.api import AssetsClient
    from assets_core.routes import API_GROUPS
    from local.apigw import LocalContext, http_answer, http_api_event
    from tests.support import as_caller

    def handle(request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        for group in API_GROUPS:
            for route in group.routes:
                params = route.match(method, path)
                if params is None:
                    continue
                handler = importlib.import_module(group.module).handler
                body = request.read()
                data = http_api_event(
                    method=method,
                    raw_path=path,
                    route_key=route.route_key,
                    path_parameters=params,
                    raw_query=request.url.query.decode(),
                    headers=[
                        (k, v) for k, v in request.headers.items() if k.lower() != "authorization"
                    ],
                    body=body,
                )
                data["requestContext"]["authorizer"] = {"jwt": {"claims": {}, "scopes": None}}
                as_caller(data, who)
                answer = http_answer(handler(data, LocalContext("client")))
                return httpx.Response(answer.status, headers=answer.headers, content=answer.body)
        return httpx.Response(404, json={"error": {"code": "ROUTE_NOT_FOUND", "message": path}})

    client = AssetsClient(endpoint="http://local", token="t")
    client.http = httpx.Client(base_url="http://local", transport=httpx.MockTransport(handle))
    return client


def test_db_upload_between_the_servers_threshold_and_the_clients(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from assets_core.config import get_settings

    monkeypatch.setenv("MULTIPART_THRESHOLD_BYTES", str(6 * MIB))
    get_settings.cache_clear()
    try:
        path = tmp_path / "mid.bin"
        path.write_bytes(os.urandom(7 * MIB))  # past the direct limit and the server's threshold
        record = client_for().db_upload(path, {"asset_name": "Mid"})
        assert record["asset_id"]
    finally:
        get_settings.cache_clear()


def test_a_folder_upload_resumed_after_the_folder_changed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, s3: Any
) -> None:
    import httpx

    from assets_client import parts as client_parts
    from assets_client.api import NetworkError, UploadFailed

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(client_parts.time, "sleep", lambda _: None)
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "asset.json").write_text(
        json.dumps(
            {
                "asset_id": "folder-resume",
                "asset_uri": "models://x/folder-resume",
                "asset_version": "v1",
                "asset_profile_id": "p1",
                "asset_file_ids": [],
            }
        )
    )
    (folder / "a.bin").write_bytes(os.urandom(6 * MIB))
    (folder / "b.bin").write_bytes(os.urandom(6 * MIB))
    client = client_for()
    real_put = client.storage.put

    def flaky(url: str, **kw: Any) -> Any:
        if "partNumber=1&" in url or url.endswith("partNumber=1"):
            return real_put(url, **kw)
        raise httpx.ConnectError("cut")

    monkeypatch.setattr(client.storage, "put", flaky)
    started: list[str] = []
    with pytest.raises(NetworkError):
        client.upload(
            folder, multipart=True, part_size=5 * MIB, on_session=started.append, parallel=1
        )
    monkeypatch.setattr(client.storage, "put", real_put)
    # b.bin changes (same size), in a part not yet received
    (folder / "b.bin").write_bytes(os.urandom(6 * MIB))
    try:
        client.resume_upload(started[0], folder, parallel=2)
    except UploadFailed as exc:
        pytest.skip(f"resume refused: {exc}")
    run(started[0])
    assert status_of(started[0])["status"] == "success", status_of(started[0])


def test_stream_upload_parts_held_with_parallel_8() -> None:
    import time as time_module

    import httpx

    from assets_client import parts as client_parts

    part = 1 * MIB
    done = {"n": 0}
    held = {"max": 0, "cut": 0}

    def chunks() -> Any:
        for _ in range(80):
            yield bytes(MIB)

    def counted(source: Any) -> Any:
        for p in source:
            held["cut"] += 1
            held["max"] = max(held["max"], held["cut"] - done["n"])
            yield p

    def sign(group: list[Any]) -> list[dict[str, Any]]:
        return [{"url": f"http://store/{p.number}", "headers": {}} for p in group]

    def store(request: httpx.Request) -> httpx.Response:
        time_module.sleep(0.02)
        return httpx.Response(200, headers={"etag": '"e"'})

    def progress(n: int) -> None:
        done["n"] += 1

    storage = httpx.Client(transport=httpx.MockTransport(store))
    sender = client_parts.PartSender(sign, storage, parallel=8, progress=progress)
    sender.send_all(counted(client_parts.stream_parts(chunks(), part, {})), batch=8)
    assert held["max"] <= 16, held


def test_stream_upload_memory_against_the_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import tracemalloc

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "asset.json").write_text(
        json.dumps(
            {
                "asset_id": "mem-folder",
                "asset_uri": "models://x/mem-folder",
                "asset_version": "v1",
                "asset_profile_id": "p1",
                "asset_file_ids": [],
            }
        )
    )
    for i in range(6):
        (folder / f"f{i}.bin").write_bytes(os.urandom(50 * MIB))
    client = client_for()
    tracemalloc.start()
    client.upload(folder, multipart=True, part_size=5 * MIB, parallel=8)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak <= (2 * 8 + 2) * 5 * MIB, peak / (5 * MIB)  # the documented bound: 2 x parallel


def test_an_aborted_assetdb_session_leaves_its_record_pending_and_deletable(s3: Any) -> None:
    # as a presigned upload never sent does: the record says pending, its owner deletes it
    _, created = open_db({"size": 6 * MIB, "multipart": True})
    upload_id = created["upload"]["upload_id"]
    assert session_call("delete_upload_session", upload_id, handler=assetdb_handler)[0] == 200
    record = assetdb_store().get(created["asset_id"])
    assert record is not None
    assert record["asset_file_info"]["status"] == "pending"
    path = f"/assetdb/asset-by-id/{created['asset_id']}"
    request = event(
        "apigw_assetdb_delete_asset",
        path=path,
        path_parameters={"asset_id": created["asset_id"]},
        caller=UPLOADER,
    )
    request["routeKey"] = request["requestContext"]["routeKey"] = (
        "DELETE /assetdb/asset-by-id/{asset_id}"
    )
    assert invoke(assetdb_handler, request)[0] == 200


def test_a_file_completed_after_its_record_was_deleted_is_not_kept(s3: Any) -> None:
    data = os.urandom(6 * MIB)
    parts = split(data, 5 * MIB)
    _, created = open_db({"size": len(data), "multipart": True, "part_size": 5 * MIB})
    upload = created["upload"]
    deleted = invoke(
        assetdb_handler,
        event(
            "apigw_assetdb_delete_asset",
            path="/assetdb/asset/Big:1-a",
            path_parameters={"asset_uri": "Big:1-a"},
            caller=UPLOADER,
        ),
    )
    assert deleted[0] == 200, deleted
    named = send_all(upload, parts, handler=assetdb_handler)
    done = session_call(
        "complete_upload_session", upload["upload_id"], {"parts": named}, handler=assetdb_handler
    )
    assert done[0] == 202, done
    prefix = f"assetdb/{created['asset_id']}/"
    [stored] = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]
    ingest(object_created(stored["Key"]), LocalContext("ingest"))
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("KeyCount") == 0
