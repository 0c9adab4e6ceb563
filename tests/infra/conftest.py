"""One synthesis of the whole stack (with cdk-nag) serves every infrastructure test."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra_cdk.app import build_app
from infra_cdk.constants import STACK_NAME


@dataclass
class Synthesized:
    directory: Path
    template: dict[str, Any]
    metadata: dict[str, Any]

    @property
    def assertions(self) -> Template:
        return Template.from_json(self.template)

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == kind}


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    directory = tmp_path_factory.mktemp("cdk.out")
    build_app(outdir=str(directory)).synth()
    template = json.loads((directory / f"{STACK_NAME}.template.json").read_text())
    metadata = json.loads((directory / f"{STACK_NAME}.metadata.json").read_text())
    return Synthesized(directory, template, metadata)
