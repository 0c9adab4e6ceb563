"""The local stack mints tokens and checks them as API Gateway's JWT authorizer does: a token
it is sent must be valid (401 with WWW-Authenticate otherwise); the public routes check none."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


def token(stack_url: str, **body: object) -> httpx.Response:
    return httpx.post(f"{stack_url}/local/token", json=body, timeout=10)


def test_a_minted_token_is_accepted(stack_url: str) -> None:
    answer = token(stack_url, sub="alice", roles=["assets-reader"], expires_in=120)
    assert answer.status_code == 200
    minted = answer.json()
    assert (minted["token_type"], minted["expires_in"]) == ("Bearer", 120)
    listing = httpx.get(
        f"{stack_url}/registry/assets",
        headers={"Authorization": f"Bearer {minted['access_token']}"},
        timeout=10,
    )
    assert listing.status_code == 200


def test_a_bad_token_is_401_with_the_bearer_challenge(stack_url: str) -> None:
    answer = httpx.get(
        f"{stack_url}/registry/assets", headers={"Authorization": "Bearer forged"}, timeout=10
    )
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert answer.json()["error"]["code"] == "UNAUTHENTICATED"


def test_the_public_routes_check_no_token(stack_url: str) -> None:
    for path in ("/registry/health", "/assetdb/openapi.json", "/components/docs"):
        answer = httpx.get(
            f"{stack_url}{path}", headers={"Authorization": "Bearer forged"}, timeout=10
        )
        assert answer.status_code == 200, path


def test_a_bad_token_request_is_400(stack_url: str) -> None:
    answer = token(stack_url, sub="alice", roles=["root"])
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "INVALID_INPUT"


def test_a_token_request_nested_too_deep_is_400_not_a_dropped_connection(stack_url: str) -> None:
    answer = httpx.post(f"{stack_url}/local/token", content=b"[" * 200_000, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "INVALID_INPUT"
