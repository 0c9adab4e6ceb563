"""The local stack's token issuer and its stand-in for API Gateway's JWT authorizer.

At start the stack generates an RSA key (API Gateway's JWT authorizer accepts only
RSA-signed tokens); ``POST /local/token`` mints tokens signed with it, and the gateway checks
every token it is sent with the authorizer's rules: the algorithm and the key id, the issuer,
the audience (``aud`` or ``client_id``), the expiry and not-before times. The claims go into
the event as API Gateway puts them: ``requestContext.authorizer.jwt.claims``, every value a
string, a list as ``"[a b]"``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from assets_core.identity import ROLES

ISSUER = "https://local.assets-registry/issuer"
AUDIENCE = "assets-registry-local"
ALGORITHM = "RS256"
MAX_EXPIRES_IN = 86_400
MAX_SUB_LENGTH = 128
LEEWAY_SECONDS = 0  # API Gateway allows no clock skew either


class Refused(Exception):
    """A token the authorizer does not accept; the message says why (for the log)."""


Role = Literal["assets-reader", "assets-writer", "assets-admin"]
assert set(get_args(Role)) == set(ROLES)


class TokenRequest(BaseModel):
    """The body of ``POST /local/token``, checked by pydantic: a printable ``sub``, roles of
    the contract's three, an expiry of 1 s to a day; nothing else."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    sub: Annotated[str, StringConstraints(min_length=1, max_length=MAX_SUB_LENGTH)]
    roles: tuple[Role, ...] = ()
    expires_in: Annotated[int, Field(ge=1, le=MAX_EXPIRES_IN)] = 3600

    @field_validator("sub")
    @classmethod
    def _printable(cls, sub: str) -> str:
        if not sub.isprintable():
            raise ValueError("must be printable characters")
        return sub

    @field_validator("roles", mode="before")
    @classmethod
    def _a_list(cls, roles: Any) -> Any:
        # JSON has lists, not tuples; strict mode takes a tuple only. Repeats count once.
        return tuple(dict.fromkeys(roles)) if isinstance(roles, list) else roles

    @classmethod
    def parse(cls, body: Any) -> TokenRequest:
        """The request ``body`` names; ``ValueError`` saying what is wrong with it."""
        if not isinstance(body, Mapping):
            raise ValueError('send a JSON object: {"sub": "alice", "roles": [...]}')
        try:
            return cls.model_validate(body)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"]) or "body"
            raise ValueError(f"'{where}': {error['msg']}") from None


class LocalAuthority:
    """One signing key for the life of the local stack."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8)})

    @property
    def kid(self) -> str:
        return str(self.key.kid)

    def mint(self, request: TokenRequest, *, now: float | None = None) -> dict[str, Any]:
        """``{"access_token", "token_type", "expires_in"}``: a token for ``request.sub`` with
        its roles in ``scope``."""
        issued = int(now if now is not None else time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": request.sub,
            "iat": issued,
            "nbf": issued,
            "exp": issued + request.expires_in,
            "scope": " ".join(request.roles),
            "jti": secrets.token_hex(8),
        }
        token = jwt.encode({"alg": ALGORITHM, "kid": self.kid, "typ": "JWT"}, claims, self.key)
        return {"access_token": token, "token_type": "Bearer", "expires_in": request.expires_in}

    def verify(self, authorization: str, *, now: float | None = None) -> dict[str, Any]:
        """The claims of the ``Authorization`` header's token, checked as the JWT authorizer
        checks them; ``Refused`` otherwise."""
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Refused("the Authorization header is not 'Bearer <token>'")
        try:
            decoded = jwt.decode(token.strip(), self.key, algorithms=[ALGORITHM])
        except (JoseError, ValueError, TypeError) as exc:
            raise Refused(f"the token cannot be verified ({type(exc).__name__})") from None
        if decoded.header.get("kid") != self.kid:
            raise Refused("the token names a key this issuer does not have")
        claims = dict(decoded.claims)
        registry = jwt.JWTClaimsRegistry(
            now=int(now) if now is not None else None,
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": ISSUER},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise Refused(f"the token's claims are refused ({exc.error})") from None
        audiences = claims.get("aud", claims.get("client_id"))
        if AUDIENCE not in (audiences if isinstance(audiences, list) else [audiences]):
            raise Refused("the token is meant for another audience")
        return claims


def event_authorizer(claims: Mapping[str, Any]) -> dict[str, Any]:
    """``requestContext.authorizer`` as API Gateway's JWT authorizer writes it."""
    as_strings = {
        name: "[" + " ".join(map(str, value)) + "]" if isinstance(value, list) else str(value)
        for name, value in claims.items()
    }
    scope = str(claims.get("scope") or "")
    return {"jwt": {"claims": as_strings, "scopes": scope.split() or None}}
