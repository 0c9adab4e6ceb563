"""The ingest function, fed by the upload queue with partial batch failure reporting; the
janitor that settles what reaches the dead-letter queue and sweeps the bucket daily; and the
purge that removes deleted assets and versions past their retention, hourly."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from assets_core.routes import INGEST, JANITOR, PURGE
from infra_cdk.constructs.function import FunctionContext, consume, spec_function


class IngestConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        context: FunctionContext,
        queue: sqs.IQueue,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        # The design streams: members pass through bounded buffers, never /tmp, so the default
        # 512 MB of ephemeral storage is enough.
        self.function: lambda_.Function = spec_function(self, "Function", INGEST, context=context)
        consume(self.function, queue, INGEST.reserved_concurrency)
        self.janitor: lambda_.Function = spec_function(self, "Janitor", JANITOR, context=context)
        consume(self.janitor, dead_letters, max_concurrency=2)
        self.sweep_schedule = events.Rule(
            self,
            "DailySweep",
            description="The janitor's daily sweep of objects no record references",
            schedule=events.Schedule.rate(Duration.days(1)),
            targets=[targets.LambdaFunction(self.janitor, retry_attempts=2)],
        )
        self.purge: lambda_.Function = spec_function(self, "Purge", PURGE, context=context)
        self.purge_schedule = events.Rule(
            self,
            "HourlyPurge",
            description="Purges deleted assets and versions whose retention has passed",
            schedule=events.Schedule.rate(Duration.hours(1)),
            targets=[targets.LambdaFunction(self.purge, retry_attempts=2)],
        )
