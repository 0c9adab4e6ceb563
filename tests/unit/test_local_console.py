"""The local gateway's console files: only what ``make console`` built, with its content
policy; nothing outside ``console/dist`` however the path is spelled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.console import console_answer

S3 = "http://127.0.0.1:4566"


@pytest.fixture
def built(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>console</title>")
    (dist / "assets" / "index-abc.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("not the console's")
    return dist


def headers(answer: tuple[int, list[tuple[str, str]], bytes]) -> dict[str, str]:
    return dict(answer[1])


def test_the_page_its_assets_and_its_config(built: Path) -> None:
    assert console_answer("/console", S3, built)[:2] == (308, [("Location", "/console/")])
    status, _, body = page = console_answer("/console/", S3, built)
    assert (status, body) == (200, b"<!doctype html><title>console</title>")
    assert headers(page)["Content-Type"] == "text/html; charset=utf-8"
    policy = headers(page)["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert f"connect-src 'self' {S3};" in policy
    assert headers(page)["Cache-Control"] == "no-cache"
    script = console_answer("/console/assets/index-abc.js", S3, built)
    assert script[0] == 200
    assert "immutable" in headers(script)["Cache-Control"]
    config = console_answer("/console/config.json", S3, built)
    assert json.loads(config[2]) == {"api_url": "", "auth": {"kind": "local"}}


@pytest.mark.parametrize(
    "path",
    [
        "/console/../secret.txt",
        "/console/%2e%2e/secret.txt",
        "/console/..%2Fsecret.txt",
        "/console/assets/../../secret.txt",
        "/console/%00",
        "/console/index.html%00.js",
        "/console//etc/passwd",
        "/console/assets",
        "/console/missing.js",
    ],
)
def test_nothing_else_is_served(built: Path, path: str) -> None:
    status, _, body = console_answer(path, S3, built)
    assert status == 404, path
    assert json.loads(body)["success"] is False


def test_a_console_not_built_says_how_to_build_it(tmp_path: Path) -> None:
    status, _, body = console_answer("/console/", S3, tmp_path / "nothing")
    assert status == 404
    assert "make console" in json.loads(body)["error"]["message"]
