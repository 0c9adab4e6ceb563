"""One Logger, Tracer and Metrics: the package's logs are JSON lines with the invocation's
correlation id, an upload carries the id of the request that started it, and the metrics the
stack's namespace names are written (CloudWatch embedded metric format, one line each)."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from assets_core.config import get_settings
from assets_core.observability import lambda_handler, logger
from assets_core.stores.status import status_store
from functions.registry_download.handler import stream
from functions.registry_write.handler import handler as write_handler
from functions.registry_zip.handler import handler as zip_handler
from local.apigw import LocalContext
from tests.integration.test_ingest import run, upload
from tests.integration.test_registry_zip import function_url_event, redirect_for
from tests.support import QUEUED, bundle_asset, event, invoke, zip_bytes

pytestmark = pytest.mark.usefixtures("s3", "status")


def metric_lines(text: str) -> list[dict[str, Any]]:
    """The embedded-metric-format documents among a function's output lines."""
    found = []
    for line in text.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            found.append(json.loads(line))
    return found


def metric(documents: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    chosen = []
    for document in documents:
        names = [m["Name"] for d in document["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
        if name in names:
            assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == (
                get_settings().metrics_namespace
            )
            chosen.append(document)
    return chosen


@contextmanager
def log_lines() -> Iterator[list[dict[str, Any]]]:
    """The JSON lines the functions' one log handler writes meanwhile."""
    written = io.StringIO()
    stream_handler = logger.registered_handler
    assert isinstance(stream_handler, logging.StreamHandler)
    previous = stream_handler.setStream(written)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        stream_handler.setStream(previous)
        lines.extend(json.loads(line) for line in written.getvalue().splitlines())


def test_the_packages_logs_carry_the_requests_correlation_id() -> None:
    def work(event: dict[str, Any], context: Any) -> str:
        logging.getLogger("assets_core.logic.example").warning("Inside the work")
        return "done"

    handler = lambda_handler(work, correlation_id_path="requestContext.requestId")
    with log_lines() as lines:
        assert handler({"requestContext": {"requestId": "req-42"}}, LocalContext("fn")) == "done"
    [line] = [line for line in lines if line.get("message") == "Inside the work"]
    assert line["correlation_id"] == "req-42"
    assert line["level"] == "WARNING"
    assert line["function_name"] == "fn"


def test_an_upload_keeps_the_id_of_the_request_that_started_it() -> None:
    request = event("apigw_registry_zip_upload_presigned")
    status, body = invoke(zip_handler, request)
    assert status == 202
    record = status_store().get(body["upload_id"])
    assert record is not None
    assert record["correlation_id"] == request["requestContext"]["requestId"]
    # What a client reads of the upload does not show it
    status_request = event(
        "apigw_registry_zip_status",
        path=body["status_url"],
        path_parameters={"upload_id": body["upload_id"]},
    )
    assert "correlation_id" not in invoke(zip_handler, status_request)[1]


def test_a_refused_request_is_counted_by_its_code(capsys: pytest.CaptureFixture[str]) -> None:
    request = event(
        "apigw_registry_put_asset",
        path="/registry/assets/a1",
        path_parameters={"asset_id": "a1"},
        body={"asset_version": "2"},
        headers={"If-Match": "not an etag"},
    )
    assert invoke(write_handler, request)[0] == 400
    [refused] = metric(metric_lines(capsys.readouterr().out), "RefusedRequests")
    assert refused["code"] == "INVALID_IF_MATCH"
    assert refused["RefusedRequests"] == [1.0]
    assert refused["service"] == get_settings().service_name


def test_a_download_counts_the_bytes_it_streamed(capsys: pytest.CaptureFixture[str]) -> None:
    run(upload(zip_bytes({"a.bin": b"a" * 70_000}, asset=bundle_asset("obs-1"))))
    _, _, headers = redirect_for("obs-1")
    response = stream(function_url_event(headers["Location"]), LocalContext("download"))
    sent = b"".join(response.body)
    assert zipfile.ZipFile(io.BytesIO(sent)).read("a.bin") == b"a" * 70_000
    [counted] = metric(metric_lines(capsys.readouterr().out), "DownloadBytes")
    assert counted["DownloadBytes"] == [float(len(sent))]
    assert counted["outcome"] == "complete"


def test_a_download_the_client_left_is_counted_as_abandoned(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run(upload(zip_bytes({"a.bin": b"b" * 70_000}, asset=bundle_asset("obs-2"))))
    _, _, headers = redirect_for("obs-2")
    response = stream(function_url_event(headers["Location"]), LocalContext("download"))
    chunks = iter(response.body)
    first = next(chunks)
    chunks.close()  # type: ignore[attr-defined]
    [counted] = metric(metric_lines(capsys.readouterr().out), "DownloadBytes")
    assert counted["outcome"] == "abandoned"
    assert counted["DownloadBytes"] == [float(len(first))]


def test_ingest_logs_under_the_uploads_request_and_counts_what_it_stored(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = zip_bytes({"a.txt": b"one", "b/c.txt": b"two"}, asset=bundle_asset("obs-3"))
    upload_id = upload(data)
    status_store().put(upload_id, {**QUEUED, "correlation_id": "req-upload-7"})
    with log_lines() as lines:
        assert run(upload_id) == {"batchItemFailures": []}
    [done] = [line for line in lines if line.get("message") == "Ingested upload"]
    assert done["correlation_id"] == "req-upload-7"
    assert done["upload_status"] == "success"
    documents = metric_lines(capsys.readouterr().out)
    [stored] = metric(documents, "IngestBytes")
    assert stored["IngestBytes"] == [float(len(data))]
    assert stored["outcome"] == "success"
    [members] = metric(documents, "IngestMembers")
    assert members["IngestMembers"] == [3.0]  # asset.json and the two files
    [seconds] = metric(documents, "IngestSeconds")
    assert seconds["IngestSeconds"][0] > 0


def test_a_refused_bundle_is_counted_as_failed(capsys: pytest.CaptureFixture[str]) -> None:
    upload_id = upload(b"not a zip at all")
    assert run(upload_id) == {"batchItemFailures": []}
    [seconds] = metric(metric_lines(capsys.readouterr().out), "IngestSeconds")
    assert seconds["outcome"] == "failed"
