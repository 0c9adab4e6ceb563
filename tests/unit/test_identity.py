"""The caller, from the claims a JWT authorizer puts in an HTTP API event."""

from __future__ import annotations

from typing import Any

import pytest

from assets_core.identity import ADMIN, ANONYMOUS, READER, WRITER, caller_of, roles_of


def with_claims(claims: dict[str, Any] | None) -> dict[str, Any]:
    context: dict[str, Any] = {"requestId": "r"}
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return {"requestContext": context}


@pytest.mark.parametrize(
    ("claims", "roles"),
    [
        ({"cognito:groups": "[assets-writer]"}, {READER, WRITER}),
        ({"cognito:groups": "[assets-admin other]"}, {READER, WRITER, ADMIN}),
        ({"cognito:groups": ["assets-reader"]}, {READER}),
        ({"scope": "openid assets/assets-writer"}, {READER, WRITER}),
        ({"scope": "assets-reader"}, {READER}),
        ({"scope": "profile email"}, set()),
        ({}, set()),
    ],
)
def test_roles_come_from_groups_and_scopes_with_what_they_imply(
    claims: dict[str, Any], roles: set[str]
) -> None:
    assert roles_of(claims) == roles


def test_a_caller_is_the_tokens_subject() -> None:
    caller = caller_of(with_claims({"sub": "alice", "cognito:groups": "[assets-writer]"}))
    assert caller.sub == "alice"
    assert caller.can_write
    assert not caller.is_admin


@pytest.mark.parametrize("claims", [None, {}, {"sub": ""}, {"scope": "assets-admin"}])
def test_without_a_subject_the_caller_is_anonymous(claims: dict[str, Any] | None) -> None:
    assert caller_of(with_claims(claims)) == ANONYMOUS
    assert not ANONYMOUS.can_read


def test_owners_and_admins_may_change_a_record_others_may_not() -> None:
    alice = caller_of(with_claims({"sub": "alice", "scope": "assets-writer"}))
    bob_reader = caller_of(with_claims({"sub": "bob", "scope": "assets-reader"}))
    admin = caller_of(with_claims({"sub": "root", "scope": "assets-admin"}))
    assert alice.may_change("alice")
    assert not alice.may_change("bob")
    assert not alice.may_change(None)
    assert not bob_reader.may_change("bob")  # an owner who lost the writer role
    assert admin.may_change("bob")
    assert admin.may_change(None)


# -- visibility and the route table ----------------------------------------------------------


def test_visibility_conditions_by_caller() -> None:
    from assets_core.identity import SYSTEM, Caller, sees, visible_to

    alice = Caller(sub="alice", roles=frozenset({READER}))
    assert visible_to(SYSTEM) is None  # an admin sees everything
    assert visible_to(ANONYMOUS) == {"visibility": "public"}
    assert visible_to(alice) == {"$or": [{"visibility": "public"}, {"created_by": "alice"}]}
    assert sees(alice, {"created_by": "alice", "visibility": "private"})
    assert not sees(alice, {"created_by": "bob", "visibility": "private"})
    assert not sees(ANONYMOUS, {"created_by": None})  # no owner never matches no caller
    assert sees(ANONYMOUS, {"visibility": "public"})


def test_every_route_says_who_may_call_it() -> None:
    from assets_core.routes import PUBLIC, READ, WRITE, all_routes

    accesses = {route.route_key: route.access for _, route in all_routes()}
    assert set(accesses.values()) == {PUBLIC, READ, WRITE}
    # The POST routes that only read, by name: a new POST route writes unless listed.
    reads = sorted(key for key, access in accesses.items() if access == READ and key[:4] == "POST")
    assert reads == [
        "POST /assetdb/assets",
        "POST /components/api/getByType",
        "POST /components/api/getByURI",
        "POST /components/api/query",
        "POST /components/gql",
        "POST /dbregistry/asset_registries",
        "POST /registry/content/missing",
        "POST /registry/graphql",
        "POST /registry/query/facets",
        "POST /registry/query/search",
    ]
    assert all(access != WRITE for key, access in accesses.items() if key.startswith("GET "))


def test_authorize_follows_the_route_table() -> None:
    from assets_core.api.access import authorize
    from assets_core.config import Settings
    from assets_core.errors import Forbidden, Unauthenticated

    def request(route_key: str, claims: dict[str, str] | None) -> dict[str, object]:
        method, path = route_key.split(" ", 1)
        context: dict[str, object] = {"http": {"method": method}}
        if claims is not None:
            context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
        return {"routeKey": route_key, "rawPath": path, "requestContext": context}

    settings = Settings()
    reader = {"sub": "r", "scope": "assets-reader"}
    assert authorize(request("GET /registry/health", None), settings).anonymous
    with pytest.raises(Unauthenticated):
        authorize(request("GET /registry/assets", None), settings)
    assert authorize(request("GET /registry/assets", reader), settings).sub == "r"
    with pytest.raises(Forbidden):
        authorize(request("POST /registry/assets", reader), settings)
    open_reads = Settings(anonymous_reads=True)
    assert authorize(request("GET /registry/assets", None), open_reads).anonymous
    with pytest.raises(Unauthenticated):
        authorize(request("DELETE /registry/assets/{asset_id}", None), open_reads)
    assert authorize(
        request("DELETE /registry/assets/{asset_id}", None), Settings(open_access=True)
    ).is_admin


def test_a_token_may_not_name_the_servers_own_subject() -> None:
    from assets_core.identity import SYSTEM

    assert SYSTEM.sub is not None
    event = {
        "requestContext": {
            "authorizer": {
                "jwt": {"claims": {"sub": SYSTEM.sub, "cognito:groups": "[assets-admin]"}}
            }
        }
    }
    assert caller_of(event) == ANONYMOUS
