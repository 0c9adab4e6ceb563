"""An asset's container registry credentials: write-only in every read path, kept in a vault
(Secrets Manager in AWS) with only the secret's ARN in the document, and read back only by the
asset's owner or an admin through a route of their own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from assets_core.collections import REGISTRY_FIELD, VERSION_KEY
from assets_core.commit import on_abort
from assets_core.errors import AppError, Forbidden, InvalidInput, NotFound, StoreUnavailable
from assets_core.identity import current_caller
from assets_core.ports import DocumentStore, Vault
from assets_core.storable import check_storable

# The registry keeps a container registry's credentials to hand them to the deployment that
# pulls the image, and shows a reader only that they are set.
CREDENTIALS = "asset_container_registry_creds_config"
# Server-held: the ARN of the vault's secret. No model has the field, so no client sends it.
SECRET_REF = "asset_container_registry_creds_secret"  # noqa: S105 - a field name
REDACTED = {"redacted": True}
# Secrets Manager's limit on a secret's value.
MAX_BYTES = 65_536


# What a stored asset holds for the server alone: never in a read.
HIDDEN = (SECRET_REF, REGISTRY_FIELD, VERSION_KEY)


def shown(document: dict[str, Any]) -> dict[str, Any]:
    """A stored asset as every read answers it: credentials, when set, as ``REDACTED``, and
    never the vault's reference or the server's bookkeeping (versions index, version key)."""
    if document.get(CREDENTIALS) is None and not any(name in document for name in HIDDEN):
        return document
    answer = {name: value for name, value in document.items() if name not in HIDDEN}
    if answer.get(CREDENTIALS) is not None:
        answer[CREDENTIALS] = dict(REDACTED)
    return answer


def seal(document: dict[str, Any], vault: Vault | None) -> str | None:
    """Before a document with credentials is written: with a vault, move them into a new
    secret (the document keeps ``REDACTED`` and the secret's ARN). The ARN written, which the
    caller discards (``discarded_unless_kept``) if the document is not stored."""
    value = document.get(CREDENTIALS)
    document.pop(SECRET_REF, None)
    if value == REDACTED:  # what a read showed, sent back: there are none to keep
        document[CREDENTIALS] = value = None
    if vault is None or value is None:
        return None
    # The rules of a stored document, whichever store keeps them.
    check_storable({CREDENTIALS: value})
    if len(json.dumps(value, separators=(",", ":")).encode()) > MAX_BYTES:
        raise InvalidInput(
            f"{CREDENTIALS} may hold at most {MAX_BYTES} bytes of JSON.",
            code="CREDENTIALS_TOO_LARGE",
        )
    reference = vault.put(str(document["asset_id"]), value)
    document[CREDENTIALS] = dict(REDACTED)
    document[SECRET_REF] = reference
    return reference


@contextmanager
def discarded_unless_kept(reference: str | None, vault: Vault | None) -> Iterator[None]:
    """Delete the secret ``seal`` wrote when the write that would name it is refused (an
    ``AppError`` of the request's own: nothing was written), at once and for good: it never
    held credentials anyone stored. After any other failure the write may have been applied
    although the driver said otherwise, so the secret stays: an orphan rather than a loss."""
    if reference is not None and vault is not None:
        # A transaction attempt that aborts wrote nothing: its secret goes (each attempt
        # writes its own).
        on_abort(lambda: vault.delete(reference, at_once=True))
    try:
        yield
    except AppError as exc:
        if reference is not None and vault is not None and exc.status < 500:
            vault.delete(reference, at_once=True)
        raise


def carry(document: dict[str, Any], current: dict[str, Any], sealed: dict[str, Any] | None) -> None:
    """An updated ``document``'s credentials: as ``sealed`` for the update (in the vault, or
    without one as sent) when it changes them, else the ``current`` document's secret."""
    if sealed is not None:
        document[CREDENTIALS] = sealed[CREDENTIALS]
        if SECRET_REF in sealed:
            document[SECRET_REF] = sealed[SECRET_REF]
    elif SECRET_REF in current:
        document[SECRET_REF] = current[SECRET_REF]


def forget(document: dict[str, Any] | None, vault: Vault | None) -> None:
    """After a document that named a secret was replaced or deleted: delete that secret."""
    reference = (document or {}).get(SECRET_REF)
    if isinstance(reference, str) and vault is not None:
        vault.delete(reference)


def read(asset_id: str, *, store: DocumentStore, vault: Vault | None) -> dict[str, Any]:
    """The credentials of an asset the caller owns (or any, for an admin): 404 for an asset
    the caller cannot see, 403 for one they may see but not change."""
    document = store.get(asset_id)
    if document is None:
        raise NotFound(f"No asset has asset_id '{asset_id}'.", code="ASSET_NOT_FOUND")
    if not current_caller().may_change(document.get("created_by")):
        raise Forbidden(
            "Only the asset's owner or an admin may read its container registry credentials."
        )
    value = document.get(CREDENTIALS)
    reference = document.get(SECRET_REF)
    if isinstance(reference, str):
        if vault is None:
            raise NotFound(
                "The credentials are in a vault this deployment is not configured with.",
                code="CREDENTIALS_NOT_FOUND",
            )
        value = vault.read(reference)
        if value is None:  # named but gone: never answered as "none"
            raise StoreUnavailable(
                "The asset's credentials could not be read from the vault; try again, or set "
                "them anew."
            )
    return {"asset_id": asset_id, CREDENTIALS: value}
