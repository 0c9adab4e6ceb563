"""The README's "Python SDK" examples run as written (its ```python blocks, in order, in one
namespace, as cells of a notebook), against the running local stack."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from infra_cdk.constants import ROOT
from tests.e2e.stack import client

pytestmark = pytest.mark.e2e
SECTION = re.compile(r"^## Python SDK\n(?P<body>.*?)^## ", re.S | re.M)
BLOCK = re.compile(r"```python\n(?P<code>.*?)```", re.S)


def cells() -> list[str]:
    found = SECTION.search((ROOT / "README.md").read_text())
    assert found, "the README has a Python SDK section"
    return [m.group("code") for m in BLOCK.finditer(found.group("body"))]


def test_the_sdk_examples_run_as_written(
    stack_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASSETS_CACHE", str(tmp_path / "cache"))
    namespace: dict[str, object] = {}
    blocks = cells()
    assert len(blocks) >= 3
    try:
        for number, code in enumerate(blocks, start=1):
            code = code.replace("http://127.0.0.1:3000", stack_url)
            exec(compile(code, f"README Python SDK example {number}", "exec"), namespace)
    finally:
        with client(stack_url, timeout=10) as http:
            http.delete("/registry/assets/sdk-model", params={"purge": "true"})
    assert os.path.isfile(tmp_path / "sdk-model.zip")
