"""An asset's files[] gives each file its own asset_file_id: the one rule, in the Asset model,
that POST, PUT and bundle ingest all apply."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from assets_core.logic.bundles import BundleRejected, validate_document
from assets_core.models.asset import Asset
from tests.support import make_asset


def file_entry(file_id: str) -> dict[str, Any]:
    return {
        "asset_file_id": file_id,
        "asset_file_type": "file",
        "asset_file_mime_type": "text/plain",
        "asset_file_url": f"s3://bucket/{file_id}",
    }


def with_files(*ids: str) -> dict[str, Any]:
    return make_asset(files=[file_entry(i) for i in ids], asset_file_ids=list(dict.fromkeys(ids)))


def test_repeated_asset_file_id_is_refused_and_named() -> None:
    with pytest.raises(ValidationError) as raised:
        Asset.model_validate(with_files("weights", "config", "weights"))
    (error,) = raised.value.errors()
    assert error["loc"] == ("files",)
    assert "'weights'" in error["msg"]
    assert "'config'" not in error["msg"]


def test_every_repeated_id_is_named_once_in_order() -> None:
    with pytest.raises(ValidationError) as raised:
        Asset.model_validate(with_files("b", "a", "b", "a", "b", "c"))
    message = raised.value.errors()[0]["msg"]
    assert "'b', 'a'" in message
    assert message.count("'b'") == 1
    assert "'c'" not in message


def test_asset_json_repeating_an_id_is_a_bundle_rejection() -> None:
    with pytest.raises(BundleRejected, match="'weights'"):
        validate_document(with_files("weights", "weights"))


@given(st.lists(st.text(min_size=1, max_size=5), max_size=8))
def test_ids_are_accepted_exactly_when_they_are_distinct(ids: list[str]) -> None:
    repeated = {i for i in ids if ids.count(i) > 1}
    if not repeated:
        Asset.model_validate(with_files(*ids))
        return
    with pytest.raises(ValidationError) as raised:
        Asset.model_validate(with_files(*ids))
    message = raised.value.errors()[0]["msg"]
    assert all(f"'{i}'" in message for i in repeated)
