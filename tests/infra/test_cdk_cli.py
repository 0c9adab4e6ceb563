"""`cdk synth` through the pinned CLI, as `make synth` and `make deploy` run it.

The session's ``synthesized`` fixture is that run: every infrastructure test asserts on the
template it wrote. These tests check the run itself, and that an app built in-process (the
context-option tests) gives the same template."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from infra_cdk.app import build_app
from infra_cdk.constants import ROOT, STACK_NAME
from tests.infra.conftest import Synthesized, offline_environment

CLI_ONLY_METADATA = ("aws:cdk:path", "aws:asset:path", "aws:asset:property", "aws:asset:is-bundled")


def test_cdk_json_runs_the_app_as_a_module_with_the_project_python() -> None:
    # make builds the environment, the layers and the console first (a fresh clone needs only
    # npm ci), then runs the app as a module (as a script, infra_cdk/constructs/ shadows
    # constructs).
    app = json.loads((ROOT / "cdk.json").read_text())["app"]
    assert app == "make --no-print-directory --silent cdk-app"
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(
        r"^cdk-app: install \$\(LAYERS_BUILT\) \$\(CONSOLE\)\n\t@\$\(PY\) -m infra_cdk.app$",
        makefile,
        re.M,
    )


def test_makefile_synthesizes_and_deploys_through_the_cli() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^synth:.*\n\t\$\(CDK\) synth \$\(CDK_FLAGS\)", makefile, re.M)
    # The console's build is part of the stack (its BucketDeployment): built before either.
    for target in ("synth", "deploy", "cdk-app", "infra"):
        assert re.search(rf"^{target}: .*\$\(CONSOLE\)", makefile, re.M), target
    assert re.search(r"^\t\$\(CDK\) deploy \$\(CDK_FLAGS\)", makefile, re.M)
    assert "CDK_FLAGS := --no-notices" in makefile
    assert "infra_cdk.synth" not in makefile


def test_cli_synth_succeeds_without_aws_credentials(synthesized: Synthesized) -> None:
    assert synthesized.cli.returncode == 0
    assert "--no-notices" in synthesized.cli.args
    assert not re.search(r"^\s*(\[Error|Error:)", synthesized.cli.stderr, re.M), (
        synthesized.cli.stderr[-2000:]
    )
    manifest = json.loads((synthesized.directory / "manifest.json").read_text())
    stack = manifest["artifacts"][STACK_NAME]
    assert stack["type"] == "aws:cloudformation:stack"
    assert stack["properties"]["templateFile"] == f"{STACK_NAME}.template.json"
    # Environment-agnostic: the account and region come from the deployer's credentials.
    assert stack["environment"] == "aws://unknown-account/unknown-region"


def test_offline_environment_holds_no_aws_identity(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_PROFILE", "someone")
    env = offline_environment(tmp_path)
    assert not [k for k in env if k.startswith("AWS_") and k != "AWS_EC2_METADATA_DISABLED"]
    assert env["CDK_HOME"] == str(tmp_path)


def without_cli_metadata(template: dict[str, Any]) -> dict[str, Any]:
    """The template less what only the CLI adds: version reporting and construct paths."""
    copy = json.loads(json.dumps(template))
    copy["Resources"] = {
        k: v for k, v in copy["Resources"].items() if v["Type"] != "AWS::CDK::Metadata"
    }
    copy.get("Conditions", {}).pop("CDKMetadataAvailable", None)
    if not copy.get("Conditions"):
        copy.pop("Conditions", None)
    for resource in copy["Resources"].values():
        metadata = resource.get("Metadata", {})
        for key in CLI_ONLY_METADATA:
            metadata.pop(key, None)
        if not metadata:
            resource.pop("Metadata", None)
    return copy


def test_in_process_app_gives_the_cli_template(synthesized: Synthesized, tmp_path: Path) -> None:
    build_app(outdir=str(tmp_path)).synth()
    in_process = json.loads((tmp_path / f"{STACK_NAME}.template.json").read_text())
    assert "CDKMetadata" in synthesized.template["Resources"]
    assert without_cli_metadata(in_process) == without_cli_metadata(synthesized.template)
