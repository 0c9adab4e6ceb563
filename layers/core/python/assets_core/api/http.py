"""The HTTP side every API group shares: the resolver, the contract's error shape, body limits,
and each prefix's health, OpenAPI and docs routes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from http import HTTPStatus
from itertools import accumulate
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import Router
from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel, ValidationError

from assets_core.api.access import CHALLENGE, authorize_route, request_route
from assets_core.api.multipart import header, raw_body
from assets_core.config import get_settings
from assets_core.errors import (
    AppError,
    InvalidInput,
    PayloadTooLarge,
    Unauthenticated,
    UnsupportedMediaType,
)
from assets_core.identity import SERVER_FIELDS, acting_as
from assets_core.logic.audit import Described, recorded
from assets_core.logic.revisions import Precondition
from assets_core.models.responses import ErrorBody, Health
from assets_core.observability import count_error, lambda_handler, logger
from assets_core.ports import Versioned
from assets_core.routes import READ_ONLY_ROUTES
from assets_core.stores.documents import read_only_calls

# The paging query parameters every list route takes.
Limit = Annotated[int | None, Query(description="Items per page (1-1000, default 100)")]
Cursor = Annotated[str | None, Query(description="The next_cursor of the previous page")]
VersionQuery = Annotated[
    str | None,
    Query(
        max_length=1024,
        description="A version of the asset, an alias, or latest (default: the current version)",
    ),
]
AllVersions = Annotated[
    str | None,
    Query(description="true: match every live version of every asset, not only current ones"),
]


def all_versions(value: str | None) -> bool:
    """The ``all_versions`` query parameter: true or false (absent: false)."""
    if value is None or value.lower() == "false":
        return False
    if value.lower() == "true":
        return True
    raise InvalidInput("all_versions must be true or false.", code="INVALID_QUERY_PARAMETER")


API_VERSION = "1.0.0"
# How deeply arrays and objects may nest in any JSON the API reads: far beyond any document of
# the specs (filters stop at 12), far below where a recursive parser overflows the stack.
MAX_JSON_DEPTH = 64
# A JSON string, escapes included; one left open runs to the end of the text (it is content,
# and the parser refuses it), so the scan never backtracks.
_JSON_STRING = re.compile(rb'"[^"\\]*+(?:\\[\s\S][^"\\]*+)*+(?:"|\\?\Z)')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_BRACKETS_AS_SQUARE = bytes.maketrans(b"{}", b"[]")
_BRACKET_STEP = {ord("["): 1, ord("]"): -1}
NOT_UTF8 = "{} is not UTF-8 text; send JSON encoded as UTF-8."


def error_response(status: int, code: str, message: str) -> Response[Any]:
    """The contract's error shape; each one is counted, by code."""
    count_error(code, status)
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=AppError(message, code=code).body(),
    )


def app_error_response(exc: AppError) -> Response[Any]:
    """An ``AppError`` in the contract's shape; a missing or refused token carries the
    ``WWW-Authenticate`` challenge."""
    answer = error_response(exc.status, exc.code, exc.message)
    if isinstance(exc, Unauthenticated):
        answer.headers.update(CHALLENGE)
    return answer


def json_response(
    status: int, body: Any, headers: Mapping[str, str] | None = None
) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers=dict(headers or {}),
    )


def versioned_response(versioned: Versioned, status: int = HTTPStatus.OK) -> Response[Any]:
    """A record as JSON with its revision as the ETag, for a later ``If-Match``."""
    return json_response(status, versioned.document, {"ETag": versioned.etag})


def if_match(app: Router) -> Precondition | None:
    """The request's ``If-Match`` precondition, if it sent one."""
    headers = app.current_event.headers or {}
    value = next((v for k, v in headers.items() if k.lower() == "if-match"), None)
    return Precondition.parse(value)


def audited_in(service: str) -> Callable[[Callable[[], Any], Any], Any]:
    """A service's way of making a write with its audit record (``logic.audit.recorded``):
    ``audited(work, described)``."""

    def audited[T](work: Callable[[], T], described: Described[T]) -> T:
        from assets_core.stores.factory import audit_trail

        return recorded(audit_trail(), service, work, described)

    return audited


def request_base(headers: Mapping[str, str]) -> str:
    """``scheme://host`` the client used (API Gateway and the local gateway both send
    X-Forwarded-Proto and Host)."""
    scheme = headers.get("x-forwarded-proto", "https").split(",")[0].strip()
    return f"{scheme}://{headers.get('host', 'localhost')}"


# A browser app cannot read a redirect's Location (fetch gives it an opaque answer), nor send
# its token on a plain link: with ?redirect=false it gets the link as JSON, and opens it.
RedirectQuery = Annotated[
    Literal["true", "false"] | None,
    Query(
        alias="redirect",
        description="false: answer 200 with the link in the body instead of redirecting",
    ),
]


def redirect(location: str, follow: str | None = None) -> Response[Any]:
    """A 307 to a short-lived location (never cached); the body names it too. ``follow``
    ``"false"`` (a route's ``?redirect=false``): a 200 with the same body instead."""
    if follow == "false":
        return json_response(HTTPStatus.OK, {"location": location}, {"Cache-Control": "no-store"})
    return Response(
        status_code=HTTPStatus.TEMPORARY_REDIRECT,
        content_type=content_types.APPLICATION_JSON,
        body={"location": location},
        headers={"Location": location, "Cache-Control": "no-store"},
    )


def describe_validation_errors(errors: Iterable[Mapping[str, Any]]) -> str:
    """One sentence a person can act on, from pydantic's error list."""
    unknown: list[str] = []
    sentences: list[str] = []
    for error in errors:
        kind = error.get("type", "")
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body",)]
        where = ".".join(loc)
        if kind == "json_invalid":
            detail = (error.get("ctx") or {}).get("error", "")
            return f"The request body is not valid JSON ({detail}).".replace(" ()", "")
        if kind == "extra_forbidden" and loc and loc[-1] in SERVER_FIELDS:
            sentences.append(f"'{where}' is set by the server; leave it out")
        elif kind == "extra_forbidden":
            unknown.append(where)
        elif kind == "missing":
            sentences.append(f"'{where}' is required")
        elif kind in ("model_attributes_type", "dict_type", "model_type") and not loc:
            sentences.append("the request body must be a JSON object")
        elif where:
            sentences.append(f"'{where}': {error.get('msg', 'is invalid')}")
        else:
            sentences.append(str(error.get("msg", "the request is invalid")))
    if unknown:
        names = ", ".join(f"'{name}'" for name in unknown)
        sentences.insert(0, f"unknown field{'s' if len(unknown) > 1 else ''} {names}")
    if not sentences:
        return "The request is invalid."
    text = "; ".join(sentences[:10])
    return text[0].upper() + text[1:] + "."


def validated_json[M: BaseModel](model: type[M], body: bytes) -> M:
    """A JSON body as ``model``; ``InvalidInput`` saying what is wrong, as a person reads it."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_errors(exc.errors())) from exc


def json_too_deep(data: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON text's arrays and objects nest deeper than ``limit`` (brackets inside
    strings do not count): one linear scan without recursion, so that it can run before any
    recursive parser sees the text."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b"", data).translate(_BRACKETS_AS_SQUARE, _NOT_BRACKETS)
    if brackets.count(b"[") <= limit:
        return False
    if b"[" * (limit + 1) in brackets:
        return True
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets))) > limit


def check_json_text(data: bytes | str, what: str = "The request body") -> bytes:
    """The text as UTF-8 bytes, once it is UTF-8 and nests at most ``MAX_JSON_DEPTH`` levels;
    else ``InvalidInput`` naming ``what``."""
    if isinstance(data, str):
        try:
            data = data.encode()
        except UnicodeEncodeError:
            raise InvalidInput(NOT_UTF8.format(what)) from None
    else:
        try:
            data.decode()
        except UnicodeDecodeError:
            raise InvalidInput(NOT_UTF8.format(what)) from None
    if json_too_deep(data):
        raise InvalidInput(
            f"{what} is nested deeper than {MAX_JSON_DEPTH} levels of arrays and objects; "
            "flatten it."
        )
    return data


def loads_json(data: bytes | str, what: str = "The request body") -> Any:
    """Parse JSON a client sent, bounded first (``check_json_text``); every failure is
    ``InvalidInput`` naming ``what``."""
    text = check_json_text(data, what)
    try:
        # As text: given bytes, json guesses their encoding from where NUL bytes fall, and a
        # UTF-8 body with a NUL second byte would be read as UTF-16 (an error no one catches).
        return json.loads(text.decode())
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{what} is not valid JSON ({exc.msg}).") from None


def check_json_request(
    event: Mapping[str, Any],
    max_bytes: int,
    *,
    multipart_paths: Collection[str] = (),
    too_large_message: str | None = None,
) -> Response[Any] | None:
    """Refuse a body over the limit (413), a body that is not JSON (415), a JSON array (400:
    every body of this API is an object, and powertools would unwrap a one-element list into
    its element), or JSON that is not UTF-8 or nests too deeply (400), before routing."""
    try:
        body = raw_body(event)
    except UnicodeEncodeError:
        # A body string holding a lone surrogate, which no UTF-8 bytes decode to.
        return error_response(
            HTTPStatus.BAD_REQUEST, "INVALID_INPUT", NOT_UTF8.format("The request body")
        )
    if len(body) > max_bytes:
        return error_response(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            PayloadTooLarge.code,
            too_large_message or f"The request body is larger than {max_bytes} bytes.",
        )
    method = (event.get("requestContext") or {}).get("http", {}).get("method", "")
    content_type = header(event, "content-type").split(";")[0].strip().lower()
    # Only the upload routes take form data; elsewhere it is refused before the resolver
    # (whose request validation fails on a form without a boundary).
    accept_multipart = (event.get("rawPath") or "") in multipart_paths
    if (
        method in ("POST", "PUT", "PATCH")
        and event.get("body")
        and content_type
        and content_type != "application/json"
        and not content_type.endswith("+json")
        and not (accept_multipart and content_type == "multipart/form-data")
    ):
        return error_response(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            UnsupportedMediaType.code,
            f"Content-Type '{content_type}' is not accepted here; "
            "send JSON with 'Content-Type: application/json'.",
        )
    if body.lstrip()[:1] == b"[":
        return error_response(
            HTTPStatus.BAD_REQUEST,
            "INVALID_INPUT",
            "The request body must be a JSON object, not an array.",
        )
    if body and not (accept_multipart and content_type == "multipart/form-data"):
        try:
            check_json_text(body)
        except InvalidInput as exc:
            return error_response(exc.status, exc.code, exc.message)
    return None


@dataclass(frozen=True)
class ApiDocs:
    """What a prefix documents at ``/openapi.json`` and ``/docs``: every REST router of the
    prefix, across its API groups (each function serves some of them)."""

    title: str
    routers: tuple[Router, ...]


def build_resolver(
    prefix: str, *routers: Router, docs: ApiDocs | None = None
) -> APIGatewayHttpResolver:
    """A function's resolver: its routers under ``prefix``, with request validation and every
    error in the contract's shape; with ``docs``, also the prefix's health, OpenAPI and docs
    routes."""
    app = _resolver()
    for router in routers:
        app.include_router(router, prefix=prefix)
    if docs is not None:
        app.include_router(health_router, prefix=prefix)
        app.include_router(docs_router(prefix, docs), prefix=prefix)
    return app


def _resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)

    @app.exception_handler(AppError)
    def handle_app_error(exc: AppError) -> Response[Any]:
        return app_error_response(exc)

    @app.exception_handler(RequestValidationError)
    def handle_validation_error(exc: RequestValidationError) -> Response[Any]:
        return error_response(
            HTTPStatus.BAD_REQUEST, "INVALID_INPUT", describe_validation_errors(exc.errors())
        )

    @app.exception_handler(RequestUnsupportedContentType)
    def handle_content_type(exc: RequestUnsupportedContentType) -> Response[Any]:
        return error_response(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            UnsupportedMediaType.code,
            "This content type is not accepted here; send JSON with "
            "'Content-Type: application/json'.",
        )

    @app.not_found
    def handle_not_found(exc: NotFoundError) -> Response[Any]:
        event = app.current_event
        return error_response(
            HTTPStatus.NOT_FOUND,
            "ROUTE_NOT_FOUND",
            f"No route {event.http_method} {event.path}; see the prefix's /openapi.json.",
        )

    @app.exception_handler(ServiceError)
    def handle_service_error(exc: ServiceError) -> Response[Any]:
        return error_response(exc.status_code, "REQUEST_FAILED", str(exc.msg))

    @app.exception_handler(Exception)
    def handle_unexpected(exc: Exception) -> Response[Any]:
        logger.exception("Unhandled error")
        return error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "The service failed unexpectedly; the error was logged. Try again later.",
        )

    return app


def lambda_entry(
    app: APIGatewayHttpResolver,
    *,
    max_body_bytes: int | None = None,
    multipart_paths: Iterable[str] = (),
    too_large_message: str | None = None,
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler of an API group: size and content-type checks, then the resolver."""
    limit = max_body_bytes or get_settings().max_body_bytes
    form_paths = frozenset(multipart_paths)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        route = request_route(event)
        try:  # the authorizer's part first, as API Gateway runs it before the function
            caller = authorize_route(event, route, get_settings())
        except AppError as exc:
            return _early(app_error_response(exc))
        refused = check_json_request(
            event, limit, multipart_paths=form_paths, too_large_message=too_large_message
        )
        if refused is not None:
            return _early(refused)
        with acting_as(caller), read_only_calls(route in READ_ONLY_ROUTES):
            return app.resolve(event, context)

    return lambda_handler(handler, correlation_id_path=correlation_paths.API_GATEWAY_HTTP)


def _early(response: Response[Any]) -> dict[str, Any]:
    """A refusal answered before the resolver, as the Lambda proxy result."""
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": content_types.APPLICATION_JSON, **response.headers},
        "body": json.dumps(response.body),
        "isBase64Encoded": False,
    }


def openapi_document(prefix: str, docs: ApiDocs) -> dict[str, Any]:
    """The prefix's OpenAPI document, from a resolver of its own holding copies of the routes.
    The routers are not included in it: a router follows the resolver that included it last
    (its ``current_event``), and the live one must stay that resolver."""
    doc_app = _resolver()
    for router in (*docs.routers, health_router):
        for (rule, *rest), func in router._routes.items():
            doc_app.route(prefix + rule, *rest)(func)
    schema: dict[str, Any] = json.loads(
        doc_app.get_openapi_json_schema(title=docs.title, version=API_VERSION)
    )
    return documented_errors(documented_catch_alls(schema))


def docs_router(prefix: str, docs: ApiDocs) -> Router:
    """``/openapi.json`` (the prefix's REST routes) and ``/docs`` (Swagger UI and its files)."""
    router = Router()
    document = lru_cache(maxsize=1)(lambda: openapi_document(prefix, docs))

    @router.get("/openapi.json", include_in_schema=False)
    def get_openapi() -> Response[Any]:
        return json_response(HTTPStatus.OK, document())

    @router.get("/docs", include_in_schema=False)
    def get_docs() -> Response[str]:
        from assets_core import docs_ui

        html = docs_ui.swagger_page(docs.title, f"{prefix}/openapi.json", f"{prefix}/docs")
        return Response(
            status_code=HTTPStatus.OK,
            content_type="text/html; charset=utf-8",
            body=html,
            headers=dict(docs_ui.PAGE_HEADERS),
        )

    @router.get("/docs/<asset>", include_in_schema=False, compress=True)
    def get_docs_asset(asset: str) -> Response[Any]:
        from assets_core import docs_ui

        found = docs_ui.asset(asset)
        if found is None:
            return error_response(
                HTTPStatus.NOT_FOUND, "NOT_FOUND", f"No documentation file '{asset}'."
            )
        return Response(
            status_code=HTTPStatus.OK,
            content_type=found.content_type,
            body=found.body,
            headers=dict(docs_ui.ASSET_HEADERS),
        )

    return router


SCHEMA_REF = "#/components/schemas/{model}"
# What any route may answer besides its own: a body the gateway checks refuse (400, 413), a
# store that does not answer (503), a failure of the service itself (500).
COMMON_ERRORS = (HTTPStatus.BAD_REQUEST, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, 500, 503)
_ERROR_SCHEMA = {"$ref": SCHEMA_REF.format(model=ErrorBody.__name__)}


def answers(
    status: int,
    model: Any,
    *errors: int,
    description: str = "Success",
    headers: Mapping[str, str] | None = None,
) -> dict[int, OpenAPIResponse]:
    """A route's answers for its OpenAPI document: ``status`` with a body of ``model``, and
    each of ``errors`` (besides ``COMMON_ERRORS``) in the contract's error shape."""
    success: OpenAPIResponse = {
        "description": description,
        "content": {content_types.APPLICATION_JSON: {"model": model}},
    }
    if headers:
        success["headers"] = _documented_headers(headers)
    documented: dict[int, OpenAPIResponse] = {status: success}
    for code in errors:
        documented[code] = {
            "description": HTTPStatus(code).phrase,
            "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
        }
    return documented


def _documented_headers(headers: Mapping[str, str]) -> dict[str, Any]:
    return {
        name: {"description": text, "schema": {"type": "string"}} for name, text in headers.items()
    }


def head_answers(headers: Mapping[str, str], redirect: str) -> dict[int, OpenAPIResponse]:
    """A file's ``HEAD`` answers: 200 with ``headers`` and no body, and when it 307s."""
    return {
        200: {
            "description": "The stored file's descriptor, without a body",
            "headers": _documented_headers(headers),
        },
        307: {"description": redirect},
    }


ETAG = {"ETag": "The record's revision; send it back as If-Match to update or delete it"}


def form_or_json_body(form: Mapping[str, Any], json_model: type[BaseModel]) -> dict[str, Any]:
    """The ``openapi_extensions`` of a route that reads its body itself: a multipart form
    (``form``: its parts' properties) or a JSON ``json_model``. The model's nested schemas
    travel under ``x-schemas`` until the document moves them into its components."""
    schema = json_model.model_json_schema(ref_template=SCHEMA_REF)
    nested = schema.pop("$defs", {})
    return {
        "requestBody": {
            "required": False,
            "content": {
                content_types.APPLICATION_JSON: {"schema": schema},
                "multipart/form-data": {
                    "schema": {"type": "object", "properties": dict(form)},
                },
            },
        },
        "x-schemas": nested,
    }


def documented_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Every operation documents what it answers: its own statuses, the common errors, 415
    where it reads a body and 404 where its path has parameters; never powertools' 422, which
    these services do not answer (a request that fails validation is a 400)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    if ErrorBody.__name__ not in components:
        error_schema = ErrorBody.model_json_schema(ref_template=SCHEMA_REF)
        components.update(error_schema.pop("$defs", {}))
        components[ErrorBody.__name__] = error_schema
    # Every route but health takes the caller's access token (the JWT authorizer checks it).
    security = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    security["bearerAuth"] = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    schema["security"] = [{"bearerAuth": []}]
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            components.update(operation.pop("x-schemas", {}))
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            codes = [*COMMON_ERRORS]
            if method in ("post", "put", "patch"):
                codes.append(HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
            if "{" in path:
                codes.append(HTTPStatus.NOT_FOUND)
            if path.endswith("/health"):
                operation["security"] = []  # open to anyone
            else:
                codes += [HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN]
            for code in codes:
                responses.setdefault(
                    str(int(code)),
                    {
                        "description": HTTPStatus(code).phrase,
                        "content": {content_types.APPLICATION_JSON: {"schema": _ERROR_SCHEMA}},
                    },
                )
    return schema


CATCH_ALL = "/.+"
# The name of each catch-all's parameter (routes.py's ``{name+}``), by the segment before it.
CATCH_ALL_NAMES = {"/files": "path"}


def documented_catch_alls(schema: dict[str, Any]) -> dict[str, Any]:
    """A catch-all route (``.../.+``, API Gateway's ``{route+}``) written as the path
    template clients call, with its parameter: ``.../{route}`` (``.../files/{path}``)."""
    paths = schema.get("paths", {})
    for path in [p for p in paths if p.endswith(CATCH_ALL)]:
        operations = paths.pop(path)
        stem = path.removesuffix(CATCH_ALL)
        name = next((n for tail, n in CATCH_ALL_NAMES.items() if stem.endswith(tail)), "route")
        for operation in operations.values():
            parameter = {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "string", "minLength": 1},
                "description": "The rest of the path; it may hold '/'.",
            }
            operation["parameters"] = [parameter, *operation.get("parameters", [])]
        paths[f"{stem}/{{{name}}}"] = operations
    return schema


health_router = Router()


@health_router.get("/health", summary="Liveness of the service", responses=answers(200, Health))
def get_health() -> dict[str, str]:
    return {"status": "ok"}
