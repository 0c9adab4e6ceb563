"""The CDK app (cdk.json's ``app``): ``cdk synth`` and ``cdk deploy`` run this file."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "layers" / "core" / "python", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import aws_cdk as cdk  # noqa: E402

from infra_cdk import constants  # noqa: E402
from infra_cdk.stack import AssetsRegistryStack  # noqa: E402


def build_app(
    context: dict[str, object] | None = None, outdir: str | None = None, *, nag: bool = True
) -> cdk.App:
    """The app with its one stack, checked by cdk-nag's AwsSolutions pack; ``context``
    overrides cdk.json's for tests."""
    app = cdk.App(context=context or {}, outdir=outdir)
    AssetsRegistryStack(app, constants.STACK_NAME, description="Serverless Assets Registry")
    if nag:
        from cdk_nag import AwsSolutionsChecks

        cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return app


if __name__ == "__main__":
    build_app().synth()
