"""``assets pull`` against the running local stack: two versions that differ in one file,
pulled one after the other through the content cache, then again offline."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from assets_client.cli import main
from tests.e2e.stack import token_for
from tests.e2e.test_cli import make_folder

pytestmark = pytest.mark.e2e


@pytest.fixture
def assets(stack_url: str, tmp_path: Path) -> Any:
    runner = CliRunner()
    env = {"ASSETS_TOKEN": token_for(stack_url), "ASSETS_CACHE": str(tmp_path / "cache")}

    def run(*args: str) -> Any:
        result = runner.invoke(main, ["--endpoint", stack_url, *args], env=env)
        return result

    return run


def test_pull_moves_only_what_changed_and_works_offline(assets: Any, tmp_path: Path) -> None:
    # Given v1 and v2 of an asset, v2 with one file changed
    source = make_folder(tmp_path / "src", "pull-1")
    (source / "models" / "other.bin").write_bytes(os.urandom(1024 * 1024))
    assert assets("upload", str(source)).exit_code == 0
    document = json.loads((source / "asset.json").read_text())
    (source / "asset.json").write_text(json.dumps({**document, "asset_version": "v2"}))
    (source / "models" / "other.bin").write_bytes(os.urandom(1024 * 1024))
    assert assets("upload", str(source)).exit_code == 0
    work = tmp_path / "work"

    # When v1 is pulled, then again, then v2 into the same folder
    first = json.loads(assets("--json", "pull", "pull-1@v1", str(work)).stdout)
    again = json.loads(assets("--json", "pull", "pull-1@v1", str(work)).stdout)
    second = json.loads(assets("--json", "pull", "pull-1", str(work)).stdout)

    # Then the first moves every file, the second nothing, the third only the changed one
    assert first["fetched"] == first["files"] == 3
    assert (again["fetched"], again["fetched_bytes"]) == (0, 0)
    assert second["asset_version"] == "v2"
    assert (second["fetched"], second["fetched_bytes"]) == (1, 1024 * 1024)
    assert (work / "models" / "other.bin").read_bytes() == (
        source / "models" / "other.bin"
    ).read_bytes()
    assert (work / "readme.md").read_text() == "# model\n"
    # and the cache serves both versions offline
    offline = assets("--json", "pull", "--offline", "pull-1@v1", str(tmp_path / "offline"))
    assert offline.exit_code == 0, offline.output
    assert json.loads(offline.stdout)["fetched"] == 0
    missing = assets("pull", "--offline", "pull-1@v9", str(tmp_path / "none"))
    assert missing.exit_code == 3
    assert "never pulled here" in missing.output
    # and the cache commands see what it holds
    size = json.loads(assets("--json", "cache", "size").stdout)
    assert size["bytes"] >= 3 * 1024 * 1024 + 2 * 1024 * 1024
    assert len(json.loads(assets("--json", "cache", "ls").stdout)) == 4
    pruned = json.loads(assets("--json", "cache", "prune").stdout)
    assert pruned["removed"] == 4
    assert assets("cache", "prune", "--older-than", "soon").exit_code == 2


def test_push_sends_only_what_the_registry_lacks(assets: Any, tmp_path: Path) -> None:
    # Given v1 uploaded from a folder
    source = make_folder(tmp_path / "src", "push-1")
    assert assets("upload", str(source)).exit_code == 0
    # When the folder becomes v2, one file changed and one added, and is pushed
    document = json.loads((source / "asset.json").read_text())
    (source / "asset.json").write_text(json.dumps({**document, "asset_version": "v2"}))
    (source / "readme.md").write_text("# model, v2\n")
    (source / "eval" / "scores.csv").parent.mkdir()
    (source / "eval" / "scores.csv").write_text("acc\n0.9\n")
    pushed = assets("--json", "push", str(source))
    assert pushed.exit_code == 0, pushed.output
    summary = json.loads(pushed.stdout)
    # Then only the changed and the new file travel; the 3 MiB weights are named by sha256
    assert (summary["asset_version"], summary["status"]) == ("v2", "success")
    assert (summary["files"], summary["sent"], summary["named"]) == (3, 2, 1)
    assert summary["sent_bytes"] == len("# model, v2\n") + len("acc\n0.9\n")
    # and v2 pulls back as the folder is
    work = tmp_path / "work"
    pulled = json.loads(assets("--json", "pull", "push-1@v2", str(work)).stdout)
    assert pulled["files"] == 3
    for name in ("readme.md", "eval/scores.csv", "models/nested/weights.bin"):
        assert (work / name).read_bytes() == (source / name).read_bytes()
    # and pushing the same version again is refused by ingest, naming it
    again = assets("push", str(source))
    assert again.exit_code == 1
    assert "v2" in again.output
