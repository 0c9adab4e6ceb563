"""Hostile input found by fuzzing, each once a 500: bodies that are not UTF-8, JSON and GraphQL
nested until a recursive parser overflows, backend addresses in error messages, malformed
download tokens, and a local gateway trusting a negative Content-Length. Every one must get
the contract's error shape with a 4xx (503 for a store that does not answer)."""

from __future__ import annotations

import base64
import json
import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from assets_core.identity import READER
from assets_core.stores.status import status_store
from functions.assetdb.handler import handler as assetdb_handler
from functions.components.handler import handler as components_handler
from functions.dbregistry.handler import handler as dbregistry_handler
from functions.registry_download.handler import stream
from functions.registry_graphql.handler import handler as graphql_handler
from functions.registry_query.handler import handler as query_handler
from functions.registry_write.handler import handler as write_handler
from functions.registry_zip.handler import handler as zip_handler
from local.authority import TokenRequest
from local.gateway import serve
from tests.integration.test_assetdb import form
from tests.support import EVENTS, event, invoke

pytestmark = pytest.mark.usefixtures("s3", "status")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
# A JSON route of every service, GraphQL endpoints included.
JSON_ROUTES: list[tuple[Handler, str]] = [
    (query_handler, "apigw_registry_query_search"),
    (write_handler, "apigw_registry_post_assets"),
    (write_handler, "apigw_registry_put_asset"),
    (zip_handler, "apigw_registry_zip_upload_presigned"),
    (graphql_handler, "apigw_registry_graphql_post"),
    (assetdb_handler, "apigw_assetdb_query_plain"),
    (assetdb_handler, "apigw_assetdb_create_external"),
    (assetdb_handler, "apigw_assetdb_upload_asset_presigned"),
    (dbregistry_handler, "apigw_dbregistry_query"),
    (dbregistry_handler, "apigw_dbregistry_create"),
    (components_handler, "apigw_components_query"),
    (components_handler, "apigw_components_register"),
    (components_handler, "apigw_components_gql_post"),
]
ROUTE_IDS = [name.removeprefix("apigw_") for _, name in JSON_ROUTES]
GRAPHQL_ROUTES = [
    (graphql_handler, "apigw_registry_graphql_post"),
    (components_handler, "apigw_components_gql_post"),
]
GRAPHQL_IDS = ["registry", "components"]
SEARCH = "query($f: GenericScalar) { searchAssets(filters: $f) { assetId } }"
# The limits this change sets: JSON bodies (and GraphQL variables) and GraphQL query text.
MAX_JSON_DEPTH = 64
MAX_QUERY_NESTING = 64
# Deep enough to overflow every recursive parser on the way, far under the 1 MiB body limit.
DEEP = 20_000


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def assert_refused(status: int, body: Any, expected: int = 400) -> dict[str, Any]:
    assert status == expected, body
    assert body["success"] is False, body
    error: dict[str, Any] = body["error"]
    assert error["code"], body
    assert error["message"], body
    return error


# 1. Bodies that are not UTF-8


@pytest.mark.parametrize("encoding", ["base64", "surrogate"])
@pytest.mark.parametrize(("handler", "name"), JSON_ROUTES, ids=ROUTE_IDS)
def test_a_body_that_is_not_utf8_is_400(handler: Handler, name: str, encoding: str) -> None:
    # Given a JSON request whose bytes are not UTF-8: base64-encoded, as API Gateway sends them,
    # or a body string no UTF-8 bytes could have made (a lone surrogate)
    request = event(name)
    if encoding == "base64":
        request["body"] = base64.b64encode(b"\xff{}").decode()
        request["isBase64Encoded"] = True
    else:
        request["body"] = '{"asset_id": "\ud800"}'
    # When it is sent, then it is refused as bad input, not a server error
    error = assert_refused(*invoke(handler, request))
    assert error["code"] == "INVALID_INPUT"
    assert "UTF-8" in error["message"]


# 2. Nesting past the limit, before any recursive parser runs


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, DEEP])
@pytest.mark.parametrize(("handler", "name"), JSON_ROUTES, ids=ROUTE_IDS)
def test_a_body_nested_past_the_limit_is_400_naming_it(
    handler: Handler, name: str, depth: int
) -> None:
    raw = '{"asset_version": ' + nested(depth - 1) + "}"
    error = assert_refused(*invoke(handler, event(name, raw_body=raw)))
    assert error["code"] == "INVALID_INPUT"
    assert f"{MAX_JSON_DEPTH} levels" in error["message"]


def test_a_body_at_the_limit_passes_the_depth_guard() -> None:
    raw = '{"asset_version": ' + nested(MAX_JSON_DEPTH - 1) + "}"
    status, body = invoke(query_handler, event("apigw_registry_query_search", raw_body=raw))
    error = assert_refused(status, body)
    assert error["code"] == "INVALID_FILTER"  # the filter's own, smaller limit


def test_brackets_inside_strings_do_not_count() -> None:
    raw = json.dumps({"asset_version": '["\\"' * 5_000})
    status, body = invoke(query_handler, event("apigw_registry_query_search", raw_body=raw))
    assert (status, body["items"]) == (200, [])


@pytest.mark.parametrize(("handler", "name"), GRAPHQL_ROUTES, ids=GRAPHQL_IDS)
@pytest.mark.parametrize("opener", ["{ a", "(a: ", "[", "{a: "])
def test_a_graphql_query_nested_past_the_limit_is_400_naming_it(
    handler: Handler, name: str, opener: str
) -> None:
    query = "{ searchAssets(filters: " + opener * DEEP + ") { assetId } }"
    error = assert_refused(*invoke(handler, event(name, body={"query": query})))
    assert f"{MAX_QUERY_NESTING} levels" in error["message"]


@pytest.mark.parametrize(("handler", "name"), GRAPHQL_ROUTES, ids=GRAPHQL_IDS)
def test_graphql_brackets_in_strings_and_comments_do_not_count(handler: Handler, name: str) -> None:
    filler = "{[(" * 100
    query = (
        f"# {filler}\n"
        f'{{ a: __type(name: "{filler}\\"") {{ name }} '
        f'b: __type(name: """{filler} \\""" {filler}""") {{ name }} }}'
    )
    status, body = invoke(handler, event(name, body={"query": query}))
    assert (status, body["data"]) == (200, {"a": None, "b": None})


@pytest.mark.parametrize(("handler", "name"), GRAPHQL_ROUTES, ids=GRAPHQL_IDS)
def test_graphql_variables_nested_past_the_limit_are_400(handler: Handler, name: str) -> None:
    raw = '{"query": "' + SEARCH + '", "variables": {"f": {"a": ' + nested(DEEP) + "}}}"
    error = assert_refused(*invoke(handler, event(name, raw_body=raw)))
    assert f"{MAX_JSON_DEPTH} levels" in error["message"]


@pytest.mark.parametrize(("handler", "name"), GRAPHQL_ROUTES, ids=GRAPHQL_IDS)
@pytest.mark.parametrize("part", ["query", "variables"])
def test_graphql_get_parameters_nested_past_the_limit_are_400(
    handler: Handler, name: str, part: str
) -> None:
    request = event(name)
    request["requestContext"]["http"]["method"] = "GET"
    request.pop("body", None)
    if part == "query":
        params = {"query": "{ a" + " { a" * DEEP + " }" * DEEP + " }"}
        limit = MAX_QUERY_NESTING
    else:
        params = {"query": SEARCH, "variables": '{"f": ' + nested(DEEP) + "}"}
        limit = MAX_JSON_DEPTH
    request["queryStringParameters"] = params
    error = assert_refused(*invoke(handler, request))
    assert f"{limit} levels" in error["message"]


def test_multipart_asset_metadata_nested_past_the_limit_is_400() -> None:
    metadata = ('{"asset_name": "x", "asset_metadata": ' + nested(DEEP) + "}").encode()
    content_type, body = form({"asset": ("f.png", b"data"), "asset_metadata": (None, metadata)})
    request = event("apigw_assetdb_upload_asset", headers={"content-type": content_type})
    request["body"] = body
    error = assert_refused(*invoke(assetdb_handler, request))
    assert f"{MAX_JSON_DEPTH} levels" in error["message"]


# 3. Backend addresses stay in the logs


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_status_store_that_does_not_answer_is_503_without_its_address(
    closed_port: int, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a status store whose Redis refuses connections
    unreachable = redis.Redis.from_url(
        f"redis://127.0.0.1:{closed_port}/0",
        socket_connect_timeout=1,
        socket_timeout=1,
        retry_on_timeout=False,
        decode_responses=True,
    )
    with monkeypatch.context() as patch, caplog.at_level(logging.WARNING):
        patch.setattr(status_store(), "client", unreachable)
        # When an upload's status is asked for
        status, body = invoke(zip_handler, event("apigw_registry_zip_status"))
    # Then the answer says to retry, and names no address
    error = assert_refused(status, body, 503)
    assert error["code"] == "STORE_UNAVAILABLE"
    assert "127.0.0.1" not in json.dumps(body)
    assert str(closed_port) not in json.dumps(body)
    # And the log holds the detail
    assert str(closed_port) in caplog.text


# 4. Malformed download tokens


def download_event(**params: str) -> dict[str, Any]:
    request: dict[str, Any] = json.loads((EVENTS / "function_url_download.json").read_text())
    query = {"asset_id": "asset-001", "expires": "4000000000", "token": "0" * 64, **params}
    request["queryStringParameters"] = query
    request["rawQueryString"] = ""
    return request


@pytest.mark.parametrize(
    "params",
    [
        {"token": "é" * 64},
        {"token": "0" * 63 + "\u00e9"},
        {"token": "\x00"},
        {"token": "0" * 10_000},
        {"asset_id": "\ud800"},
        {"expires": "9" * 5_000},
        {"expires": "\u0661\u0662\u0663"},
    ],
    ids=["non-ascii", "one-non-ascii", "nul", "long", "surrogate-id", "huge-expiry", "arabic"],
)
def test_a_malformed_download_link_is_403(params: dict[str, str]) -> None:
    response = stream(download_event(**params))
    assert response.status == 403
    error = json.loads(b"".join(response.body))["error"]
    assert error["code"] == "DOWNLOAD_TOKEN_INVALID"


# 5. The local gateway's Content-Length


_TOKEN: dict[int, str] = {}


@pytest.fixture(scope="module")
def gateway_port() -> Iterator[int]:
    server = serve("127.0.0.1", 0)
    port = server.server_address[1]
    minted = server.gateway.authority.mint(TokenRequest.parse({"sub": "reader", "roles": [READER]}))
    _TOKEN[port] = minted["access_token"]
    yield port
    server.shutdown()
    server.server_close()


def raw_exchange(port: int, request: bytes) -> tuple[int, dict[str, Any]]:
    """Send a request (with a reader's token after its request line) and half-close, so that
    a server reading to the end of the stream sees it at once; the status and JSON body of
    the answer."""
    line, _, rest = request.partition(b"\r\n")
    authorization = f"Authorization: Bearer {_TOKEN[port]}\r\n".encode()
    request = line + b"\r\n" + authorization + rest
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        conn.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


@pytest.mark.parametrize("length", ["-1", "-100", "abc", "1e3", "+5", "0x10", "5, 6", "\u0665"])
def test_the_gateway_refuses_a_content_length_that_is_not_a_count(
    gateway_port: int, length: str
) -> None:
    request = (
        "POST /registry/query/search HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n{{}}"
    ).encode()
    status, body = raw_exchange(gateway_port, request)
    assert status == 400, body
    assert body["success"] is False
    assert body["error"]["code"] == "INVALID_INPUT"


def test_the_gateway_refuses_conflicting_content_lengths(gateway_port: int) -> None:
    request = (
        b"POST /registry/query/search HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"
    )
    status, body = raw_exchange(gateway_port, request)
    assert status == 400, body


def test_the_gateway_still_answers_a_plain_content_length(gateway_port: int) -> None:
    request = (
        b"POST /registry/query/search HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    )
    status, body = raw_exchange(gateway_port, request)
    assert (status, body["items"]) == (200, [])


def test_a_body_that_is_not_utf8_over_http_is_400(gateway_port: int) -> None:
    request = (
        b"POST /registry/query/search HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: 3\r\n\r\n\xff{}"
    )
    status, body = raw_exchange(gateway_port, request)
    assert (status, body["error"]["code"]) == (400, "INVALID_INPUT")
