"""One synthesis of the whole stack serves every infrastructure test: the pinned CDK CLI's
``cdk synth``, run as ``make synth`` and ``make deploy`` run it (cdk.json's app, no AWS
credentials, ``--no-notices``), so the tests assert on the template a deployment would use."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra_cdk.constants import ROOT, STACK_NAME

CDK_CLI = ROOT / "node_modules" / ".bin" / "cdk"


@dataclass
class Synthesized:
    directory: Path
    template: dict[str, Any]
    metadata: dict[str, Any]
    cli: subprocess.CompletedProcess[str]

    @property
    def assertions(self) -> Template:
        return Template.from_json(self.template)

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == kind}


def offline_environment(home: Path) -> dict[str, str]:
    """The caller's environment without any AWS identity, and the CLI kept offline: no
    version check, no telemetry, no instance-metadata lookup, its cache in ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        CDK_HOME=str(home),
        CDK_DISABLE_VERSION_CHECK="1",
        CDK_DISABLE_CLI_TELEMETRY="true",
        AWS_EC2_METADATA_DISABLED="true",
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
    )
    return env


def cdk_synth(outdir: Path, home: Path) -> subprocess.CompletedProcess[str]:
    if not CDK_CLI.exists():
        pytest.fail(f"{CDK_CLI} is missing: run npm ci (make test does)")
    command = [str(CDK_CLI), "synth", "--no-notices", "--quiet", "--output", str(outdir)]
    return subprocess.run(
        command,
        cwd=ROOT,
        env=offline_environment(home),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    directory = tmp_path_factory.mktemp("cdk.out")
    run = cdk_synth(directory, tmp_path_factory.mktemp("cdk-home"))
    if run.returncode != 0:
        pytest.fail(f"cdk synth exited {run.returncode}:\n{run.stderr[-4000:]}")
    template = json.loads((directory / f"{STACK_NAME}.template.json").read_text())
    metadata = json.loads((directory / f"{STACK_NAME}.metadata.json").read_text())
    return Synthesized(directory, template, metadata, run)
