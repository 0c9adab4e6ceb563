"""The linear scans that bound nesting before a recursive parser runs, the download token
check, the local gateway's Content-Length, and store errors that keep addresses out of
answers."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pymongo.errors import AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError

from assets_core.api.http import MAX_JSON_DEPTH, check_json_text, json_too_deep, loads_json
from assets_core.errors import Forbidden, InvalidInput, StoreUnavailable
from assets_core.graphql.common import query_too_deep
from assets_core.signing import check_link, signed_link
from assets_core.stores.documents import MongoDocumentStore
from local.gateway import MAX_REQUEST_BYTES, _content_length

tricky_text = st.text(alphabet='[]{}"\\ab\n', max_size=8)
json_values = st.recursive(
    st.none() | st.integers() | tricky_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_text, inner, max_size=3),
    max_leaves=20,
)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


@given(value=json_values, limit=st.integers(0, 6))
def test_json_depth_matches_the_parsed_documents(value: Any, limit: int) -> None:
    assert json_too_deep(json.dumps(value).encode(), limit) == (depth(value) > limit)


def test_json_limit_is_inclusive() -> None:
    at_limit = ("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH).encode()
    assert not json_too_deep(at_limit)
    assert json_too_deep(b"[" + at_limit + b"]")
    # Many shallow brackets are not depth.
    assert not json_too_deep(b"[" + b"{}," * 100_000 + b"{}]")


@pytest.mark.parametrize(
    "text",
    [
        b'"' + b'\\"' * 200_000,  # open string of escaped quotes: to the end, not backtracking
        b'["' + b"[" * 200_000,  # brackets after an open string are its content
        b'"\\',  # a trailing backslash
    ],
)
def test_open_strings_end_the_scan(text: bytes) -> None:
    assert not json_too_deep(text)


def test_json_text_must_be_utf8() -> None:
    with pytest.raises(InvalidInput, match="not UTF-8"):
        check_json_text(b"\xff{}")
    with pytest.raises(InvalidInput, match="not UTF-8"):
        check_json_text('{"a": "\ud800"}')
    with pytest.raises(InvalidInput, match="'variables' is not valid JSON"):
        loads_json("{", "'variables'")
    with pytest.raises(InvalidInput, match=f"{MAX_JSON_DEPTH} levels"):
        loads_json("[" * 100_000, "'variables'")
    assert loads_json(b'{"a": ["\\"[[["]}') == {"a": ['"[[[']}


@pytest.mark.parametrize(
    ("query", "deep"),
    [
        ("{ a { b } }", False),
        ("{ a" + " { a" * 63 + " }" * 64, False),
        ("{ a" + " { a" * 64 + " }" * 65, True),
        ("{ a(f: " + "[" * 70 + "]" * 70 + ") }", True),
        ("{ a(f: " + "{x: " * 70 + "1" + "}" * 70 + ") }", True),
        ("{ a" + "(" * 70, True),
        ('{ a(f: "' + "[" * 70 + '") }', False),
        ('{ a(f: "\\"' + "[" * 70 + '") }', False),
        ('{ a(f: """' + "[" * 70 + '""") }', False),
        ('{ a(f: """\\"""' + "[" * 70 + '""") }', False),
        ('{ a(f: """' + '"[' * 70 + '""") }', False),
        ("# " + "[" * 70 + "\n{ a }", False),
        ('{ a(f: "open\n' + "[" * 70 + ") }", True),  # a string ends at its line
        ('{ a(f: """open ' + "[" * 70, False),  # an open block string runs to the end
    ],
)
def test_query_nesting_outside_strings_and_comments(query: str, deep: bool) -> None:
    assert query_too_deep(query) == deep


def test_open_block_strings_do_not_backtrack() -> None:
    assert not query_too_deep('"""' + '\\"""' * 100_000)
    assert not query_too_deep('"' + '\\"' * 200_000)


KEY = "k" * 64


@pytest.mark.parametrize(
    "token",
    ["é" * 64, "0" * 63 + "é", "A" * 64, "0" * 65, "\x00", " " + "0" * 63, "\uff10" * 64],
)
def test_a_malformed_token_is_forbidden(token: str) -> None:
    with pytest.raises(Forbidden) as refused:
        check_link({"asset_id": "a", "expires": "4000000000", "token": token}, key=KEY)
    assert refused.value.code == "DOWNLOAD_TOKEN_INVALID"


def test_a_good_link_still_checks_out() -> None:
    from urllib.parse import parse_qsl, urlsplit

    link = signed_link(
        "https://dl", "a-é", manifest="downloads/é.json", key=KEY, ttl_seconds=60, now=1000
    )
    params = dict(parse_qsl(urlsplit(link).query))
    assert check_link(params, key=KEY, now=1000) == ("a-é", "downloads/é.json")
    with pytest.raises(Forbidden):
        check_link({**params, "asset_id": "\ud800"}, key=KEY, now=1000)


@pytest.mark.parametrize(
    ("values", "length"),
    [
        ([], 0),
        (["0"], 0),
        (["17"], 17),
        ([" 17 "], 17),
        (["17", "17"], 17),
        (["9" * 30], MAX_REQUEST_BYTES + 1),
        (["-1"], None),
        (["+1"], None),
        (["1e3"], None),
        (["0x10"], None),
        (["\u0661\u0667"], None),
        (["1, 2"], None),
        (["1", "2"], None),
        ([""], None),
    ],
)
def test_content_length_is_one_plain_count(values: list[str], length: int | None) -> None:
    assert _content_length(values) == length


class FailingCollection:
    """A collection whose every call fails as a driver that lost its server does."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise self.error

        return fail


@pytest.mark.parametrize(
    "error",
    [
        ServerSelectionTimeoutError("10.1.2.3:27017: [Errno 111] Connection refused"),
        AutoReconnect("10.1.2.3:27017: connection closed"),
        NetworkTimeout("10.1.2.3:27017: timed out"),
    ],
    ids=["selection", "reconnect", "timeout"],
)
def test_metadata_store_failures_name_no_address(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    store = MongoDocumentStore(
        FailingCollection(error),  # type: ignore[arg-type]
        key_field="asset_id",
        max_time_ms=1000,
        emulated=False,
    )
    with caplog.at_level(logging.WARNING), pytest.raises(StoreUnavailable) as failed:
        store.get("asset-001")
    assert failed.value.message == "The metadata store did not answer; try again."
    assert "10.1.2.3" in caplog.text


# Bytes json.loads would decode as UTF-16 (odd-sized: a UnicodeDecodeError, not a JSON one).
@pytest.mark.parametrize("body", [b"1\x00abc", b"[\x00 \xc3\xa9"])
def test_utf8_with_nul_bytes_is_read_as_utf8_not_guessed_as_utf16(body: bytes) -> None:
    with pytest.raises(InvalidInput):
        loads_json(body)
