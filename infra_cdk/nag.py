"""cdk-nag (AwsSolutions) suppressions: each names what it covers and why."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from aws_cdk import Stack
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import IConstruct

from assets_core.keys import CREDENTIALS_SECRET_PREFIX

# Any partition, region and account: the stack may be environment-agnostic or pinned.
CREDENTIALS_SECRETS = (
    r"/^Resource::arn:.+:secretsmanager:.+:secret:"
    + re.escape(CREDENTIALS_SECRET_PREFIX).replace("/", r"\/")
    + r"\*$/g"
)
BUCKET_PREFIX = (
    r"/^Resource::<StorageBucket[0-9A-F]+\.Arn>\/"
    r"(incoming|assets|assetdb|downloads|archives)\/\*(\.run-\*\.zip)?$/g"
)


def _rule(rule: str, reason: str, applies_to: list[Any] | None = None) -> NagPackSuppression:
    return NagPackSuppression(id=rule, reason=reason, applies_to=applies_to)


SUPPRESSIONS = [
    _rule(
        "AwsSolutions-IAM4",
        "AWS-managed Lambda policies: CloudWatch Logs writes (basic execution) and the elastic "
        "network interfaces a function in a VPC needs; AWS maintains them.",
        [
            "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
        ],
    ),
    _rule(
        "AwsSolutions-IAM5",
        "X-Ray's PutTraceSegments and PutTelemetryRecords (active tracing) take no resource; "
        "the bucket-notifications custom resource configures a bucket it is given.",
        ["Resource::*"],
    ),
    _rule(
        "AwsSolutions-IAM5",
        "grant_read/grant_put/grant_delete scoped to one bucket and the one key prefix each "
        "function's code uses (incoming/, assets/, assetdb/, downloads/ or archives/); object keys "
        "are not known ahead (ingest: only the markers of its next runs under incoming/).",
        [
            "Action::s3:GetObject*",
            "Action::s3:GetBucket*",
            "Action::s3:List*",
            "Action::s3:Abort*",
            "Action::s3:DeleteObject*",
            {"regex": BUCKET_PREFIX},
        ],
    ),
    _rule(
        "AwsSolutions-IAM5",
        "Container registry credentials are one secret per value, named at write time under "
        "one prefix (keys.CREDENTIALS_SECRET_PREFIX); the two functions that keep them may "
        "touch nothing else in Secrets Manager.",
        [{"regex": CREDENTIALS_SECRETS}],
    ),
    _rule(
        "AwsSolutions-IAM5",
        "CDK's custom-resource provider framework invokes the database-users function and any "
        "of its versions (<function ARN>:*): that one function, nothing else.",
        [{"regex": r"/^Resource::<DatabaseUsersFunction[0-9A-F]+\.Arn>:\*$/g"}],
    ),
    _rule(
        "AwsSolutions-L1",
        "Python 3.13 is the runtime the design names; the dependencies layer is built for it "
        "(make layer). Move both together when upgrading.",
    ),
    _rule(
        "AwsSolutions-SMG4",
        "The DocumentDB credentials, the download-link key and the edge's origin-verify value "
        "are generated at deploy time; rotation needs a rotation function per secret (and for "
        "the link key and the origin-verify value, a grace period), left to operators (see "
        "README).",
    ),
    _rule(
        "AwsSolutions-DOC2",
        "The standard MongoDB port keeps every driver's default; the cluster is in private "
        "subnets and its security group admits only the functions' security group.",
    ),
    _rule(
        "AwsSolutions-DOC5",
        "The rule expects exports named authenticate, createIndex and dropCollection, which are "
        "audit event types, not DocumentDB log exports (CloudFormation accepts 'audit' and "
        "'profiler'). The cluster exports both, with audit_logs enabled in its parameter group, "
        "which records exactly those events.",
    ),
]


PUBLIC_ROUTE = _rule(
    "AwsSolutions-APIG4",
    "Public by design: a prefix's health, OpenAPI document and docs pages (CONTRACT.md), or "
    "every route of a deployment made with -c open_api=true, an explicit opt-in whose risk "
    "the README states. Every other route has the JWT authorizer.",
)


EDGE_DISTRIBUTION = [
    _rule(
        "AwsSolutions-CFR1",
        "The API serves its callers wherever they are: who may call is decided by the JWT "
        "authorizer, and how often each client IP may call by the web ACL's rate limit, not by "
        "country.",
    ),
    _rule(
        "AwsSolutions-CFR4",
        "The distribution answers on its cloudfront.net name with CloudFront's default "
        "certificate, whose minimum viewer protocol cannot be set (TLSv1); a custom domain with "
        "its own ACM certificate in us-east-1 is what allows TLSv1.2_2021. Tokens never cross "
        "plain HTTP (viewer and origin are HTTPS only, TLSv1.2 to the origin).",
    ),
]


CONSOLE_DISTRIBUTION = [
    _rule(
        "AwsSolutions-CFR1",
        "The console is static files for the API's callers, wherever they are: who may act is "
        "decided by the API's JWT authorizer, not by country.",
    ),
    _rule(
        "AwsSolutions-CFR4",
        "The console answers on its cloudfront.net name with CloudFront's default certificate, "
        "whose minimum viewer protocol cannot be set (TLSv1); a custom domain with its own ACM "
        "certificate in us-east-1 is what allows TLSv1.2_2021. Viewers are redirected to HTTPS "
        "and HSTS keeps them there; CloudFront reaches the bucket over HTTPS (OAC).",
    ),
]
CONSOLE_WITHOUT_WEB_ACL = _rule(
    "AwsSolutions-CFR2",
    "Without the edge (-c public=true) there is no web ACL to attach: the console serves only "
    "its own static files (GET and HEAD, cached), holds no data and takes no input; the API "
    "it calls has its own throttling and authorizer. With the edge on, the edge's web ACL is "
    "attached.",
)
BUCKET_DEPLOYMENT = [
    _rule(
        "AwsSolutions-IAM5",
        "CDK's BucketDeployment handler (deploy time only) copies the console's build from the "
        "CDK assets bucket into the console bucket and prunes what the build no longer has: "
        "read on the assets bucket's objects, write and delete on the console bucket's, keys "
        "not known ahead.",
        [
            "Action::s3:GetObject*",
            "Action::s3:GetBucket*",
            "Action::s3:List*",
            "Action::s3:DeleteObject*",
            "Action::s3:Abort*",
            {"regex": r"/^Resource::arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-.+\/\*$/g"},
            {"regex": r"/^Resource::<ConsoleBucket[0-9A-F]+\.Arn>\/\*$/g"},
        ],
    ),
    _rule(
        "AwsSolutions-L1",
        "CDK's BucketDeployment handler: its runtime is the one aws-cdk-lib ships it for "
        "(Python 3.13 today); it moves with aws-cdk-lib.",
    ),
]


def bucket_deployment_handlers(stack: Stack) -> list[IConstruct]:
    """CDK's BucketDeployment handlers: singletons at the stack's root."""
    return [c for c in stack.node.children if c.node.id.startswith("Custom::CDKBucketDeployment")]


def suppress_findings(
    stack: Stack,
    *,
    public_routes: Sequence[IConstruct] = (),
    distributions: Sequence[IConstruct] = (),
    console: IConstruct | None = None,
    console_protected: bool = False,
) -> None:
    NagSuppressions.add_stack_suppressions(stack, SUPPRESSIONS, apply_to_nested_stacks=True)
    for route in public_routes:
        NagSuppressions.add_resource_suppressions(route, [PUBLIC_ROUTE])
    for distribution in distributions:
        NagSuppressions.add_resource_suppressions(distribution, EDGE_DISTRIBUTION)
    if console is not None:
        rules = CONSOLE_DISTRIBUTION + ([] if console_protected else [CONSOLE_WITHOUT_WEB_ACL])
        NagSuppressions.add_resource_suppressions(console, rules)
    for handler in bucket_deployment_handlers(stack):
        NagSuppressions.add_resource_suppressions(
            handler, BUCKET_DEPLOYMENT, apply_to_children=True
        )
