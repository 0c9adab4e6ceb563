"""``make synth``: the CloudFormation template into cdk.out/, offline (no account, no Docker)."""

from __future__ import annotations

from infra_cdk.app import build_app
from infra_cdk.constants import ROOT

if __name__ == "__main__":
    assembly = build_app(outdir=str(ROOT / "cdk.out")).synth()
    for stack in assembly.stacks:
        print(f"{stack.stack_name}: {stack.template_full_path}")
