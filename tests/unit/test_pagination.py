from __future__ import annotations

import pytest

from assets_core.errors import InvalidInput
from assets_core.pagination import DEFAULT_LIMIT, PageRequest, decode_cursor, encode_cursor


def test_defaults_and_bounds() -> None:
    assert PageRequest.parse(None, None) == PageRequest(DEFAULT_LIMIT, None)
    assert PageRequest.parse("1000", None).limit == 1000
    for bad in ("0", "1001", "-1", "ten", "1.5"):
        with pytest.raises(InvalidInput):
            PageRequest.parse(bad, None)


def test_cursor_round_trip_and_forgery() -> None:
    assert decode_cursor(encode_cursor("asset-9/ü")) == "asset-9/ü"
    for forged in ("!!!", "e30", "bm90IGpzb24", encode_cursor("x")[:-3]):
        with pytest.raises(InvalidInput):
            decode_cursor(forged)
