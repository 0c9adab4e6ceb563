"""One output of the deployed stack, for ``make smoke`` without ``URL=``:

python -m infra_cdk.outputs ApiUrl          (the stack in the credentials' account and region)
python -m infra_cdk.outputs EdgeUrl ApiUrl  (the first of these outputs the stack has)
"""

from __future__ import annotations

import sys

import boto3
import botocore.exceptions

from infra_cdk.constants import STACK_NAME
from infra_cdk.preflight import QUICK


def stack_output(key: str, stack: str = STACK_NAME, session: boto3.Session | None = None) -> str:
    client = (session or boto3.Session()).client("cloudformation", config=QUICK)
    try:
        stacks = client.describe_stacks(StackName=stack)["Stacks"]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise LookupError(f"cannot read the {stack} stack: {exc}") from exc
    for output in stacks[0].get("Outputs", []):
        if output["OutputKey"] == key:
            return str(output["OutputValue"])
    raise LookupError(f"the {stack} stack has no output {key}")


def first_output(
    keys: list[str], stack: str = STACK_NAME, session: boto3.Session | None = None
) -> str:
    """The first of ``keys`` the stack outputs (``EdgeUrl`` exists only with the edge on)."""
    missing: LookupError | None = None
    for key in keys:
        try:
            return stack_output(key, stack, session)
        except LookupError as exc:
            if "has no output" not in str(exc):
                raise
            missing = exc
    raise missing or LookupError("no output asked for")


if __name__ == "__main__":
    try:
        print(first_output(sys.argv[1:]))
    except LookupError as exc:
        print(f"{exc} (or give URL=...)", file=sys.stderr)
        sys.exit(1)
