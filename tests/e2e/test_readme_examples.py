"""Every example in the README works as written: its ```bash blocks run in order, in one
shell, against the running local stack (the README's http://127.0.0.1:3000 pointed at it),
with every curl failing on an HTTP error and every command on a non-zero exit.

A block preceded by ``<!-- not run: <reason> -->`` is skipped, with its reason; the test
names which were, so none is skipped silently."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path

import pytest

from infra_cdk.constants import ROOT
from tests.e2e.stack import client

pytestmark = pytest.mark.e2e
README = ROOT / "README.md"
BLOCK = re.compile(r"(?:<!-- not run: (?P<reason>[^>]*) -->\n+)?```bash\n(?P<code>.*?)```", re.S)
# curl fails on an HTTP error (and shows the body); quiet progress, errors shown.
PREAMBLE = """set -euo pipefail
curl() { command curl --fail-with-body -sS "$@"; echo; }
"""
# Files the examples name and the reader brings: a picture (a 1x1 PNG), spec 002's
# component example.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
FIXTURES = {
    "file.png": PNG,
    "component.json": (ROOT / "tests" / "component_example.json").read_bytes(),
}


def blocks() -> tuple[list[str], list[str]]:
    run, skipped = [], []
    for match in BLOCK.finditer(README.read_text()):
        if match.group("reason"):
            skipped.append(match.group("reason").strip())
        else:
            run.append(match.group("code"))
    return run, skipped


def test_the_skipped_blocks_are_only_those_that_need_aws_or_are_the_commands_themselves() -> None:
    run, skipped = blocks()
    assert len(run) >= 8
    assert all(reason.startswith(("needs AWS", "make ")) for reason in skipped), skipped


def test_every_readme_example_runs_against_the_local_stack(stack_url: str, tmp_path: Path) -> None:
    for name, content in FIXTURES.items():
        (tmp_path / name).write_bytes(content)
    run, _ = blocks()
    host = stack_url.removeprefix("http://")
    script = PREAMBLE + "\n".join(
        f'echo "=== README example {n + 1}"\n{code}' for n, code in enumerate(run)
    )
    script = script.replace("127.0.0.1:3000", host)
    env_path = f"{ROOT / '.venv' / 'bin'}:/usr/bin:/bin"
    answer = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env={"PATH": env_path, "HOME": str(tmp_path), "ASSETS_ENDPOINT": stack_url},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        assert answer.returncode == 0, (answer.stdout[-6000:], answer.stderr[-3000:])
    finally:
        clean_up(stack_url)


def clean_up(stack_url: str) -> None:
    """Remove what the examples leave registered (fixed names, as a reader types them)."""
    with client(stack_url, timeout=10) as http:
        for asset_id in (
            "asset-001",
            "asset-zip-1",
            "asset-zip-2",
            "asset-zip-3",
            "asset-zip-4",
            "my-model",
            "model-x",
            "model-l",
            "dataset-x",
            "base-x",
        ):
            http.delete(f"/registry/assets/{asset_id}", params={"purge": "true"})
        for uri in ("W:1-rc", "SampleAsset:1.0-initial", "Sample Asset:1.0-initial"):
            http.delete(f"/assetdb/asset/{uri}")
        http.post(
            "/components/api/unregisterComponent",
            json={"uri": "model.object-detector:2.0.0-stable"},
        )
