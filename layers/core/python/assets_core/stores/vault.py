"""Secrets Manager as the vault of container registry credentials: one secret per value
written, named ``<CREDENTIALS_SECRET_PREFIX><random>`` and tagged with its asset; a document
keeps only the secret's ARN (``logic.credentials``)."""

from __future__ import annotations

import json
import logging
import uuid
from functools import lru_cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from assets_core.config import get_settings
from assets_core.errors import StoreUnavailable

logger = logging.getLogger(__name__)
# Deleted secrets stay restorable this long (Secrets Manager's range: 7 to 30 days).
RECOVERY_WINDOW_DAYS = 7
# What Secrets Manager answers for a secret that is gone (or scheduled for deletion).
GONE = ("ResourceNotFoundException", "InvalidRequestException")


class SecretsManagerVault:
    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def put(self, asset_id: str, value: dict[str, Any]) -> str:
        """A new secret holding ``value``; its ARN."""
        answer = self._call(
            "create_secret",
            Name=f"{self.prefix}{uuid.uuid4().hex}",
            Description=f"Container registry credentials of the asset '{asset_id}'",
            SecretString=json.dumps(value, separators=(",", ":")),
            Tags=[{"Key": "asset_id", "Value": asset_id}],
        )
        return str(answer["ARN"])

    def read(self, reference: str) -> dict[str, Any] | None:
        """The value a secret of this vault holds; None when it is gone."""
        if not self._ours(reference):
            return None
        try:
            answer = self.client.get_secret_value(SecretId=reference)
        except ClientError as exc:
            if _code(exc) in GONE:
                return None
            raise self._unavailable() from exc
        except BotoCoreError as exc:
            raise self._unavailable() from exc
        value: dict[str, Any] = json.loads(answer["SecretString"])
        return value

    def delete(self, reference: str, *, at_once: bool = False) -> None:
        """Schedule the secret's deletion (restorable for ``RECOVERY_WINDOW_DAYS``), or with
        ``at_once`` delete it for good (one no stored record ever named); a failure is logged,
        not raised: the record that named it has changed already."""
        if not self._ours(reference):
            return
        window: dict[str, Any] = (
            {"ForceDeleteWithoutRecovery": True}
            if at_once
            else {"RecoveryWindowInDays": RECOVERY_WINDOW_DAYS}
        )
        try:
            self.client.delete_secret(SecretId=reference, **window)
        except ClientError as exc:
            if _code(exc) in GONE:
                return
            logger.exception("A replaced credentials secret could not be deleted")
        except BotoCoreError:
            logger.exception("A replaced credentials secret could not be deleted")

    def _ours(self, reference: str) -> bool:
        # ARNs end in ``secret:<name>-<6 random characters>``.
        return f":secret:{self.prefix}" in reference

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = getattr(self.client, method)(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable() from exc
        return answer

    @staticmethod
    def _unavailable() -> StoreUnavailable:
        # The text names the secret's ARN and the endpoint: logged, never answered.
        logger.exception("The credentials vault failed")
        return StoreUnavailable("The credentials vault did not answer; try again.")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@lru_cache(maxsize=1)
def credentials_vault() -> SecretsManagerVault | None:
    """The vault ``CREDENTIALS_SECRET_PREFIX`` names, or None: credentials then stay in the
    documents (a local stack without Secrets Manager)."""
    prefix = get_settings().credentials_secret_prefix
    if not prefix:
        return None
    import botocore.session

    client = botocore.session.get_session().create_client("secretsmanager")
    return SecretsManagerVault(client, prefix)
