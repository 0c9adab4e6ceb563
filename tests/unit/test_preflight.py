"""`make deploy`'s preflight: one line per missing prerequisite, on moto's STS,
CloudFormation and SSM (a unit test of the checks; no AWS account here)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from infra_cdk import preflight
from infra_cdk.preflight import Report, check_aws, check_layers, context_values

TOOLKIT_TEMPLATE = '{"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}'


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        session = boto3.Session(region_name="eu-west-1")
        with_quota(session, monkeypatch, 1000)  # Lambda's default quota
        yield session


def with_quota(session: boto3.Session, monkeypatch: pytest.MonkeyPatch, quota: int) -> None:
    """The account's Lambda concurrency quota (moto does not answer GetAccountSettings)."""
    real_client = boto3.Session.client

    def client(self: boto3.Session, service: str, **kwargs: object) -> object:
        made = real_client(self, service, **kwargs)
        if service == "lambda":
            settings = {"AccountLimit": {"ConcurrentExecutions": quota}}
            monkeypatch.setattr(made, "get_account_settings", lambda: settings)
        return made

    monkeypatch.setattr(session, "client", client.__get__(session))


def bootstrap(session: boto3.Session, version: str = "29", stack: str = "CDKToolkit") -> None:
    session.client("cloudformation").create_stack(StackName=stack, TemplateBody=TOOLKIT_TEMPLATE)
    session.client("ssm").put_parameter(
        Name="/cdk-bootstrap/hnb659fds/version", Value=version, Type="String"
    )


def test_a_bootstrapped_environment_passes(aws: boto3.Session) -> None:
    bootstrap(aws)
    report = Report()
    check_aws(report, aws, {})
    assert report.problems == []
    assert (report.account, report.region) == ("123456789012", "eu-west-1")


def test_an_environment_never_bootstrapped_says_the_command(aws: boto3.Session) -> None:
    report = Report()
    check_aws(report, aws, {})
    assert report.problems == [
        "aws://123456789012/eu-west-1 is not bootstrapped (no CDKToolkit stack): "
        "run: npx cdk bootstrap aws://123456789012/eu-west-1"
    ]


def test_an_old_bootstrap_is_refused(aws: boto3.Session) -> None:
    bootstrap(aws, version="5")
    report = Report()
    check_aws(report, aws, {})
    assert len(report.problems) == 1
    assert "version 5, the stack needs 6 or later" in report.problems[0]


def test_a_custom_toolkit_stack_and_qualifier_come_from_context(aws: boto3.Session) -> None:
    bootstrap(aws, stack="MyToolkit")
    report = Report()
    check_aws(report, aws, context_values(["-c", "toolkit-stack-name=MyToolkit"]))
    assert report.problems == []
    report = Report()
    qualifier = ["--context", "@aws-cdk/core:bootstrapQualifier=other1234"]
    check_aws(report, aws, {**context_values(qualifier), "toolkit-stack-name": "MyToolkit"})
    assert report.problems == [
        "no bootstrap version at /cdk-bootstrap/other1234/version in "
        "aws://123456789012/eu-west-1: run: npx cdk bootstrap aws://123456789012/eu-west-1"
    ]


def test_no_region_and_no_credentials_are_one_line_each(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    report = Report()
    check_aws(report, boto3.Session(), {})
    assert report.problems == [
        "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a region in the profile)"
    ]
    report = Report()
    check_aws(report, boto3.Session(region_name="eu-west-1"), {})
    assert report.problems == [
        "no AWS credentials: set AWS_PROFILE (after aws sso login) or AWS access keys"
    ]


def test_unbuilt_layers_are_named(tmp_path: Path) -> None:
    report = Report()
    check_layers(report, {tmp_path / "deps" / "python" / "pymongo": "the dependencies layer"})
    assert report.problems == [
        f"the dependencies layer is not built ({tmp_path / 'deps' / 'python'}): run make layer"
    ]


def test_main_prints_each_problem_and_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        preflight, "preflight", lambda args: Report(problems=["first thing", "second thing"])
    )
    assert preflight.main([]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "make deploy: first thing",
        "make deploy: second thing",
    ]


def test_make_smoke_finds_the_api_url_in_the_stack_outputs(aws: boto3.Session) -> None:
    from infra_cdk.outputs import stack_output

    template = (
        '{"Resources": {"B": {"Type": "AWS::S3::Bucket"}},'
        ' "Outputs": {"ApiUrl": {"Value": "https://abc.execute-api.eu-west-1.amazonaws.com"}}}'
    )
    aws.client("cloudformation").create_stack(StackName="AssetsRegistry", TemplateBody=template)
    assert stack_output("ApiUrl", session=aws) == "https://abc.execute-api.eu-west-1.amazonaws.com"
    with pytest.raises(LookupError, match="no output DownloadUrl"):
        stack_output("DownloadUrl", session=aws)
    with pytest.raises(LookupError, match="cannot read the Other stack"):
        stack_output("ApiUrl", stack="Other", session=aws)
    # make smoke asks for the edge first: a stack without it answers with ApiUrl
    from infra_cdk.outputs import first_output

    api = "https://abc.execute-api.eu-west-1.amazonaws.com"
    assert first_output(["EdgeUrl", "ApiUrl"], session=aws) == api
    with pytest.raises(LookupError, match="no output DownloadUrl"):
        first_output(["EdgeUrl", "DownloadUrl"], session=aws)


def test_an_account_whose_quota_cannot_hold_the_reservations_is_told_what_to_do(
    aws: boto3.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    bootstrap(aws)
    with_quota(aws, monkeypatch, 10)
    report = Report()
    check_aws(report, aws, {})
    [problem] = report.problems
    assert "quota is 10" in problem
    assert "-c reserved_concurrency=false" in problem
    # Without reservations the quota is not checked
    report = Report()
    check_aws(report, aws, {"reserved_concurrency": "false"})
    assert report.problems == []
