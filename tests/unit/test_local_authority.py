"""The local stack's issuer and authorizer: the rules of API Gateway's JWT authorizer."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from joserfc import jwt

from assets_core.identity import caller_of
from local.authority import (
    AUDIENCE,
    ISSUER,
    LocalAuthority,
    Refused,
    TokenRequest,
    event_authorizer,
)

AUTHORITY = LocalAuthority()


def minted(sub: str = "alice", roles: tuple[str, ...] = ("assets-writer",), **kw: Any) -> str:
    return str(
        AUTHORITY.mint(TokenRequest.parse({"sub": sub, "roles": list(roles), **kw}))["access_token"]
    )


def unsigned(claims: dict[str, Any], alg: str = "none") -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': alg, 'typ': 'JWT'})}.{part(claims)}."


def good_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now + 60, **changes}


def test_a_minted_token_is_verified_and_becomes_the_events_claims() -> None:
    claims = AUTHORITY.verify("Bearer " + minted())
    authorizer = event_authorizer(claims)
    assert authorizer["jwt"]["scopes"] == ["assets-writer"]
    assert all(isinstance(v, str) for v in authorizer["jwt"]["claims"].values())
    caller = caller_of({"requestContext": {"authorizer": authorizer}})
    assert caller.sub == "alice"
    assert caller.can_write


def other_issuers_token() -> str:
    other = LocalAuthority()
    return str(other.mint(TokenRequest(sub="x"))["access_token"])


def signed_with_our_key(claims: dict[str, Any]) -> str:
    return jwt.encode({"alg": "RS256", "kid": AUTHORITY.kid}, claims, AUTHORITY.key)


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-jwt",
        "Bearer " + unsigned(good_claims()),  # alg: none
        "Bearer " + unsigned(good_claims(), alg="HS256"),
        "Bearer " + other_issuers_token(),  # a signature by another key
        "Bearer " + signed_with_our_key(good_claims(iss="https://elsewhere/")),
        "Bearer " + signed_with_our_key(good_claims(aud="someone-else")),
        "Bearer " + signed_with_our_key(good_claims(exp=int(time.time()) - 1)),
        "Bearer " + signed_with_our_key(good_claims(nbf=int(time.time()) + 600)),
        "Bearer " + signed_with_our_key({k: v for k, v in good_claims().items() if k != "exp"}),
    ],
    ids=[
        "empty", "no-token", "basic", "garbage", "alg-none", "hs256", "other-key",
        "issuer", "audience", "expired", "not-yet", "no-expiry",
    ],
)  # fmt: skip
def test_the_authorizers_rules_refuse(authorization: str) -> None:
    with pytest.raises(Refused):
        AUTHORITY.verify(authorization)


def test_an_access_token_may_name_its_audience_as_client_id() -> None:
    claims = good_claims()
    claims["client_id"] = claims.pop("aud")
    assert AUTHORITY.verify("Bearer " + signed_with_our_key(claims))["sub"] == "x"


@pytest.mark.parametrize(
    "body",
    [
        [],
        {},
        {"sub": ""},
        {"sub": "a" * 129},
        {"sub": "alice", "roles": ["root"]},
        {"sub": "alice", "roles": "assets-admin"},
        {"sub": "alice", "expires_in": 0},
        {"sub": "alice", "expires_in": 86_401},
        {"sub": "alice", "expires_in": True},
        {"sub": "alice", "extra": 1},
    ],
)
def test_token_requests_are_checked(body: Any) -> None:
    with pytest.raises(ValueError):
        TokenRequest.parse(body)


def test_a_token_request_names_who_and_which_roles() -> None:
    request = TokenRequest.parse({"sub": "bob", "roles": ["assets-reader"], "expires_in": 60})
    assert request == TokenRequest(sub="bob", roles=("assets-reader",), expires_in=60)
    answer = AUTHORITY.mint(request)
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] == 60
