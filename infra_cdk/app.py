"""The CDK app: cdk.json's ``app`` (``make cdk-app``) builds the environment and the layers
when needed and runs this module (``python -m infra_cdk.app``), so ``cdk synth``,
``cdk deploy``, ``make synth`` and the infrastructure tests all synthesize through the CDK CLI
the same way.

Run as a module, not as a script: a script puts ``infra_cdk/`` first on ``sys.path``, where
``infra_cdk/constructs/`` would shadow the ``constructs`` library aws-cdk-lib imports.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE_LAYER_PYTHON = ROOT / "layers" / "core" / "python"
if str(CORE_LAYER_PYTHON) not in sys.path:
    sys.path.insert(0, str(CORE_LAYER_PYTHON))

import aws_cdk as cdk  # noqa: E402

from infra_cdk import constants  # noqa: E402
from infra_cdk.stack import (  # noqa: E402
    AssetsRegistryEdgeStack,
    AssetsRegistryStack,
    edge_enabled,
)

# Cross-stack references (the edge's web ACL, read by the main stack) are weak: CloudFormation's
# Fn::GetStackOutput reads the edge stack's output across regions, with no custom resource and
# no export that would lock either stack (aws-cdk-lib's README: Reference strength).
CROSS_STACK_REFERENCES = {"@aws-cdk/core:defaultCrossStackReferences": "weak"}


def project_context() -> dict[str, object]:
    """cdk.json's context: what the CLI gives the app, for an app built in-process."""
    context: dict[str, object] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


def build_app(
    context: dict[str, object] | None = None,
    outdir: str | None = None,
    *,
    nag: bool = True,
    region: str | None = None,
) -> cdk.App:
    """The app with its stack, checked by cdk-nag's AwsSolutions pack. ``context`` overrides
    cdk.json's for an in-process build (tests of context options); under the CLI, its ``-c``
    values override both.

    The stack is environment-agnostic, unless the edge is on: then its web ACL's stack is in
    us-east-1 and the main stack needs its region at synthesis, to read it from there:
    ``region``, else the CLI's (``CDK_DEFAULT_REGION``, from ``AWS_REGION`` or the profile)."""
    app = cdk.App(
        context={**CROSS_STACK_REFERENCES, **project_context(), **(context or {})},
        outdir=outdir,
    )
    env = None
    web_acl_arn = None
    if edge_enabled(app):
        region = region or os.environ.get("CDK_DEFAULT_REGION")
        if not region:
            raise ValueError(
                "the edge (public=true or edge=true) needs the stack's region at synthesis: "
                "set AWS_REGION (the CDK CLI passes it on as CDK_DEFAULT_REGION)"
            )
        env = cdk.Environment(region=region)
        edge = AssetsRegistryEdgeStack(
            app,
            constants.EDGE_STACK_NAME,
            env=cdk.Environment(region=constants.EDGE_REGION),
            description="Serverless Assets Registry: the edge's web ACL (CloudFront, AWS WAF)",
        )
        web_acl_arn = edge.web_acl.arn
    AssetsRegistryStack(
        app,
        constants.STACK_NAME,
        env=env,
        web_acl_arn=web_acl_arn,
        description="Serverless Assets Registry",
    )
    if nag:
        from cdk_nag import AwsSolutionsChecks

        cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return app


if __name__ == "__main__":
    build_app().synth()
