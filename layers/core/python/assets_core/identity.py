"""Who is calling: the caller's id and roles, from the claims a JWT authorizer verified.

In AWS the HTTP API's JWT authorizer checks the token (signature, issuer, audience, expiry)
and puts its claims in ``requestContext.authorizer.jwt.claims``; locally the gateway does the
same job with the same rules. Handlers read the claims from there and never parse a token.
The authorizer passes every claim as a string: a list claim such as ``cognito:groups``
arrives as ``"[assets-admin assets-writer]"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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

    def may_change(self, owner: str | None) -> bool:
        """Whether this caller may update or delete a record ``owner`` created: its owner, or
        an admin (a record without an owner is an admin's alone)."""
        return self.is_admin or (self.can_write and owner is not None and owner == self.sub)


ANONYMOUS = Caller(sub=None, roles=frozenset())


def claims_of(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The verified claims an API Gateway HTTP API event carries, if a token was checked."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    jwt = authorizer.get("jwt") if isinstance(authorizer, Mapping) else None
    claims = jwt.get("claims") if isinstance(jwt, Mapping) else None
    return claims if isinstance(claims, Mapping) else None


def caller_of(event: Mapping[str, Any]) -> Caller:
    """The request's caller: anonymous without verified claims."""
    claims = claims_of(event)
    if not claims or not str(claims.get("sub") or ""):
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
