"""Secrets from AWS Secrets Manager, read once per process (warm invocations reuse them)."""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import botocore.session
from botocore.exceptions import BotoCoreError, ClientError

from assets_core.errors import StoreUnavailable

logger = logging.getLogger(__name__)

RDS_CA_BUNDLE = Path(__file__).resolve().parent.parent / "certs" / "rds-ca-bundle.pem"


@lru_cache(maxsize=8)
def secret_string(arn: str) -> str:
    try:
        client = botocore.session.get_session().create_client("secretsmanager")
        value: str = client.get_secret_value(SecretId=arn)["SecretString"]
    except (ClientError, BotoCoreError) as exc:
        # The text names the secret's ARN and the endpoint: logged, never answered.
        logger.exception("Reading a secret failed")
        raise StoreUnavailable("A secret the service needs could not be read; try again.") from exc
    return value


def mongodb_uri_from_secret(value: str) -> tuple[str, dict[str, Any]]:
    """A MongoDB URI and client options from a secret: a plain URI, ``{"uri": ...}``, or the
    credentials Amazon DocumentDB generates (``username``, ``password``, ``host``, ``port``),
    which connect with TLS against the Amazon RDS CA bundle shipped in this package."""
    try:
        data = json.loads(value)
    except json.JSONDecodeError:
        return value.strip(), {}
    if isinstance(data, str):
        return data, {}
    if "uri" in data:
        return str(data["uri"]), {}
    user, password = quote_plus(str(data["username"])), quote_plus(str(data["password"]))
    uri = (
        f"mongodb://{user}:{password}@{data['host']}:{data.get('port', 27017)}/"
        "?replicaSet=rs0&readPreference=secondaryPreferred&retryWrites=false"
    )
    return uri, {"tls": True, "tlsCAFile": str(RDS_CA_BUNDLE)}
