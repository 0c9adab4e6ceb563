"""Context options, checked on small stacks of the constructs they change (fast, no assets)."""

from __future__ import annotations

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from infra_cdk.constructs.database import DatabaseConstruct
from infra_cdk.constructs.network import NetworkConstruct
from infra_cdk.stack import AssetsRegistryStack


def network_and_database(nat: int, mode: str, secret: str = "") -> Template:
    stack = Stack(App(), "Probe")
    network = NetworkConstruct(stack, "Network", nat_gateways=nat)
    DatabaseConstruct(
        stack,
        "Database",
        mode=mode,
        vpc=network.vpc,
        subnets=network.subnets,
        clients=network.function_security_group,
        uri_secret_name=secret,
        instance_type="t4g.medium",
        retain=False,
    )
    return Template.from_stack(stack)


def test_nat_gateways_give_private_subnets_egress() -> None:
    template = network_and_database(1, "documentdb")
    template.resource_count_is("AWS::EC2::NatGateway", 1)
    template.resource_count_is("AWS::EC2::Subnet", 4)
    endpoints = template.find_resources("AWS::EC2::VPCEndpoint")
    assert len(endpoints) == 1, "with NAT only the S3 gateway endpoint remains"


def test_uri_mode_reads_an_existing_secret_and_provisions_no_cluster() -> None:
    template = network_and_database(1, "uri", "prod/assets/mongodb-uri")
    template.resource_count_is("AWS::DocDB::DBCluster", 0)
    template.resource_count_is("AWS::SecretsManager::Secret", 0)


@pytest.mark.parametrize(
    ("mode", "secret", "message"),
    [("uri", "", "mongodb_uri_secret_name"), ("dynamo", "", "documentdb' or 'uri'")],
)
def test_bad_database_settings_are_refused(mode: str, secret: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        network_and_database(1, mode, secret)


def test_uri_mode_without_nat_is_refused_before_anything_is_built() -> None:
    app = App(context={"mongodb_mode": "uri", "mongodb_uri_secret_name": "x", "nat_gateways": 0})
    with pytest.raises(ValueError, match="nat_gateways >= 1"):
        AssetsRegistryStack(app, "Probe")


@pytest.mark.parametrize("value", [0, 200_000_001, -5])
def test_a_stream_limit_lambda_cannot_serve_is_refused(value: int) -> None:
    app = App(context={"stream_max_bytes": value})
    with pytest.raises(ValueError, match=r"stream_max_bytes must be 1\.\.200000000"):
        AssetsRegistryStack(app, "Probe")
