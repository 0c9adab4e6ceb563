"""Talking to the running local stack as a caller with a real token from its issuer."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import httpx

from assets_core.identity import ADMIN

E2E_ADMIN = "e2e-admin"


@lru_cache(maxsize=32)
def token_for(stack_url: str, sub: str = E2E_ADMIN, *roles: str) -> str:
    """A token the local stack minted (``POST /local/token``) for ``sub`` with ``roles``
    (an admin's when none are named); good for an hour, longer than a test session."""
    answer = httpx.post(
        f"{stack_url}/local/token",
        json={"sub": sub, "roles": list(roles or (ADMIN,))},
        timeout=10,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def bearer(stack_url: str, sub: str = E2E_ADMIN, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(stack_url, sub, *roles)}"}


def client(stack_url: str, prefix: str = "", **options: Any) -> httpx.Client:
    """An HTTP client for the stack (under ``prefix``) sending an admin's token."""
    headers = {**bearer(stack_url), **options.pop("headers", {})}
    return httpx.Client(base_url=stack_url + prefix, headers=headers, **options)
