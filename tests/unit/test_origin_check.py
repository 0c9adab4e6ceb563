"""Behind the edge, every function refuses a request that went around CloudFront (and so
around its rate limit): X-Origin-Verify must carry the secret CloudFront sends."""

from __future__ import annotations

import pytest

from assets_core.api import access
from assets_core.config import Settings
from assets_core.errors import Forbidden
from assets_core.stores import secrets
from tests.support import event

ARN = "arn:aws:secretsmanager:eu-west-1:1:secret:origin-verify-abc"


@pytest.fixture
def behind_the_edge(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setattr(secrets, "secret_string", lambda arn: {ARN: "s3cret-origin"}[arn])
    return Settings(origin_verify_secret_arn=ARN)


@pytest.mark.parametrize("sent", [None, "", "wrong", "s3cret-origin-and-more", "S3CRET-ORIGIN"])
def test_a_request_without_the_edges_secret_is_refused(
    behind_the_edge: Settings, sent: str | None
) -> None:
    for name in ("apigw_registry_get_asset", "apigw_registry_health"):
        request = event(name, headers={"x-origin-verify": sent} if sent is not None else None)
        with pytest.raises(Forbidden) as refused:
            access.authorize(request, behind_the_edge)
        assert refused.value.code == "EDGE_REQUIRED"
        assert "s3cret" not in refused.value.message


def test_a_request_through_the_edge_goes_on_to_the_token_rules(behind_the_edge: Settings) -> None:
    request = event("apigw_registry_get_asset", headers={"x-origin-verify": "s3cret-origin"})
    assert access.authorize(request, behind_the_edge).sub is not None


def test_without_the_edge_nothing_is_checked() -> None:
    assert access.authorize(event("apigw_registry_get_asset"), Settings()).sub is not None
