"""The credentials vault reads and deletes only secrets under its own prefix, and a failed
delete (of a secret no record names any more) is logged, not raised."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from assets_core.errors import StoreUnavailable
from assets_core.stores.vault import SecretsManagerVault

PREFIX = "assets-registry/container-registry-credentials/"
OURS = f"arn:aws:secretsmanager:us-east-1:1:secret:{PREFIX}abc-123456"
FOREIGN = "arn:aws:secretsmanager:us-east-1:1:secret:prod/database-master-654321"


class Client:
    def __init__(self, error: str | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.error = error

    def _answer(self, name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((name, kwargs))
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "no"}}, name)
        return {"ARN": OURS, "SecretString": '{"a": 1}'}

    def get_secret_value(self, **kwargs: Any) -> dict[str, Any]:
        return self._answer("get", kwargs)

    def delete_secret(self, **kwargs: Any) -> dict[str, Any]:
        return self._answer("delete", kwargs)

    def create_secret(self, **kwargs: Any) -> dict[str, Any]:
        return self._answer("create", kwargs)


def test_a_secret_outside_the_prefix_is_neither_read_nor_deleted() -> None:
    client = Client()
    vault = SecretsManagerVault(client, PREFIX)
    assert vault.read(FOREIGN) is None
    vault.delete(FOREIGN)
    assert client.calls == []
    assert vault.read(OURS) == {"a": 1}


def test_a_new_secret_is_named_under_the_prefix_and_tagged_with_its_asset() -> None:
    client = Client()
    assert SecretsManagerVault(client, PREFIX).put("model:1@x", {"u": "p"}) == OURS
    [(_, kwargs)] = client.calls
    assert kwargs["Name"].startswith(PREFIX)
    assert len(kwargs["Name"]) == len(PREFIX) + 32
    assert kwargs["Tags"] == [{"Key": "asset_id", "Value": "model:1@x"}]
    assert kwargs["SecretString"] == '{"u":"p"}'


def test_a_failed_delete_is_logged_and_a_failed_read_or_write_is_503(
    caplog: pytest.LogCaptureFixture,
) -> None:
    vault = SecretsManagerVault(Client("AccessDeniedException"), PREFIX)
    vault.delete(OURS)
    assert "could not be deleted" in caplog.text
    with pytest.raises(StoreUnavailable):
        vault.read(OURS)
    with pytest.raises(StoreUnavailable):
        vault.put("a", {})
    gone = SecretsManagerVault(Client("ResourceNotFoundException"), PREFIX)
    assert gone.read(OURS) is None
    gone.delete(OURS)


def test_a_secret_never_stored_is_deleted_at_once_others_with_a_recovery_window() -> None:
    client = Client()
    vault = SecretsManagerVault(client, PREFIX)
    vault.delete(OURS, at_once=True)
    vault.delete(OURS)
    assert [kwargs for _, kwargs in client.calls] == [
        {"SecretId": OURS, "ForceDeleteWithoutRecovery": True},
        {"SecretId": OURS, "RecoveryWindowInDays": 7},
    ]
