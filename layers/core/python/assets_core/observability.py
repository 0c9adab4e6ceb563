"""One Logger, Tracer and Metrics for every function.

- **Logs**: one powertools Logger (JSON, the stack's level); the package's own stdlib loggers
  (``assets_core.*``: logic, stores) write through its handler, so every line carries the
  invocation's context and correlation id. An API request's id is the correlation id of its
  logs, is kept with an upload's status, and becomes the correlation id of that upload's
  ingest logs.
- **Traces**: X-Ray through powertools' Tracer, which patches botocore and pymongo (every S3,
  SQS and MongoDB call is a span); each store method called is a span of its own, named after
  the store (``traced``). Off outside Lambda and where ``POWERTOOLS_TRACE_DISABLED`` is set.
- **Metrics**: CloudWatch embedded metrics (a JSON log line each, written when it happens)
  under ``POWERTOOLS_METRICS_NAMESPACE``, each with the service as a dimension: cold starts,
  error answers by code, ingest bytes, members, seconds and outcome, download bytes and
  outcome, prefixes swept.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from assets_core.config import get_settings

SERVICE = get_settings().service_name
PACKAGE = "assets_core"
logger = Logger(service=SERVICE)
# botocore and pymongo only: the libraries the stores call (patching every library X-Ray
# knows would import each of them at cold start).
tracer = Tracer(service=SERVICE, patch_modules=("botocore", "pymongo"))
NAMESPACE = get_settings().metrics_namespace
__all__ = ["MetricUnit", "emit", "lambda_handler", "logger", "traced", "tracer"]
logging.getLogger(PACKAGE)  # registered, so that its configuration is copied below
copy_config_to_registered_loggers(source_logger=logger, include={PACKAGE})

Handler = Callable[[dict[str, Any], Any], Any]


def lambda_handler(handler: Handler, *, correlation_id_path: str | None = None) -> Handler:
    """A Lambda handler with its context in every log line (and the correlation id found at
    ``correlation_id_path`` in the event), traced; its first invocation counts a cold start."""
    first = {"invocation": True}

    @functools.wraps(handler)
    def counted(event: dict[str, Any], context: Any) -> Any:
        if first.pop("invocation", False):
            emit("ColdStart", 1, MetricUnit.Count, function_name=_function_name(context))
        return handler(event, context)

    logged = logger.inject_lambda_context(counted, correlation_id_path=correlation_id_path)
    traced_handler: Handler = tracer.capture_lambda_handler(logged, capture_response=False)
    return traced_handler


def _function_name(context: Any) -> str:
    return str(getattr(context, "function_name", "") or "unknown")


def count_error(code: str, status: int) -> None:
    """One error answer: ``RefusedRequests`` (4xx) or ``FailedRequests`` (5xx), by code."""
    name = "FailedRequests" if status >= 500 else "RefusedRequests"
    emit(name, 1, MetricUnit.Count, code=code)


def emit(name: str, value: float, unit: MetricUnit, **dimensions: str) -> None:
    """One metric with dimensions of its own (besides the service), written at once."""
    with single_metric(name=name, unit=unit, value=value, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="service", value=SERVICE)
        for key, text in dimensions.items():
            metric.add_dimension(name=key, value=text)


def counted_stream(chunks: Iterable[bytes], *, metric: str) -> Iterator[bytes]:
    """The chunks as they are sent; once the stream ends, ``metric`` (bytes) with its outcome:
    ``complete``, ``failed``, or ``abandoned`` when the client went away first."""
    sent = 0
    outcome = "abandoned"
    try:
        for chunk in chunks:
            sent += len(chunk)
            yield chunk
        outcome = "complete"
    except Exception:
        outcome = "failed"
        raise
    finally:
        emit(metric, sent, MetricUnit.Bytes, outcome=outcome)


class _Traced:
    """A store whose every public method call is a trace span ``<name>.<method>``."""

    def __init__(self, target: Any, name: str) -> None:
        self._target = target
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self._target, attribute)
        if attribute.startswith("_") or not callable(value):
            return value
        span = f"{self._name}.{attribute}"

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            with tracer.provider.in_subsegment(span):
                return value(*args, **kwargs)

        # Kept: the next call of this method finds it without building it again.
        self.__dict__[attribute] = call
        return call


def traced[T](store: T, name: str) -> T:
    """The store, its calls traced when tracing is on; else the store itself, untouched."""
    if tracer.disabled:
        return store
    wrapped: T = _Traced(store, name)  # type: ignore[assignment]
    return wrapped
