"""Change events: the EventBridge bus every audit record is published to, its archive (so
events can be replayed), and the outbox function that publishes, every minute, what a write
could not publish at once; its failed runs go to a dead-letter queue."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from assets_core.logic.audit import SOURCE_PREFIX
from assets_core.routes import OUTBOX
from infra_cdk.constructs.function import FunctionContext, spec_function

ARCHIVE_DAYS = 90


class EventsConstruct(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, context: FunctionContext) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus")
        self.archive = self.bus.archive(
            "Archive",
            description="Every change event, for replays",
            event_pattern=events.EventPattern(source=events.Match.prefix(SOURCE_PREFIX)),
            retention=Duration.days(ARCHIVE_DAYS),
        )
        self.function: lambda_.Function = spec_function(self, "Outbox", OUTBOX, context=context)
        self.dead_letters = sqs.Queue(
            self,
            "OutboxDeadLetters",
            retention_period=Duration.days(14),
            enforce_ssl=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # It is the dead-letter queue of the schedule's target, which cdk-nag does not see.
        NagSuppressions.add_resource_suppressions(
            self.dead_letters,
            [
                NagPackSuppression(
                    id="AwsSolutions-SQS3",
                    reason="The dead-letter queue of the outbox schedule's Lambda target.",
                )
            ],
        )
        self.schedule = events.Rule(
            self,
            "EveryMinute",
            description="Publishes the audit records still in the outbox",
            schedule=events.Schedule.rate(Duration.minutes(1)),
            targets=[
                targets.LambdaFunction(
                    self.function, retry_attempts=2, dead_letter_queue=self.dead_letters
                )
            ],
        )
        self.publish_from(self.function)

    def publish_from(self, function: lambda_.Function) -> None:
        """Let a function publish to this bus (and only this one), and tell it which."""
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["events:PutEvents"], resources=[self.bus.event_bus_arn])
        )
        function.add_environment("EVENT_BUS_NAME", self.bus.event_bus_name)
