"""AWS's hard limits on the synthesized stack, offline: what CloudFormation,
Lambda or IAM would refuse at deploy time fails here instead."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra_cdk.constants import STACK_NAME
from infra_cdk.limits import RESOLVED_LENGTH, Figure, figures, policy_characters, resolved
from tests.infra.conftest import Synthesized


@pytest.fixture(scope="module")
def measured(synthesized: Synthesized) -> dict[str, Figure]:
    return {f.name: f for f in figures(synthesized.directory)}


def test_every_figure_is_within_its_limit(measured: dict[str, Figure]) -> None:
    over = [str(f) for f in measured.values() if not f.within]
    assert not over, over


def test_every_function_and_role_is_measured(
    synthesized: Synthesized, measured: dict[str, Figure]
) -> None:
    for logical_id in synthesized.resources("AWS::Lambda::Function"):
        assert f"{logical_id} unzipped with its layers" in measured
        assert f"{logical_id} environment" in measured
    for logical_id in synthesized.resources("AWS::IAM::Role"):
        assert f"{logical_id} trust policy" in measured
        assert f"{logical_id} inline policies" in measured


def test_the_application_functions_ship_their_layers(measured: dict[str, Figure]) -> None:
    # The dependencies layer alone is tens of MB: a figure near zero would mean the layer
    # asset was not found, not that it is small.
    ingest = next(
        f
        for name, f in measured.items()
        if name.startswith("IngestFunction") and name.endswith("unzipped with its layers")
    )
    assert ingest.value > 10 * 1024 * 1024


def test_policy_size_counts_no_whitespace_and_resolves_intrinsics() -> None:
    document = {"Statement": [{"Effect": "Allow", "Resource": {"Fn::GetAtt": ["B", "Arn"]}}]}
    compact = json.dumps({"Statement": [{"Effect": "Allow", "Resource": "x" * RESOLVED_LENGTH}]})
    assert policy_characters(document) == len(compact.replace(" ", ""))
    joined = {"Fn::Join": ["", [{"Fn::GetAtt": ["B", "Arn"]}, "/*"]]}
    assert resolved(joined) == "x" * RESOLVED_LENGTH + "/*"
    assert resolved({"Fn::Sub": "arn:${AWS::Partition}:s3:::b"}) == (
        "arn:" + "x" * RESOLVED_LENGTH + ":s3:::b"
    )


def test_a_stack_over_a_limit_is_reported(tmp_path: Path) -> None:
    resources = {f"Topic{i}": {"Type": "AWS::SNS::Topic", "Properties": {}} for i in range(501)}
    statements = [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:{i:09}"} for i in range(300)
    ]
    resources["Role"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {"AssumeRolePolicyDocument": {"Statement": []}},
    }
    resources["Policy"] = {
        "Type": "AWS::IAM::Policy",
        "Properties": {"PolicyDocument": {"Statement": statements}, "Roles": [{"Ref": "Role"}]},
    }
    (tmp_path / f"{STACK_NAME}.template.json").write_text(json.dumps({"Resources": resources}))
    over = {f.name for f in figures(tmp_path) if not f.within}
    assert over == {"CloudFormation resources", "Role inline policies"}
