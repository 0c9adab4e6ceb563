"""The local gateway: each HTTP request becomes the API Gateway HTTP API (payload 2.0) event AWS
would send, for the handler the route table names; its answer goes back as HTTP."""

from __future__ import annotations

import importlib
import json
import logging
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

from assets_core.api.http import loads_json
from assets_core.errors import AppError, InvalidInput
from assets_core.routes import (
    API_GROUPS,
    DOWNLOAD,
    PURGE,
    ApiGroup,
    Route,
    find_route,
    is_public,
)
from local.apigw import LocalContext, http_answer, http_api_event
from local.authority import LocalAuthority, Refused, TokenRequest, event_authorizer
from local.console import console_answer, is_console
from local.poller import function_context, scheduled_event

if TYPE_CHECKING:
    from local.events import EventLog

log = logging.getLogger("local.gateway")
# API Gateway's own limit on a request body (HTTP API: 10 MB).
MAX_REQUEST_BYTES = 10 * 1024 * 1024
# Mints tokens of the local stack's issuer; never a route of the deployed stack.
MINT_ROUTE = "/local/token"
# Runs the purge now (an admin's token): what the hourly schedule does in AWS, with the
# schedule's "time" given (to purge what would be past retention then) or a migration.
PURGE_ROUTE = "/local/purge"
# The change events the stack's bus delivered (an admin's token): what a rule would hand a
# pipeline in AWS (``local/events.py``).
EVENTS_ROUTE = "/local/events"


class Gateway:
    """The route table's handlers, imported once, as warm Lambda containers would be."""

    def __init__(self) -> None:
        self.handlers: dict[str, Any] = {}
        self.lock = threading.Lock()
        # A Lambda execution environment serves one request at a time, and a powertools
        # resolver keeps the current event in module state: the gateway's threads take turns
        # per function (concurrent calls crossed their events and answers under load).
        self.invocations: dict[str, threading.Lock] = {}
        self.authority = LocalAuthority()
        self.event_log: EventLog | None = None
        from assets_core.config import get_settings

        # Where presigned uploads go: the console's pages may send requests there.
        self.s3_endpoint = get_settings().s3_endpoint_url or "https://*.amazonaws.com"

    def invocation_lock(self, name: str) -> threading.Lock:
        with self.lock:
            return self.invocations.setdefault(name, threading.Lock())

    def handler_for(self, group: ApiGroup) -> Any:
        with self.lock:
            if group.name not in self.handlers:
                self.handlers[group.name] = importlib.import_module(group.module).handler
            return self.handlers[group.name]

    def warm(self) -> None:
        for group in API_GROUPS:
            self.handler_for(group)
        self.stream_handler()

    def purge_handler(self) -> Any:
        with self.lock:
            if PURGE.name not in self.handlers:
                self.handlers[PURGE.name] = importlib.import_module(PURGE.module).handler
            return self.handlers[PURGE.name]

    def stream_handler(self) -> Any:
        with self.lock:
            if DOWNLOAD.name not in self.handlers:
                self.handlers[DOWNLOAD.name] = importlib.import_module(DOWNLOAD.module).stream
            return self.handlers[DOWNLOAD.name]


def _json_error(status: int, code: str, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """The contract's error shape, for what the gateway answers itself."""
    body = json.dumps(AppError(message, code=code).body()).encode()
    return status, [("Content-Type", "application/json")], body


class RequestHandler(BaseHTTPRequestHandler):
    """One HTTP request to the gateway: a route's handler, or the download stream."""

    protocol_version = "HTTP/1.1"
    server_version = "assets-local-gateway"
    gateway: Gateway  # set by make_request_handler

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        names = {name.lower() for name, _ in headers}
        for name, value in headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        if "content-type" not in names and body:
            self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _stream(self, url: SplitResult) -> None:
        """A function URL with response streaming: the body goes out in chunks as the
        function produces it."""
        event = http_api_event(
            method=self.command,
            raw_path=url.path,
            route_key="$default",
            raw_query=url.query,
            headers=list(self.headers.items()),
            source_ip=self.client_address[0],
            domain=self.headers.get("Host", "127.0.0.1"),
        )
        response = self.gateway.stream_handler()(event, LocalContext(DOWNLOAD.name))
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for piece in response.body:
                if piece:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            log.info("The client closed the download")
        except Exception:
            log.exception("The download stream failed")
            self.close_connection = True  # no terminating chunk: the client sees it cut

    def _read_body(self) -> bytes | None:
        """The request's body; None when it cannot be read, once the refusal is sent."""
        length = _content_length(self.headers.get_all("Content-Length") or [])
        if length is None:
            # Where the body ends is unknown: nothing more can be read from this connection.
            self.close_connection = True
            self._send(
                *_json_error(
                    400,
                    "INVALID_INPUT",
                    "Content-Length must be one count of bytes (digits only).",
                )
            )
            return None
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True
            self._send(*_json_error(413, "PAYLOAD_TOO_LARGE", "The request body is too large."))
            return None
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        url = urlsplit(self.path)
        if url.path == DOWNLOAD.local_path:
            self._stream(url)
            return
        if is_console(url.path) and self.command in ("GET", "HEAD"):
            self._send(*console_answer(url.path, self.gateway.s3_endpoint))
            return
        body = self._read_body()
        if body is None:
            return
        if url.path == MINT_ROUTE and self.command == "POST":
            self._mint(body)
            return
        if url.path == PURGE_ROUTE and self.command == "POST":
            self._purge(body)
            return
        if url.path == EVENTS_ROUTE and self.command == "GET":
            self._events(url)
            return
        found = find_route(self.command, url.path)
        if found is None:
            self._send(*_json_error(404, "ROUTE_NOT_FOUND", f"No route {self.command} {url.path}."))
            return
        self._invoke(*found, url=url, body=body)

    def _mint(self, body: bytes) -> None:
        try:
            request = TokenRequest.parse(loads_json(body or b"{}"))
        except InvalidInput as exc:
            self._send(*_json_error(400, exc.code, exc.message))
            return
        except ValueError as exc:
            self._send(*_json_error(400, "INVALID_INPUT", f"Token request refused: {exc}."))
            return
        minted = self.gateway.authority.mint(request)
        self._send(200, [("Content-Type", "application/json")], json.dumps(minted).encode())

    def _admin(self, what: str) -> bool:
        """Whether the request carries an admin's token; the refusal sent when not."""
        try:
            authorizer = self._authorizer()
        except Refused as refused:
            self._refuse_token(refused)
            return False
        from assets_core.identity import caller_of

        if authorizer is None:
            status, headers, answer = _json_error(
                401, "UNAUTHENTICATED", f"{what} needs an admin's token."
            )
            self._send(status, [*headers, ("WWW-Authenticate", 'Bearer realm="assets"')], answer)
            return False
        if not caller_of({"requestContext": {"authorizer": authorizer}}).is_admin:
            self._send(*_json_error(403, "FORBIDDEN", f"{what} needs an admin's token."))
            return False
        return True

    def _events(self, url: SplitResult) -> None:
        """``GET /local/events`` (``?source=&detail-type=&resource=&id=&limit=``), for an
        admin: ``{"items": [EventBridge events, oldest first]}``."""
        if not self._admin("The local event log"):
            return
        log_of_events = self.gateway.event_log
        if log_of_events is None:
            message = "This stack runs without an event bus (EVENT_BUS_NAME is empty)."
            self._send(*_json_error(404, "NO_EVENT_BUS", message))
            return
        query = {name: values[-1] for name, values in parse_qs(url.query).items()}
        body = json.dumps({"items": log_of_events.listed(query)}).encode()
        self._send(200, [("Content-Type", "application/json")], body)

    def _purge(self, body: bytes) -> None:
        """``POST /local/purge`` with ``{"time": "<ISO-8601>"}`` (default now) or
        ``{"action": "migrate"}``, for an admin: the purge function's answer."""
        if not self._admin("The local purge"):
            return
        try:
            request = loads_json(body or b"{}")
        except InvalidInput as exc:
            self._send(*_json_error(400, exc.code, exc.message))
            return
        if not isinstance(request, dict) or set(request) - {"time", "action"}:
            message = 'Send {"time": "<ISO-8601>"} or {"action": "migrate"}.'
            self._send(*_json_error(400, "INVALID_INPUT", message))
            return
        if request.get("action") not in (None, "migrate"):
            self._send(*_json_error(400, "INVALID_INPUT", "The only action is 'migrate'."))
            return
        event: dict[str, Any] = {"action": "migrate"} if request.get("action") else {}
        if not event:
            event = scheduled_event(datetime.now(UTC))
            if isinstance(request.get("time"), str):
                event["time"] = request["time"]
        with self.gateway.invocation_lock(PURGE.name):
            result = self.gateway.purge_handler()(event, function_context(PURGE))
        self._send(200, [("Content-Type", "application/json")], json.dumps(result).encode())

    def _authorizer(self) -> dict[str, Any] | None:
        """The event's ``authorizer`` for the request's token, None without one; ``Refused``
        for a token API Gateway's authorizer would refuse."""
        authorization = self.headers.get("Authorization")
        if authorization is None:
            return None
        return event_authorizer(self.gateway.authority.verify(authorization))

    def _refuse_token(self, refused: Refused) -> None:
        log.info("Refused a token: %s", refused)
        status, headers, body = _json_error(
            401, "UNAUTHENTICATED", "The bearer token is missing, malformed, expired or not ours."
        )
        self._send(status, [*headers, ("WWW-Authenticate", 'Bearer realm="assets"')], body)

    def _invoke(
        self,
        group: ApiGroup,
        route: Route,
        params: dict[str, str],
        *,
        url: SplitResult,
        body: bytes,
    ) -> None:
        """The route's handler called with the event API Gateway would send it."""
        try:
            authorizer = None if is_public(route) else self._authorizer()
        except Refused as refused:
            self._refuse_token(refused)
            return
        headers = [*self.headers.items(), ("X-Forwarded-Proto", "http")]
        # API Gateway's HTTP API hands the function the path and its parameters already
        # percent-decoded (a function URL, above, keeps the encoding): decoded once here,
        # never again in a route.
        event = http_api_event(
            method=self.command,
            raw_path=unquote(url.path),
            route_key=route.route_key,
            path_parameters=_decoded(params),
            raw_query=url.query,
            headers=headers,
            body=body,
            source_ip=self.client_address[0],
            domain=self.headers.get("Host", "127.0.0.1"),
        )
        if authorizer:
            event["requestContext"]["authorizer"] = authorizer
        try:
            handler = self.gateway.handler_for(group)
            with self.gateway.invocation_lock(group.name):
                result = handler(event, LocalContext(group.name))
        except Exception:
            log.exception("Handler %s failed", group.name)
            self._send(*_json_error(500, "INTERNAL_ERROR", "Internal Server Error"))
            return
        answer = http_answer(result)
        self._send(answer.status, answer.headers, answer.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY, made-up ones) answers as API Gateway does: no
        # such route, in the contract's shape (http.server would answer 501 in HTML).
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)


def make_request_handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    """The request handler class serving ``gateway``'s handlers."""
    return type("RequestHandler", (RequestHandler,), {"gateway": gateway})


def _content_length(values: list[str]) -> int | None:
    """The body's length from the Content-Length headers (0 without one); None unless they
    are one plain decimal count (RFC 9110: ``1*DIGIT``; repeats must agree), so that a negative
    length can never read past the request."""
    counts = {value.strip() for value in values}
    if not counts:
        return 0
    if len(counts) > 1:
        return None
    (text,) = counts
    if not (text.isascii() and text.isdigit()):
        return None
    # Past any allowed size either way; int() refuses more than 4300 digits.
    return int(text) if len(text) <= 18 else MAX_REQUEST_BYTES + 1


def _decoded(params: dict[str, str]) -> dict[str, str]:
    return {name: unquote(value) for name, value in params.items()}


class GatewayServer(ThreadingHTTPServer):
    """The HTTP server in front of a gateway (its token issuer is ``gateway.authority``)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], gateway: Gateway) -> None:
        super().__init__(address, make_request_handler(gateway))
        self.gateway = gateway


def serve(host: str, port: int, event_log: EventLog | None = None) -> GatewayServer:
    """A started server (in a daemon thread) in front of every API group's handler."""
    gateway = Gateway()
    gateway.event_log = event_log
    gateway.warm()
    server = GatewayServer((host, port), gateway)
    threading.Thread(target=server.serve_forever, name="gateway", daemon=True).start()
    return server
