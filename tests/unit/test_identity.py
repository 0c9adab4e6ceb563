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
