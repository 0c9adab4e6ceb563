"""``make deploy``'s checks before ``cdk deploy`` starts: credentials, the target account
and region, the CDK bootstrap stack, the built layers. Each missing thing is one line; the
exit status is 1 when any is missing, so nothing half-deploys.

    python -m infra_cdk.preflight [-c key=value ...]
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import botocore.exceptions
from botocore.config import Config

from assets_core.routes import reserved_concurrency
from infra_cdk import constants

DEFAULT_QUALIFIER = "hnb659fds"
DEFAULT_TOOLKIT_STACK = "CDKToolkit"
# The synthesized template's CheckBootstrapVersion rule refuses versions 1 to 5.
MIN_BOOTSTRAP_VERSION = 6
# Lambda refuses a reservation that leaves the account fewer unreserved executions.
UNRESERVED_MINIMUM = 100
# A missing credential or an unreachable endpoint answers in seconds, not after retries.
QUICK = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2})
# What `make layer` builds; a module each directory must hold when the build is complete.
BUILT_LAYERS = {
    constants.DEPS_LAYER_DIR / "python" / "pymongo": "the dependencies layer",
    constants.CORE_LAYER_BUILD_DIR / "python" / "assets_core": "the core layer",
}


@dataclass
class Report:
    account: str | None = None
    region: str | None = None
    problems: list[str] = field(default_factory=list)


def context_values(args: Sequence[str]) -> dict[str, str]:
    """``-c key=value`` / ``--context key=value`` pairs, as the CDK CLI reads them."""
    values: dict[str, str] = {}
    items = list(args)
    for flag, value in itertools.pairwise(items):
        if flag in ("-c", "--context") and "=" in value:
            key, _, setting = value.partition("=")
            values[key] = setting
    return values


def check_layers(report: Report, layers: dict[Path, str] = BUILT_LAYERS) -> None:
    for marker, what in layers.items():
        if not marker.is_dir():
            report.problems.append(f"{what} is not built ({marker.parent}): run make layer")


def check_aws(report: Report, session: boto3.Session, context: dict[str, str]) -> None:
    report.region = session.region_name
    if not report.region:
        report.problems.append(
            "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a region in the profile)"
        )
        return
    if session.get_credentials() is None:
        report.problems.append(
            "no AWS credentials: set AWS_PROFILE (after aws sso login) or AWS access keys"
        )
        return
    try:
        identity = session.client("sts", config=QUICK).get_caller_identity()
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        report.problems.append(f"the AWS credentials do not work in {report.region}: {exc}")
        return
    report.account = str(identity["Account"])
    check_bootstrap(report, session, context)
    if context.get("reserved_concurrency", "true").lower() not in ("false", "0", "no"):
        check_concurrency(report, session)


def check_concurrency(report: Report, session: boto3.Session) -> None:
    """The account's Lambda concurrency quota holds what the functions reserve plus the
    100 executions AWS keeps unreserved (new accounts may start far lower)."""
    needed = reserved_concurrency() + UNRESERVED_MINIMUM
    try:
        settings = session.client("lambda", config=QUICK).get_account_settings()
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        report.problems.append(f"cannot read the Lambda account settings: {exc}")
        return
    quota = int(settings.get("AccountLimit", {}).get("ConcurrentExecutions", 0))
    if quota < needed:
        report.problems.append(
            f"the account's Lambda concurrency quota is {quota}; the functions reserve "
            f"{reserved_concurrency()} and AWS keeps {UNRESERVED_MINIMUM} unreserved, so "
            f"{needed} are needed: request an increase (Service Quotas, 'Concurrent "
            "executions'), or deploy with -c reserved_concurrency=false"
        )


def check_bootstrap(report: Report, session: boto3.Session, context: dict[str, str]) -> None:
    environment = f"aws://{report.account}/{report.region}"
    fix = f"run: npx cdk bootstrap {environment}"
    toolkit = context.get("toolkit-stack-name", DEFAULT_TOOLKIT_STACK)
    qualifier = context.get("@aws-cdk/core:bootstrapQualifier", DEFAULT_QUALIFIER)
    try:
        stacks = session.client("cloudformation", config=QUICK).describe_stacks(StackName=toolkit)[
            "Stacks"
        ]
    except botocore.exceptions.ClientError as exc:
        if "does not exist" in str(exc):
            report.problems.append(f"{environment} is not bootstrapped (no {toolkit} stack): {fix}")
        else:
            report.problems.append(f"cannot read the {toolkit} stack: {exc}")
        return
    except botocore.exceptions.BotoCoreError as exc:
        report.problems.append(f"cannot read the {toolkit} stack: {exc}")
        return
    status = stacks[0]["StackStatus"] if stacks else "missing"
    if not status.endswith("_COMPLETE") or status.startswith(("DELETE", "ROLLBACK")):
        report.problems.append(f"the {toolkit} stack in {environment} is {status}: {fix}")
        return
    name = f"/cdk-bootstrap/{qualifier}/version"
    try:
        value = session.client("ssm", config=QUICK).get_parameter(Name=name)["Parameter"]["Value"]
        version = int(value)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, ValueError):
        report.problems.append(f"no bootstrap version at {name} in {environment}: {fix}")
        return
    if version < MIN_BOOTSTRAP_VERSION:
        report.problems.append(
            f"{environment} is bootstrapped at version {version}, the stack needs "
            f"{MIN_BOOTSTRAP_VERSION} or later: {fix}"
        )


def preflight(args: Sequence[str] = (), session: boto3.Session | None = None) -> Report:
    report = Report()
    check_layers(report)
    check_aws(report, session or boto3.Session(), context_values(args))
    return report


def main(args: Sequence[str]) -> int:
    report = preflight(args)
    for problem in report.problems:
        print(f"make deploy: {problem}", file=sys.stderr)
    if report.problems:
        return 1
    print(f"deploying {constants.STACK_NAME} to aws://{report.account}/{report.region}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
