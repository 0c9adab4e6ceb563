"""The download writes only safe member names, whatever a stored document's paths say."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assets_core.logic.downloads import stored_files
from assets_core.logic.names import unsafe_name
from assets_core.ports import ObjectHead


class Objects:
    def key_of(self, url: str) -> str | None:
        return url.removeprefix("s3://bucket/") if url.startswith("s3://bucket/") else None

    def head(self, key: str) -> ObjectHead | None:
        return None

    def stream_range(self, key: str, start: int, end: int, chunk: int = 0) -> Iterator[bytes]:
        yield b"x"


def entry(path: str) -> dict[str, object]:
    return {
        "asset_file_id": "f",
        "asset_file_url": f"s3://bucket/assets/a/{len(path)}",
        "asset_file_metadata": {"path": path},
    }


@pytest.mark.parametrize(
    "path", ["../../etc/passwd", "/abs", "a/../b", "a\\b", "C:x", "a//b", "./a", "a\x00b"]
)
def test_a_stored_path_that_could_escape_is_never_a_member_name(path: str) -> None:
    files = stored_files({"files": [entry(path), entry("models/ok.bin")]}, Objects())
    assert [f["path"] for f in files] == ["models/ok.bin"]
    assert unsafe_name(path) is not None


def test_safe_names_pass() -> None:
    assert unsafe_name("models/nested/weights.bin") is None
    assert unsafe_name("readme.md") is None
