"""Object storage and its event pipelines: the bucket, its access-log bucket, ObjectCreated
events on incoming/ (bundles) and assetdb/ (presigned Assets DB files) into an encrypted SQS
queue with a dead-letter queue, and on archives/*.build.json (requests to assemble a large
download) into the archive builder's queue. Download manifests and archives expire. Browsers
reach the bucket (presigned uploads and downloads) only from the origins
``allow_browser_access`` names: the web console's."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from assets_core.keys import (
    ARCHIVE_PREFIX,
    ARCHIVE_REQUEST_SUFFIX,
    ASSETDB_PREFIX,
    INCOMING_PREFIX,
    MANIFEST_PREFIX,
)


class StorageConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        ingest_timeout_s: int,
        builder_timeout_s: int,
        incoming_expiry_days: int,
        archive_expiry_days: int,
        retain: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
            removal_policy=removal,
            auto_delete_objects=not retain,
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=False,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-multipart",
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
                s3.LifecycleRule(
                    id="expire-incoming",
                    prefix=INCOMING_PREFIX,
                    expiration=Duration.days(incoming_expiry_days),
                ),
                # A manifest serves one signed link (minutes); a day is S3's shortest rule.
                s3.LifecycleRule(
                    id="expire-download-manifests",
                    prefix=MANIFEST_PREFIX,
                    expiration=Duration.days(1),
                ),
                # Archives are rebuilt on demand; one of an older revision is never served.
                s3.LifecycleRule(
                    id="expire-archives",
                    prefix=ARCHIVE_PREFIX,
                    expiration=Duration.days(archive_expiry_days),
                ),
            ],
            removal_policy=removal,
            auto_delete_objects=not retain,
        )
        self.dead_letters = sqs.Queue(
            self,
            "IngestDeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            # The janitor consumes it and runs as long as ingest: the same six-times rule.
            visibility_timeout=Duration.seconds(6 * ingest_timeout_s),
        )
        self.queue = sqs.Queue(
            self,
            "IngestQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # AWS's advice for an SQS event source: at least six times the function's timeout.
            visibility_timeout=Duration.seconds(6 * ingest_timeout_s),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=3, queue=self.dead_letters),
        )
        destination = s3n.SqsDestination(self.queue)
        self.bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            destination,
            s3.NotificationKeyFilter(prefix=INCOMING_PREFIX, suffix=".zip"),
        )
        self.bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            destination,
            s3.NotificationKeyFilter(prefix=ASSETDB_PREFIX),
        )
        self.archive_dead_letters = sqs.Queue(
            self,
            "ArchiveDeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.archive_queue = sqs.Queue(
            self,
            "ArchiveQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(6 * builder_timeout_s),
            # A request left by a build that kept failing turns stale, and the next download
            # request queues it again (logic/archives.py).
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=3, queue=self.archive_dead_letters
            ),
        )
        self.bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.SqsDestination(self.archive_queue),
            s3.NotificationKeyFilter(prefix=ARCHIVE_PREFIX, suffix=ARCHIVE_REQUEST_SUFFIX),
        )

    def allow_browser_access(self, origin: str) -> None:
        """CORS for a web origin: presigned POSTs and PUTs (single and multipart uploads) and
        presigned GETs. The browser reads each uploaded part's ETag to complete a multipart
        upload, so ETag is exposed."""
        self.bucket.add_cors_rule(
            allowed_methods=[
                s3.HttpMethods.GET,
                s3.HttpMethods.HEAD,
                s3.HttpMethods.PUT,
                s3.HttpMethods.POST,
            ],
            allowed_origins=[origin],
            allowed_headers=["*"],
            exposed_headers=["ETag"],
            max_age=3600,
        )
