"""`make smoke`'s script against the running local stack: what a user runs after
`cdk deploy` is known to work before anyone deploys."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from assets_client import smoke
from assets_client.smoke import Smoke
from infra_cdk.constants import ROOT
from tests.e2e.stack import token_for

pytestmark = pytest.mark.e2e


def test_every_step_passes_against_the_local_stack(stack_url: str) -> None:
    out = io.StringIO()
    assert smoke.run(stack_url, out=out, token=token_for(stack_url)) == 0, out.getvalue()
    lines = out.getvalue().splitlines()
    assert lines[-1] == "all steps passed"
    steps = [line for line in lines if line.startswith("ok   ")]
    assert [s.split(" (")[0] for s in steps[:4]] == [
        f"ok   health {prefix}" for prefix in smoke.PREFIXES
    ]
    assert any("the download is byte-identical" in s for s in steps)
    assert not any(line.startswith("FAIL") for line in lines)


def test_the_first_failure_stops_the_run_and_cleans_up(stack_url: str) -> None:
    out = io.StringIO()
    ran: list[str] = []

    def create_then_break(s: Smoke, _: object) -> None:
        ran.append("create")
        with s.step("create a record"):
            asset_id = f"{s.run_id}-left"
            s.client.create(s.document(asset_id, []))
            s.created.append(asset_id)
        with s.step("read a record that is not there"):
            s.client.get(f"{s.run_id}-absent")

    def never(s: Smoke, _: object) -> None:
        ran.append("never")

    token = token_for(stack_url)
    assert smoke.run(stack_url, out=out, token=token, steps=(create_then_break, never)) == 1
    text = out.getvalue()
    assert ran == ["create"]
    assert "FAIL read a record that is not there: " in text
    assert "cleaned up smoke-" in text
    left = [line.split()[-1] for line in text.splitlines() if "cleaned up" in line]
    client = smoke.AssetsClient(stack_url, token=token)
    with pytest.raises(smoke.ApiError) as missing:
        client.get(left[0])
    assert missing.value.status == 404


def test_make_smoke_runs_the_script_with_a_non_zero_exit_on_failure() -> None:
    # Nothing listens on port 9 (discard): the health step fails at once, exit 1, one line.
    answer = subprocess.run(
        [sys.executable, "-m", "assets_client.smoke", "http://127.0.0.1:9"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert answer.returncode == 1
    assert answer.stdout.splitlines()[1].startswith("FAIL health /registry: cannot reach")
