"""The download function's runtime loop against a local fake of the Lambda Runtime API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from functions.registry_download import runtime
from functions.registry_download.handler import StreamedResponse

EVENT = {"rawPath": "/", "rawQueryString": "asset_id=a"}


class FakeRuntimeApi:
    """Serves one invocation and records what the runtime posts back, as the Lambda service
    would see it on the wire."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                body = json.dumps(EVENT).encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", "req-1")
                self.send_header("Lambda-Runtime-Deadline-Ms", "99999999999999")
                self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:x")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                raw, trailers = self._read_body(headers)
                outer.posts.append(
                    {"path": self.path, "headers": headers, "raw": raw, "trailers": trailers}
                )
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _read_body(self, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
                if headers.get("transfer-encoding") != "chunked":
                    return self.rfile.read(int(headers.get("content-length", 0))), {}
                data = b""
                while True:
                    size = int(self.rfile.readline().strip(), 16)
                    if size == 0:
                        break
                    data += self.rfile.read(size)
                    self.rfile.readline()
                trailers = {}
                while (line := self.rfile.readline().strip()) != b"":
                    name, _, value = line.decode().partition(":")
                    trailers[name.strip().lower()] = value.strip()
                return data, trailers

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.address = f"127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def api() -> Iterator[FakeRuntimeApi]:
    fake = FakeRuntimeApi()
    yield fake
    fake.close()


def test_streamed_response_wire_format(api: FakeRuntimeApi) -> None:
    def stream(event: dict[str, Any], context: Any) -> StreamedResponse:
        assert event == EVENT
        assert context.aws_request_id == "req-1"
        body = iter([b"PK\x03\x04first", b"", b"second"])
        return StreamedResponse(200, {"Content-Type": "application/zip"}, body)

    runtime.serve(api.address, stream, once=True)
    (post,) = api.posts
    assert post["path"] == "/2018-06-01/runtime/invocation/req-1/response"
    assert post["headers"]["lambda-runtime-function-response-mode"] == "streaming"
    assert post["headers"]["transfer-encoding"] == "chunked"
    assert post["headers"]["content-type"] == runtime.HTTP_INTEGRATION_TYPE
    prelude, separator, body = post["raw"].partition(b"\x00" * 8)
    assert json.loads(prelude) == {
        "statusCode": 200,
        "headers": {"Content-Type": "application/zip"},
    }
    assert separator
    assert body == b"PK\x03\x04firstsecond"
    assert post["trailers"] == {}


def test_error_before_streaming_goes_to_the_error_endpoint(api: FakeRuntimeApi) -> None:
    def stream(event: dict[str, Any], context: Any) -> StreamedResponse:
        raise RuntimeError("broken before the first byte")

    runtime.serve(api.address, stream, once=True)
    (post,) = api.posts
    assert post["path"] == "/2018-06-01/runtime/invocation/req-1/error"
    assert post["headers"]["lambda-runtime-function-error-type"] == "RuntimeError"
    assert json.loads(post["raw"])["errorMessage"] == "broken before the first byte"


def test_error_mid_stream_is_reported_in_trailers(api: FakeRuntimeApi) -> None:
    def body() -> Iterator[bytes]:
        yield b"partial"
        raise OSError("object store went away")

    runtime.serve(api.address, lambda e, c: StreamedResponse(200, {}, body()), once=True)
    (post,) = api.posts
    assert post["raw"].endswith(b"partial")
    assert post["trailers"]["lambda-runtime-function-error-type"] == "OSError"
    assert post["trailers"]["lambda-runtime-function-error-body"]
