"""Who may call a route, checked once for every API group before its resolver runs.

The route table says what each route needs (``routes.PUBLIC``, ``READ`` or ``WRITE``); the
caller comes from the claims API Gateway's JWT authorizer verified (``identity.caller_of``).
A route that needs a caller answers ``401 UNAUTHENTICATED`` without one (reads are open to
anonymous callers only with ``ANONYMOUS_READS``), and ``403 FORBIDDEN`` to a caller without
the role. Which records the caller then sees and may change is the stores' rule
(``scoping``).

Behind the edge (``-c public=true``), CloudFront sends ``X-Origin-Verify`` with a secret only
it and the functions know; a request without it went around the edge's rate limit to the
API's own endpoint and is refused (``403 EDGE_REQUIRED``), public routes included.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from assets_core.config import Settings
from assets_core.errors import Forbidden, Unauthenticated
from assets_core.identity import OPEN, READER, WRITER, Caller, caller_of
from assets_core.routes import PUBLIC, WRITE, Route, route_of

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="assets"'}
ORIGIN_VERIFY_HEADER = "x-origin-verify"  # as API Gateway's payload 2.0 names it


def request_route(event: Mapping[str, Any]) -> Route | None:
    """The route table's entry for an API Gateway event (``routes.route_of``)."""
    http = (event.get("requestContext") or {}).get("http") or {}
    return route_of(
        event.get("routeKey"), str(http.get("method") or ""), str(event.get("rawPath") or "")
    )


def authorize(event: Mapping[str, Any], settings: Settings) -> Caller:
    """The request's caller, once its route allows them (``authorize_route``)."""
    return authorize_route(event, request_route(event), settings)


def authorize_route(event: Mapping[str, Any], route: Route | None, settings: Settings) -> Caller:
    """The caller of ``event``, for ``route``, once it allows them; ``Unauthenticated`` or
    ``Forbidden`` when it does not. A route the table does not know needs a reader (the
    resolver then answers 404)."""
    if settings.origin_verify_secret_arn:
        check_origin(event, settings.origin_verify_secret_arn)
    caller = caller_of(event)
    if caller.anonymous and settings.open_access:
        return OPEN
    if route is not None and route.access == PUBLIC:
        return caller
    writes = route is not None and route.access == WRITE
    return allowed(caller, writes=writes, settings=settings)


def allowed(caller: Caller, *, writes: bool, settings: Settings, hint: str = "") -> Caller:
    """``caller``, if they may read (or, ``writes``, write) at all."""
    if caller.anonymous:
        if writes or not settings.anonymous_reads:
            raise Unauthenticated(
                "This route needs a token: send 'Authorization: Bearer <access token>'." + hint
            )
        return caller
    needed = WRITER if writes else READER
    if needed not in caller.roles:
        raise Forbidden(f"This route needs the role {needed}; the token does not grant it.")
    return caller


def check_origin(event: Mapping[str, Any], secret_arn: str) -> None:
    """Refuse a request that did not come through the edge: its ``X-Origin-Verify`` must be
    the secret CloudFront sends (read once per container)."""
    from assets_core.stores.secrets import secret_string

    headers = event.get("headers") or {}
    sent = str(headers.get(ORIGIN_VERIFY_HEADER) or "")
    if not hmac.compare_digest(sent.encode(), secret_string(secret_arn).encode()):
        raise Forbidden(
            "This deployment is called through its edge URL (the stack's EdgeUrl output), "
            "not the API's own endpoint.",
            code="EDGE_REQUIRED",
        )
