"""The download function behind a function URL with response streaming, outside the VPC (a
function URL does not stream from a VPC-attached function), and the secret key that signs its
links (shared with the API function that issues them); the archive builder, fed by its
queue, which assembles large downloads in S3."""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from assets_core.routes import ARCHIVE_BUILDER, DOWNLOAD
from infra_cdk.constructs.function import FunctionContext, consume, spec_function


class DownloadConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        context: FunctionContext,
        archive_queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.signing_key = secretsmanager.Secret(
            self,
            "SigningKey",
            description="HMAC key of the Assets Registry download links",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
        )
        self.function: lambda_.Function = spec_function(
            self,
            "Function",
            DOWNLOAD,
            context=context,
            environment={
                # runtime.py streams responses; the managed runtime's loop cannot.
                "AWS_LAMBDA_EXEC_WRAPPER": "/var/task/bootstrap",
                "DOWNLOAD_SIGNING_KEY_SECRET_ARN": self.signing_key.secret_arn,
            },
        )
        self.signing_key.grant_read(self.function)
        self.url = self.function.add_function_url(
            auth_type=lambda_.FunctionUrlAuthType.NONE,
            invoke_mode=lambda_.InvokeMode.RESPONSE_STREAM,
        )
        self.builder: lambda_.Function = spec_function(
            self, "ArchiveBuilder", ARCHIVE_BUILDER, context=context
        )
        consume(self.builder, archive_queue, ARCHIVE_BUILDER.reserved_concurrency)
