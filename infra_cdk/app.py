"""The CDK app: cdk.json's ``app`` (``make cdk-app``) builds the environment and the layers
when needed and runs this module (``python -m infra_cdk.app``), so ``cdk synth``,
``cdk deploy``, ``make synth`` and the infrastructure tests all synthesize through the CDK CLI
the same way.

Run as a module, not as a script: a script puts ``infra_cdk/`` first on ``sys.path``, where
``infra_cdk/constructs/`` would shadow the ``constructs`` library aws-cdk-lib imports.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE_LAYER_PYTHON = ROOT / "layers" / "core" / "python"
if str(CORE_LAYER_PYTHON) not in sys.path:
    sys.path.insert(0, str(CORE_LAYER_PYTHON))

import aws_cdk as cdk  # noqa: E402

from infra_cdk import constants  # noqa: E402
from infra_cdk.stack import AssetsRegistryStack  # noqa: E402


def project_context() -> dict[str, object]:
    """cdk.json's context: what the CLI gives the app, for an app built in-process."""
    context: dict[str, object] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


def build_app(
    context: dict[str, object] | None = None, outdir: str | None = None, *, nag: bool = True
) -> cdk.App:
    """The app with its one stack, checked by cdk-nag's AwsSolutions pack. ``context``
    overrides cdk.json's for an in-process build (tests of context options); under the CLI,
    its ``-c`` values override both."""
    app = cdk.App(context={**project_context(), **(context or {})}, outdir=outdir)
    AssetsRegistryStack(app, constants.STACK_NAME, description="Serverless Assets Registry")
    if nag:
        from cdk_nag import AwsSolutionsChecks

        cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return app


if __name__ == "__main__":
    build_app().synth()
