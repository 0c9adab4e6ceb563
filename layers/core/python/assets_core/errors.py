"""Domain errors. Each carries the contract's error code and HTTP status; one handler maps them."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any


class AppError(Exception):
    """An error a client can act on: it becomes ``{"success": false, "error": {...}}``."""

    status: HTTPStatus = HTTPStatus.BAD_REQUEST
    code: str = "INVALID_INPUT"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def body(self) -> dict[str, Any]:
        return {"success": False, "error": {"code": self.code, "message": self.message}}


class InvalidInput(AppError):
    status = HTTPStatus.BAD_REQUEST
    code = "INVALID_INPUT"


class InvalidFilter(InvalidInput):
    code = "INVALID_FILTER"


class QueryTimeout(InvalidInput):
    code = "QUERY_TIMEOUT"


class NotFound(AppError):
    status = HTTPStatus.NOT_FOUND
    code = "NOT_FOUND"


class Unauthenticated(AppError):
    """No token, or one the authorizer did not verify: answered with
    ``WWW-Authenticate: Bearer``."""

    status = HTTPStatus.UNAUTHORIZED
    code = "UNAUTHENTICATED"


class Forbidden(AppError):
    status = HTTPStatus.FORBIDDEN
    code = "FORBIDDEN"


class AlreadyExists(AppError):
    status = HTTPStatus.CONFLICT
    code = "ALREADY_EXISTS"


class Conflict(AppError):
    """The request cannot be applied to the record as it stands (a version that exists, a
    restore of something not deleted)."""

    status = HTTPStatus.CONFLICT
    code = "CONFLICT"


class RevisionConflict(AppError):
    """A conditional write found the record at another revision than the caller read: an
    ``If-Match`` that is no longer current, or a concurrent writer that came first."""

    status = HTTPStatus.CONFLICT
    code = "REVISION_CONFLICT"

    def __init__(self, message: str, *, current: int | None = None) -> None:
        super().__init__(message)
        self.current = current


class PayloadTooLarge(AppError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(AppError):
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    code = "UNSUPPORTED_MEDIA_TYPE"


class InternalError(AppError):
    """Something failed that no client input explains (logged where it happened)."""

    status = HTTPStatus.INTERNAL_SERVER_ERROR
    code = "INTERNAL_ERROR"


class StoreUnavailable(AppError):
    """A backing store did not answer; the client may retry."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "STORE_UNAVAILABLE"


def where_and_why(error: Mapping[str, Any], subject: str) -> str:
    """One pydantic error as ``<dotted location>: <message>``; ``subject`` names the whole
    document when the error has no location."""
    where = ".".join(str(part) for part in error.get("loc", ())) or subject
    return f"{where}: {error.get('msg', 'is invalid')}"


class ObjectRefused(InvalidInput):
    """The object store refused a request for what it asks (a key too long, an invalid
    argument, an entity too large): sending it again would be refused the same way."""

    code = "OBJECT_REFUSED"

    def __init__(self, message: str, *, key: str, reason: str) -> None:
        super().__init__(message)
        self.key = key
        self.reason = reason
