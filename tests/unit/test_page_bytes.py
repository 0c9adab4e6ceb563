"""Pages are bounded by bytes as well as by count, so no list answer passes Lambda's 6 MB."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from assets_core.pagination import decode_cursor, json_size, take_page


def documents(count: int, size: int) -> Iterator[dict[str, Any]]:
    for n in range(count):
        yield {"key": f"k{n:03d}", "blob": "x" * size}


def test_the_byte_bound_stops_a_page_and_the_cursor_continues_there() -> None:
    one = json_size(next(documents(1, 1000)))
    page = take_page(documents(10, 1000), limit=100, key_field="key", max_bytes=3 * one)
    assert [d["key"] for d in page.items] == ["k000", "k001", "k002"]
    assert page.next_cursor is not None
    assert decode_cursor(page.next_cursor) == "k002"


def test_the_count_bound_still_applies_and_the_last_page_has_no_cursor() -> None:
    page = take_page(documents(5, 10), limit=2, key_field="key")
    assert [d["key"] for d in page.items] == ["k000", "k001"]
    assert page.next_cursor is not None
    last = take_page(documents(2, 10), limit=2, key_field="key")
    assert last.next_cursor is None


def test_one_document_larger_than_the_bound_still_makes_a_page() -> None:
    page = take_page(documents(3, 5000), limit=100, key_field="key", max_bytes=100)
    assert [d["key"] for d in page.items] == ["k000"]
    assert page.next_cursor is not None


def test_documents_are_read_no_further_than_the_page_needs() -> None:
    read: list[str] = []

    def tracked() -> Iterator[dict[str, Any]]:
        for document in documents(1000, 100):
            read.append(document["key"])
            yield document

    take_page(
        tracked(), limit=1000, key_field="key", max_bytes=json_size(next(documents(1, 100))) * 4
    )
    assert len(read) == 5  # four taken, one looked at
