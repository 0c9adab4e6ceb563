"""A Lambda runtime loop that streams responses (Python has no native response streaming).

The function runs on the managed Python runtime with ``AWS_LAMBDA_EXEC_WRAPPER`` pointing at
``bootstrap``, which starts this loop in place of the default one. For each invocation it posts
the response in streaming mode to the Runtime API: ``Lambda-Runtime-Function-Response-Mode:
streaming``, chunked transfer encoding, and for a function URL the HTTP integration prelude
(status and headers as JSON) followed by eight NUL bytes, then the body. An error before the
first byte goes to the invocation's error endpoint; one mid-stream ends the body with error
trailers.
"""

from __future__ import annotations

import http.client
import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any

API_VERSION = "2018-06-01"
PRELUDE_SEPARATOR = b"\x00" * 8
HTTP_INTEGRATION_TYPE = "application/vnd.awslambda.http-integration-response"


class Context:
    """The context object a handler receives, filled from the Runtime API's headers."""

    def __init__(self, headers: http.client.HTTPMessage) -> None:
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn", "")
        self._deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms", "0") or 0)
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "0") or 0)
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _error_body(exc: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_exception(exc),
    }


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def post_streamed(
    connection: http.client.HTTPConnection,
    request_id: str,
    prelude: dict[str, Any],
    body: Iterable[bytes],
) -> None:
    """Send one invocation's response in streaming mode."""
    connection.putrequest("POST", f"/{API_VERSION}/runtime/invocation/{request_id}/response")
    connection.putheader("Lambda-Runtime-Function-Response-Mode", "streaming")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.putheader("Content-Type", HTTP_INTEGRATION_TYPE)
    connection.putheader(
        "Trailer", "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body"
    )
    connection.endheaders()
    connection.send(_chunk(json.dumps(prelude).encode() + PRELUDE_SEPARATOR))
    try:
        for piece in body:
            if piece:
                connection.send(_chunk(piece))
    except Exception as exc:  # the status is sent already: report through trailers
        import base64

        error = base64.b64encode(json.dumps(_error_body(exc)).encode()).decode()
        connection.send(
            b"0\r\nLambda-Runtime-Function-Error-Type: %s\r\n"
            b"Lambda-Runtime-Function-Error-Body: %s\r\n\r\n"
            % (type(exc).__name__.encode(), error.encode())
        )
    else:
        connection.send(b"0\r\n\r\n")
    connection.getresponse().read()


def post_error(connection: http.client.HTTPConnection, path: str, exc: BaseException) -> None:
    body = json.dumps(_error_body(exc)).encode()
    connection.request(
        "POST",
        path,
        body=body,
        headers={
            "Lambda-Runtime-Function-Error-Type": type(exc).__name__,
            "Content-Type": "application/json",
        },
    )
    connection.getresponse().read()


def serve(api: str, stream: Callable[[dict[str, Any], Any], Any], *, once: bool = False) -> None:
    """Fetch invocations and stream their answers, forever (or once, for tests)."""
    host, _, port = api.partition(":")
    while True:
        connection = http.client.HTTPConnection(host, int(port or 80), timeout=None)
        connection.request("GET", f"/{API_VERSION}/runtime/invocation/next")
        answer = connection.getresponse()
        event = json.loads(answer.read() or b"{}")
        context = Context(answer.headers)
        request_id = context.aws_request_id
        try:
            response = stream(event, context)
        except Exception as exc:
            post_error(connection, f"/{API_VERSION}/runtime/invocation/{request_id}/error", exc)
        else:
            post_streamed(connection, request_id, response.prelude(), response.body)
        connection.close()
        if once:
            return


def main() -> None:
    for path in ("/opt/python", "/var/task"):
        if path not in sys.path:
            sys.path.insert(0, path)
    api = os.environ["AWS_LAMBDA_RUNTIME_API"]
    try:
        stream = importlib.import_module("handler").stream  # the code root is /var/task
    except Exception as exc:
        host, _, port = api.partition(":")
        connection = http.client.HTTPConnection(host, int(port or 80))
        post_error(connection, f"/{API_VERSION}/runtime/init/error", exc)
        raise
    serve(api, stream)


if __name__ == "__main__":
    main()
