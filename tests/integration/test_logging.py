"""Every handler's log calls work at DEBUG as at the stack's INFO: a log call that breaks
(``extra`` overwriting a LogRecord attribute raises ``KeyError``) fails the invocation after
its work is done; for ingest that sent every finished upload to the dead-letter queue."""

from __future__ import annotations

import ast
import importlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assets_core.config import get_settings
from assets_core.routes import INGEST, find_route
from tests.integration.test_ingest import run, status_of, upload
from tests.support import EVENTS, QUEUED, bundle_asset, invoke, zip_bytes

pytestmark = pytest.mark.usefixtures("s3", "status")
ROOT = EVENTS.parent
API_EVENTS = sorted(path.stem for path in EVENTS.glob("apigw_*.json"))
# What a LogRecord already holds: an ``extra`` key among them makes logging raise.
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}
RESERVED = set(vars(logging.LogRecord("n", 0, "p", 0, "m", None, None))) | {"message", "asctime"}


@pytest.fixture
def debug_logging() -> Iterator[None]:
    """Every logger at DEBUG for one test, as a stack deployed with POWERTOOLS_LOG_LEVEL=DEBUG."""
    loggers = [logging.getLogger(), *map(logging.getLogger, list(logging.root.manager.loggerDict))]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def test_the_tests_run_at_the_stacks_log_level() -> None:
    source = (ROOT / "infra_cdk" / "constructs" / "function.py").read_text()
    assert '"POWERTOOLS_LOG_LEVEL": "INFO"' in source
    assert logging.getLogger(get_settings().service_name).getEffectiveLevel() == logging.INFO


@pytest.mark.usefixtures("debug_logging")
@pytest.mark.parametrize("name", API_EVENTS)
def test_every_api_event_is_answered_at_debug(name: str) -> None:
    request: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    found = find_route(request["requestContext"]["http"]["method"], request["rawPath"])
    assert found is not None, name
    group, _, _ = found
    handler = importlib.import_module(group.module).handler
    status, _ = invoke(handler, request)
    assert status < 500, name


@pytest.mark.usefixtures("debug_logging")
def test_ingest_logs_at_debug_and_finishes(status: Any) -> None:
    upload_id = upload(zip_bytes({"a.txt": b"debug"}, asset=bundle_asset("debug-1")))
    # The record as the ZIP API queues it: its "filename" is also a LogRecord attribute.
    status.put(upload_id, {**QUEUED, "filename": "bundle.zip", "size": 1})
    assert run(upload_id) == {"batchItemFailures": []}
    assert status_of(upload_id)["status"] == "success"
    assert importlib.import_module(INGEST.module).handler is not None


def _extra_arguments(path: Path) -> Iterator[tuple[int, ast.expr]]:
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in LOG_METHODS
        ):
            for keyword in node.keywords:
                if keyword.arg == "extra":
                    yield node.lineno, keyword.value


def test_no_log_call_can_overwrite_a_log_record_attribute() -> None:
    """Also the log calls no test reaches: ``extra`` is a dict of literal keys, none of them
    an attribute of LogRecord, never a mapping spread into it."""
    sources = [*(ROOT / "functions").rglob("*.py"), *(ROOT / "layers" / "core").rglob("*.py")]
    problems = []
    for path in sources:
        for line, value in _extra_arguments(path):
            where = f"{path.relative_to(ROOT)}:{line}"
            if not isinstance(value, ast.Dict) or None in value.keys:
                problems.append(f"{where}: extra is not a dict of named keys")
                continue
            for key in value.keys:
                if key is None or not isinstance(key, ast.Constant) or key.value in RESERVED:
                    problems.append(f"{where}: extra key {ast.unparse(key) if key else '**'}")
    assert problems == []
