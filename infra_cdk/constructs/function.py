"""The one way the stack makes a Lambda function: Python 3.13 on arm64, powertools settings,
active tracing, a log group with retention, the shared layers, inside the VPC (or, for a
function that calls only S3 and must stream from a function URL, outside it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Size
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from assets_core.routes import FunctionSpec
from infra_cdk import constants

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64


@dataclass(frozen=True)
class FunctionContext:
    """What every function shares: layers, network placement and base environment."""

    layers: Sequence[lambda_.ILayerVersion]
    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection
    security_group: ec2.ISecurityGroup
    environment: Mapping[str, str]
    reserve_concurrency: bool = True  # -c reserved_concurrency=false for small accounts


def make_function(
    scope: Construct,
    construct_id: str,
    *,
    context: FunctionContext,
    code_dir: str,
    description: str,
    memory_mb: int,
    timeout_s: int,
    reserved_concurrency: int,
    environment: Mapping[str, str] | None = None,
    ephemeral_mb: int = 512,
    in_vpc: bool = True,
) -> lambda_.Function:
    log_group = logs.LogGroup(
        scope,
        f"{construct_id}Logs",
        retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=RemovalPolicy.DESTROY,
    )
    return lambda_.Function(
        scope,
        construct_id,
        description=description,
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        handler="handler.handler",
        code=lambda_.Code.from_asset(
            str(constants.ROOT / code_dir), exclude=["**/__pycache__", "*.pyc"]
        ),
        layers=list(context.layers),
        memory_size=memory_mb,
        timeout=Duration.seconds(timeout_s),
        reserved_concurrent_executions=reserved_concurrency
        if context.reserve_concurrency
        else None,
        ephemeral_storage_size=Size.mebibytes(ephemeral_mb),
        tracing=lambda_.Tracing.ACTIVE,
        log_group=log_group,
        vpc=context.vpc if in_vpc else None,
        vpc_subnets=context.subnets if in_vpc else None,
        security_groups=[context.security_group] if in_vpc else None,
        environment={
            "POWERTOOLS_SERVICE_NAME": constants.SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": constants.METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            **context.environment,
            **(environment or {}),
        },
    )


def spec_function(
    scope: Construct,
    construct_id: str,
    spec: FunctionSpec,
    *,
    context: FunctionContext,
    environment: Mapping[str, str] | None = None,
) -> lambda_.Function:
    """The function a route table entry describes (``assets_core.routes``), with its own
    environment and ``environment`` added."""
    return make_function(
        scope,
        construct_id,
        context=context,
        code_dir=spec.code_dir,
        description=spec.description,
        memory_mb=spec.memory_mb,
        timeout_s=spec.timeout_s,
        reserved_concurrency=spec.reserved_concurrency,
        in_vpc=spec.in_vpc,
        environment={**spec.environment, **(environment or {})},
    )


def consume(function: lambda_.Function, queue: sqs.IQueue, max_concurrency: int) -> None:
    """``function`` takes ``queue``'s messages one at a time, reporting each failure (so one
    bad message is retried alone), at most ``max_concurrency`` at once."""
    function.add_event_source(
        sources.SqsEventSource(
            queue,
            batch_size=1,
            report_batch_item_failures=True,
            max_concurrency=max_concurrency,
        )
    )
