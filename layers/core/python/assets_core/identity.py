"""Who is calling: the caller's id and roles, from the claims a JWT authorizer verified.

In AWS the HTTP API's JWT authorizer checks the token (signature, issuer, audience, expiry)
and puts its claims in ``requestContext.authorizer.jwt.claims``; locally the gateway does the
same job with the same rules. Handlers read the claims from there and never parse a token.
The authorizer passes every claim as a string: a list claim such as ``cognito:groups``
arrives as ``"[assets-admin assets-writer]"``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

READER = "assets-reader"
WRITER = "assets-writer"
ADMIN = "assets-admin"
ROLES = (READER, WRITER, ADMIN)
# A writer is also a reader; an admin is also a writer and a reader.
_IMPLIED = {READER: {READER}, WRITER: {READER, WRITER}, ADMIN: {READER, WRITER, ADMIN}}


@dataclass(frozen=True)
class Caller:
    """The caller of one request: ``sub`` is None for an anonymous one."""

    sub: str | None
    roles: frozenset[str]

    @property
    def anonymous(self) -> bool:
        return self.sub is None

    @property
    def can_read(self) -> bool:
        return READER in self.roles

    @property
    def can_write(self) -> bool:
        return WRITER in self.roles

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    def owns(self, owner: object) -> bool:
        """Whether ``owner`` (a record's ``created_by``) names this caller; nobody owns a
        record without an owner, and an anonymous caller owns nothing."""
        return self.sub is not None and owner == self.sub

    def may_change(self, owner: str | None) -> bool:
        """Whether this caller may update or delete a record ``owner`` created: its owner, or
        an admin (a record without an owner is an admin's alone)."""
        return self.is_admin or (self.can_write and self.owns(owner))


ANONYMOUS = Caller(sub=None, roles=frozenset())
# Subjects the server stamps for itself; a token naming one is not a caller (so nobody can
# own what the system stored).
RESERVED_PREFIX = "assets:"
# The functions that have no caller (the janitor, the streaming download after its signed
# link was checked) act as the system, which sees every record.
SYSTEM = Caller(sub=f"{RESERVED_PREFIX}system", roles=frozenset(ROLES))
# Everyone, on a deployment made open on purpose (``OPEN_ACCESS``, ``-c open_api=true``).
OPEN = Caller(sub="anonymous", roles=frozenset(ROLES))

_CURRENT: ContextVar[Caller] = ContextVar("caller", default=SYSTEM)


def current_caller() -> Caller:
    """Who the work in progress is for: the API request's caller, set for its whole run."""
    return _CURRENT.get()


@contextmanager
def acting_as(caller: Caller) -> Iterator[Caller]:
    """Run the block for ``caller``: every store call in it sees and stamps as them."""
    token = _CURRENT.set(caller)
    try:
        yield caller
    finally:
        _CURRENT.reset(token)


# -- what the server writes into every record ---------------------------------------------

SERVER_FIELDS = ("created_by", "created_at", "updated_by", "updated_at")
VISIBILITY = "visibility"
PRIVATE: Final = "private"
PUBLIC: Final = "public"
Visibility = Literal["private", "public"]  # a record's VISIBILITY: PRIVATE or PUBLIC


def now_iso() -> str:
    """The time now, as ISO-8601 UTC with milliseconds and a ``Z`` (so system timestamps sort
    and compare as strings in filters)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stamp_of(caller: Caller) -> str:
    return caller.sub or "anonymous"


def without_server_fields(document: Mapping[str, Any]) -> dict[str, Any]:
    """A stored record less what the server set in it, as a model validates it."""
    return {name: value for name, value in document.items() if name not in SERVER_FIELDS}


def visible_to(caller: Caller) -> dict[str, Any] | None:
    """The condition a record with a ``visibility`` must meet for ``caller`` to see it: public
    ones for everyone, private ones for their owner; None (no condition) for an admin."""
    if caller.is_admin:
        return None
    if caller.sub is None:
        return {VISIBILITY: PUBLIC}
    return {"$or": [{VISIBILITY: PUBLIC}, {"created_by": caller.sub}]}


def sees(caller: Caller, document: Mapping[str, Any]) -> bool:
    """Whether ``caller`` may see this record (the rule ``visible_to`` puts in queries)."""
    return (
        caller.is_admin
        or document.get(VISIBILITY) == PUBLIC
        or caller.owns(document.get("created_by"))
    )


def claims_of(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The verified claims an API Gateway HTTP API event carries, if a token was checked."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    jwt = authorizer.get("jwt") if isinstance(authorizer, Mapping) else None
    claims = jwt.get("claims") if isinstance(jwt, Mapping) else None
    return claims if isinstance(claims, Mapping) else None


def caller_of(event: Mapping[str, Any]) -> Caller:
    """The request's caller: anonymous without verified claims."""
    claims = claims_of(event)
    sub = str((claims or {}).get("sub") or "")
    if not claims or not sub or sub.startswith(RESERVED_PREFIX):
        return ANONYMOUS
    return Caller(sub=str(claims["sub"]), roles=roles_of(claims))


def roles_of(claims: Mapping[str, Any]) -> frozenset[str]:
    """The roles a token grants: its Cognito groups and its scopes (a resource server's
    scope ``<identifier>/assets-writer`` counts as ``assets-writer``), each with the roles it
    implies; names that are not roles are ignored."""
    granted: set[str] = set()
    for name in (*_words(claims.get("cognito:groups")), *_words(claims.get("scope"))):
        granted |= _IMPLIED.get(name.rsplit("/", 1)[-1], set())
    return frozenset(granted)


def _words(value: Any) -> list[str]:
    """A claim's values: a list, or a string of space-separated words, with the brackets the
    authorizer writes around a list claim taken off."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [word for word in text.replace(",", " ").split() if word]
