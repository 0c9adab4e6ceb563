"""The local stack mints tokens and checks them as API Gateway's JWT authorizer does: a token
it is sent must be valid (401 with WWW-Authenticate otherwise), and every route but the public
ones needs one; the functions then apply roles, ownership and visibility to the callers the
tokens name."""

from __future__ import annotations

import uuid

import httpx
import pytest

from assets_core.identity import READER, WRITER
from tests.e2e.stack import E2E_ADMIN, bearer, token_for
from tests.support import make_asset

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


def test_no_token_is_401_on_every_service(stack_url: str) -> None:
    for method, path in (
        ("GET", "/registry/assets"),
        ("POST", "/registry/assets"),
        ("POST", "/registry/graphql"),
        ("POST", "/assetdb/assets"),
        ("POST", "/dbregistry/asset_registries"),
        ("POST", "/components/api/query"),
        ("POST", "/registry/zip/upload"),
    ):
        answer = httpx.request(method, f"{stack_url}{path}", json={}, timeout=10)
        assert answer.status_code == 401, (method, path, answer.text)
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_owners_admins_and_others_with_real_tokens(stack_url: str) -> None:
    """Alice's private asset: hers and an admin's to see; Bob (a writer) gets 404 for it,
    403 for her public one; a reader may not write; the server stamps who did what."""
    alice, bob, rita = (
        {"Authorization": f"Bearer {token_for(stack_url, sub, *roles)}"}
        for sub, roles in (
            ("alice-e2e", (WRITER,)),
            ("bob-e2e", (WRITER,)),
            ("rita-e2e", (READER,)),
        )
    )
    admin = bearer(stack_url)
    private, public = (f"{kind}-{uuid.uuid4().hex[:8]}" for kind in ("private", "public"))
    with httpx.Client(base_url=f"{stack_url}/registry", timeout=10) as http:
        made = http.post("/assets", json=make_asset(private), headers=alice)
        assert made.status_code == 201, made.text
        assert (made.json()["created_by"], made.json()["visibility"]) == ("alice-e2e", "private")
        shown = make_asset(public, visibility="public")
        assert http.post("/assets", json=shown, headers=alice).status_code == 201
        assert http.post("/assets", json=make_asset("x"), headers=rita).status_code == 403
        # Bob cannot see the private one anywhere, and may not change the public one.
        assert http.get(f"/assets/{private}", headers=bob).status_code == 404
        search = http.post("/query/search", json={"asset_id": private}, headers=bob)
        assert search.json()["items"] == []
        query = {"query": f'{{ getAssetById(assetId: "{private}") {{ assetId }} }}'}
        assert http.post("/graphql", json=query, headers=bob).json()["data"] == {
            "getAssetById": None
        }
        assert http.get(f"/zip/download/{private}", headers=bob).status_code == 404
        assert http.get(f"/assets/{public}", headers=rita).status_code == 200
        change = {"asset_brief_description": "bob was here"}
        assert http.put(f"/assets/{public}", json=change, headers=bob).status_code == 403
        assert http.delete(f"/assets/{public}", headers=bob).status_code == 403
        # Alice and an admin can.
        assert http.get(f"/assets/{private}", headers=alice).status_code == 200
        changed = http.put(f"/assets/{private}", json=change, headers=admin)
        assert changed.status_code == 200
        assert (changed.json()["created_by"], changed.json()["updated_by"]) == (
            "alice-e2e",
            E2E_ADMIN,
        )
        for asset_id in (private, public):
            assert http.delete(f"/assets/{asset_id}", headers=alice).status_code == 200
