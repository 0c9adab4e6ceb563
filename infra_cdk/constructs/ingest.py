"""The ingest function, fed by the upload queue with partial batch failure reporting."""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from assets_core.routes import INGEST
from infra_cdk.constructs.function import FunctionContext, make_function


class IngestConstruct(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, context: FunctionContext, queue: sqs.IQueue
    ) -> None:
        super().__init__(scope, construct_id)
        # The design streams: members pass through bounded buffers, never /tmp, so the default
        # 512 MB of ephemeral storage is enough.
        self.function: lambda_.Function = make_function(
            self,
            "Function",
            context=context,
            code_dir=INGEST.code_dir,
            description=INGEST.description,
            memory_mb=INGEST.memory_mb,
            timeout_s=INGEST.timeout_s,
            environment=INGEST.environment,
        )
        self.function.add_event_source(
            sources.SqsEventSource(
                queue, batch_size=1, report_batch_item_failures=True, max_concurrency=10
            )
        )
