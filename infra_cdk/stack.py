"""The Assets Registry stack: it composes the capability constructs and grants each function
exactly what its code does, and serves the web console from CloudFront. With the edge on, a
second small stack in us-east-1 holds the web ACL the main stack's CloudFront distributions
use."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aws_cdk import ArnFormat, CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from assets_core.config import LAMBDA_STREAM_MAX_BYTES, Settings
from assets_core.keys import (
    ARCHIVE_PREFIX,
    ASSETDB_PREFIX,
    ASSETS_PREFIX,
    CREDENTIALS_SECRET_PREFIX,
    INCOMING_PREFIX,
    MANIFEST_PREFIX,
    RUN_MARKER_SUFFIX,
)
from assets_core.routes import (
    API_GROUPS,
    ARCHIVE_BUILDER,
    INGEST,
    JANITOR,
    OUTBOX,
    PURGE,
    READ_ONLY,
    READ_WRITE,
)
from infra_cdk import constants
from infra_cdk.constructs.api import ApiConstruct
from infra_cdk.constructs.auth import AuthConstruct
from infra_cdk.constructs.cache import CacheConstruct
from infra_cdk.constructs.console import (
    EXTERNAL_SIGN_IN_KEYS,
    NO_SIGN_IN,
    ConsoleConstruct,
    cognito_sign_in,
    external_sign_in,
    sign_in_origins,
)
from infra_cdk.constructs.database import DatabaseConstruct
from infra_cdk.constructs.database_users import DatabaseUsersConstruct
from infra_cdk.constructs.download import DownloadConstruct
from infra_cdk.constructs.edge import EdgeConstruct, WebAclConstruct, client_rate_limit
from infra_cdk.constructs.events import EventsConstruct
from infra_cdk.constructs.function import ARCHITECTURE, RUNTIME, FunctionContext
from infra_cdk.constructs.ingest import IngestConstruct
from infra_cdk.constructs.network import NetworkConstruct
from infra_cdk.constructs.storage import StorageConstruct
from infra_cdk.nag import suppress_findings

# The functions' database (MONGODB_DATABASE is left at its default), which the users may use.
DATABASE_NAME = str(Settings.model_fields["mongodb_database"].default)
CREDENTIAL_ACTIONS = (
    "secretsmanager:CreateSecret",
    "secretsmanager:TagResource",
    "secretsmanager:GetSecretValue",
    "secretsmanager:DeleteSecret",
)


def core_layer_code() -> lambda_.Code:
    """The core layer as ``make layer`` built it (with 3.13 bytecode), else its source."""
    if (constants.CORE_LAYER_BUILD_DIR / "python" / "assets_core").is_dir():
        return lambda_.Code.from_asset(str(constants.CORE_LAYER_BUILD_DIR))
    return lambda_.Code.from_asset(
        str(constants.CORE_LAYER_SOURCE_DIR), exclude=["**/__pycache__", "*.pyc"]
    )


def context_setting(scope: Construct, key: str) -> Any:
    """A context value (cdk.json or ``-c``), else its default from constants."""
    value = scope.node.try_get_context(key)
    return constants.CONTEXT_DEFAULTS[key] if value is None or value == "" else value


# How a context flag is written (cdk.json's booleans, or -c key=value strings).
TRUE = ("true", "1", "yes")
FALSE = ("false", "0", "no")


def is_set(value: object) -> bool:
    """Whether a context flag is on: one of ``TRUE``; anything else is off."""
    return str(value).lower() in TRUE


def is_unset(value: object) -> bool:
    """Whether a context flag that defaults to on was turned off: one of ``FALSE``."""
    return str(value).lower() in FALSE


def edge_enabled(scope: Construct) -> bool:
    """``edge``: ``auto`` follows ``public``; ``true`` or ``false`` decide alone."""
    edge = str(context_setting(scope, "edge")).lower()
    if edge == "auto":
        return is_set(context_setting(scope, "public"))
    if edge in TRUE + FALSE:
        return is_set(edge)
    raise ValueError(f"edge must be auto, true or false, not {edge!r}")


class AssetsRegistryEdgeStack(Stack):
    """The web ACL of the edge: CloudFront's web ACLs (scope CLOUDFRONT) exist only in
    us-east-1, whatever region the rest of the stack is in."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        rate_limit = client_rate_limit(context_setting(self, "client_rate_limit"))
        self.web_acl = WebAclConstruct(self, "WebAcl", rate_limit=rate_limit)
        CfnOutput(self, "WebAclArn", value=self.web_acl.arn, description="The edge's web ACL")


class AssetsRegistryStack(Stack):
    """``web_acl_arn`` (the edge stack's web ACL) puts CloudFront with it in front of the API;
    None leaves the API's own endpoint the only way in."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        web_acl_arn: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        setting = self._setting
        mode = str(setting("mongodb_mode"))
        nat = int(setting("nat_gateways"))
        if mode == "uri" and nat < 1:
            raise ValueError(
                "mongodb_mode=uri reaches MongoDB over the internet: set nat_gateways >= 1"
            )
        retain = not is_unset(setting("retain_data"))
        stream_max = int(setting("stream_max_bytes"))
        if not 0 < stream_max <= LAMBDA_STREAM_MAX_BYTES:
            raise ValueError(
                f"stream_max_bytes must be 1..{LAMBDA_STREAM_MAX_BYTES} (Lambda streams at most "
                f"200 MB), not {stream_max}"
            )

        network = NetworkConstruct(self, "Network", nat_gateways=nat)
        storage = StorageConstruct(
            self,
            "Storage",
            ingest_timeout_s=INGEST.timeout_s,
            builder_timeout_s=ARCHIVE_BUILDER.timeout_s,
            incoming_expiry_days=int(setting("incoming_expiry_days")),
            archive_expiry_days=int(setting("archive_expiry_days")),
            retain=retain,
        )
        cache = CacheConstruct(
            self,
            "Cache",
            vpc=network.vpc,
            subnets=network.subnets,
            clients=network.function_security_group,
        )
        database = DatabaseConstruct(
            self,
            "Database",
            mode=mode,
            vpc=network.vpc,
            subnets=network.subnets,
            clients=network.function_security_group,
            uri_secret_name=str(setting("mongodb_uri_secret_name")),
            instance_type=str(setting("documentdb_instance_type")),
            retain=retain,
        )
        layers = [
            lambda_.LayerVersion(
                self,
                "CoreLayer",
                code=core_layer_code(),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
                description="assets_core: models, logic and stores shared by every function",
            ),
            lambda_.LayerVersion(
                self,
                "DepsLayer",
                code=lambda_.Code.from_asset(str(constants.DEPS_LAYER_DIR), exclude=["README.md"]),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
                description="Third-party dependencies for arm64, built by make layer",
            ),
        ]
        open_api = is_set(setting("open_api"))
        context = FunctionContext(
            layers=layers,
            vpc=network.vpc,
            subnets=network.subnets,
            security_group=network.function_security_group,
            reserve_concurrency=not is_unset(setting("reserved_concurrency")),
            environment={
                "BUCKET_NAME": storage.bucket.bucket_name,
                "REDIS_URL": cache.url,
                "UPLOAD_MAX_BYTES": str(setting("upload_max_bytes")),
                # Without the authorizer every caller is anonymous: an open API lets them act.
                **({"OPEN_ACCESS": "true"} if open_api else {}),
            },
        )
        download = DownloadConstruct(
            self, "Download", context=context, archive_queue=storage.archive_queue
        )
        auth = None
        if not open_api:
            auth = AuthConstruct(
                self,
                "Auth",
                issuer=str(setting("auth_issuer")),
                audience=str(setting("auth_audience")),
                domain_prefix=str(setting("auth_domain_prefix")),
                retain=retain,
            )
        console, sign_in = self._console(storage, auth, retain=retain, web_acl_arn=web_acl_arn)
        api = ApiConstruct(
            self,
            "Api",
            context=context,
            rate_limit=int(setting("api_rate_limit")),
            burst_limit=int(setting("api_burst_limit")),
            authorizer=auth.authorizer if auth else None,
            cors_origins=[console.origin],
        )
        edge = None
        if web_acl_arn is not None:
            edge = EdgeConstruct(
                self,
                "Edge",
                http_api=api.http_api,
                web_acl_arn=web_acl_arn,
                log_bucket=storage.access_logs,
            )
        console.deploy(api_url=edge.url if edge is not None else api.url, auth=sign_in)
        ingest = IngestConstruct(
            self,
            "Ingest",
            context=context,
            queue=storage.queue,
            dead_letters=storage.dead_letters,
        )

        change_events = EventsConstruct(self, "Events", context=context)
        self._connect(
            database,
            context,
            [
                *((api.functions[group.name], group.database) for group in API_GROUPS),
                (ingest.function, INGEST.database),
                (ingest.janitor, JANITOR.database),
                (ingest.purge, PURGE.database),
                (change_events.function, OUTBOX.database),
            ],
        )
        _publish_events(change_events, api, ingest)
        bucket = storage.bucket
        # ZIP API: writes direct uploads and signs presigned POSTs to incoming/; writes the
        # manifests of streamed downloads and signs their links; requests, inspects, retries
        # and presigns archives of large ones.
        zip_api = api.functions["registry_zip"]
        bucket.grant_put(zip_api, f"{INCOMING_PREFIX}*")
        # Upload sessions: their parts listed (ListParts) and the assembled bundle's HEAD.
        bucket.grant_read(zip_api, f"{INCOMING_PREFIX}*")
        bucket.grant_put(zip_api, f"{MANIFEST_PREFIX}*")
        bucket.grant_read_write(zip_api, f"{ARCHIVE_PREFIX}*")
        bucket.grant_delete(zip_api, f"{ARCHIVE_PREFIX}*")
        download.signing_key.grant_read(zip_api)
        zip_api.add_environment("DOWNLOAD_URL", download.url.url)
        zip_api.add_environment("STREAM_MAX_BYTES", str(stream_max))
        zip_api.add_environment("DOWNLOAD_SIGNING_KEY_SECRET_ARN", download.signing_key.secret_arn)
        # Ingest: reads and removes bundles, writes and (on failure) removes members, reads
        # presigned Assets DB files to checksum them.
        bucket.grant_read(ingest.function, f"{INCOMING_PREFIX}*")
        bucket.grant_delete(ingest.function, f"{INCOMING_PREFIX}*")
        # The markers that start a bundle's next ingest run (never a bundle itself).
        bucket.grant_put(ingest.function, f"{INCOMING_PREFIX}*{RUN_MARKER_SUFFIX}")
        bucket.grant_read_write(ingest.function, f"{ASSETS_PREFIX}*")
        bucket.grant_delete(ingest.function, f"{ASSETS_PREFIX}*")
        bucket.grant_read(ingest.function, f"{ASSETDB_PREFIX}*")
        # Janitor: settles dead-lettered uploads (their members, unfinished multipart uploads
        # and bundles) and sweeps unreferenced folders under assets/ and assetdb/.
        janitor = ingest.janitor
        bucket.grant_read(janitor, f"{INCOMING_PREFIX}*")
        bucket.grant_delete(janitor, f"{INCOMING_PREFIX}*")
        for prefix in (ASSETS_PREFIX, ASSETDB_PREFIX):
            bucket.grant_read_write(janitor, f"{prefix}*")
            bucket.grant_delete(janitor, f"{prefix}*")
        # Purge (and an admin's ?purge=true): deletes the content no version holds any more.
        bucket.grant_read(ingest.purge, f"{ASSETS_PREFIX}*")
        bucket.grant_delete(ingest.purge, f"{ASSETS_PREFIX}*")
        bucket.grant_delete(api.functions["registry_write"], f"{ASSETS_PREFIX}*")
        # Queries: presign GETs of an asset's files and HEAD them (the files routes).
        bucket.grant_read(api.functions["registry_query"], f"{ASSETS_PREFIX}*")
        # Download: reads its manifests and the stored members they list, nothing else.
        bucket.grant_read(download.function, f"{MANIFEST_PREFIX}*")
        bucket.grant_read(download.function, f"{ASSETS_PREFIX}*")
        # Archive builder: reads stored members (the sources of its part copies) and writes,
        # reads and removes archives and their requests.
        bucket.grant_read(download.builder, f"{ASSETS_PREFIX}*")
        bucket.grant_read_write(download.builder, f"{ARCHIVE_PREFIX}*")
        bucket.grant_delete(download.builder, f"{ARCHIVE_PREFIX}*")
        # Assets DB: its own files, written, read through presigned links, and deleted.
        assetdb = api.functions["assetdb"]
        bucket.grant_read_write(assetdb, f"{ASSETDB_PREFIX}*")
        bucket.grant_delete(assetdb, f"{ASSETDB_PREFIX}*")
        assetdb.add_environment("ASSETS_DB_ID", f"{constants.SERVICE_NAME}-{self.region}")
        if edge is not None:
            # CloudFront sends the API's own name as Host: public URLs name the edge instead.
            assetdb.add_environment("PUBLIC_BASE_URL", edge.url)
            self._behind_edge(edge, api.functions.values())

        self._keep_credentials(
            api.functions["registry_write"], ingest.function, ingest.janitor, ingest.purge
        )

        CfnOutput(self, "ApiUrl", value=api.url, description="Base URL of every service")
        CfnOutput(
            self,
            "EventBusName",
            value=change_events.bus.event_bus_name,
            description="The EventBridge bus of the change events (rules go on it)",
        )
        CfnOutput(
            self,
            "PurgeFunction",
            value=ingest.purge.function_name,
            description='The purge function (invoke with {"action": "migrate"} after an upgrade)',
        )
        if edge is not None:
            CfnOutput(
                self,
                "EdgeUrl",
                value=edge.url,
                description="Base URL of every service through CloudFront and AWS WAF",
            )
        CfnOutput(
            self,
            "DownloadUrl",
            value=download.url.url,
            description="The streaming download function URL",
        )
        CfnOutput(self, "BucketName", value=bucket.bucket_name)
        CfnOutput(self, "ConsoleUrl", value=console.url, description="The web console")
        if auth is not None:
            CfnOutput(self, "AuthIssuer", value=auth.issuer, description="The tokens' issuer")
        if auth is not None and auth.user_pool is not None and auth.domain is not None:
            cli, machines, console_client = auth.clients
            CfnOutput(self, "UserPoolId", value=auth.user_pool.user_pool_id)
            CfnOutput(self, "CliClientId", value=cli.user_pool_client_id)
            CfnOutput(self, "MachineClientId", value=machines.user_pool_client_id)
            CfnOutput(self, "ConsoleClientId", value=console_client.user_pool_client_id)
            CfnOutput(self, "AuthDomain", value=auth.domain.base_url())
        suppress_findings(
            self,
            public_routes=api.public_routes,
            distributions=[edge.distribution] if edge is not None else [],
            console=console.distribution,
            console_protected=web_acl_arn is not None,
        )

    def _console(
        self,
        storage: StorageConstruct,
        auth: AuthConstruct | None,
        *,
        retain: bool,
        web_acl_arn: str | None,
    ) -> tuple[ConsoleConstruct, dict[str, Any]]:
        """The console's distribution, its sign-in (the pool's console client, an external
        issuer's from context, or none) and the data bucket's CORS rule for it.

        The API's CORS, the console client's callback and the data bucket's CORS rule name the
        distribution's origin, so its CSP cannot name the API or the bucket back (CloudFormation
        would see a cycle): it allows their hosts by wildcard, the API's on its region's
        execute-api (or, with the edge on, on cloudfront.net) and the buckets' on S3's. The
        sign-in origin (the pool's domain or the issuer's) depends on nothing of the console's
        and is named exactly."""
        context = {key: self._setting(key) for key in EXTERNAL_SIGN_IN_KEYS.values()}
        external = external_sign_in(context)
        hosted = auth.hosted_url if auth is not None else None
        if external is not None and (auth is None or hosted is not None):
            raise ValueError(
                f"{', '.join(EXTERNAL_SIGN_IN_KEYS.values())} are for an external issuer "
                "(-c auth_issuer=...); the stack's user pool has a console client of its own"
            )
        if web_acl_arn is not None:
            api_sources = ["https://*.cloudfront.net"]
        else:
            api_sources = [f"https://*.execute-api.{self.region}.{self.url_suffix}"]
        console = ConsoleConstruct(
            self,
            "Console",
            dist_dir=constants.CONSOLE_DIST_DIR,
            api_sources=api_sources,
            sign_in=[hosted] if hosted else sign_in_origins(external or {}),
            log_bucket=storage.access_logs,
            retain=retain,
            web_acl_arn=web_acl_arn,
        )
        storage.allow_browser_access(console.origin)
        if auth is not None and hosted is not None:
            client = auth.add_console_client(console.url)
            return console, cognito_sign_in(hosted, client.user_pool_client_id)
        return console, external or NO_SIGN_IN

    def _keep_credentials(
        self,
        write: lambda_.Function,
        ingest: lambda_.Function,
        janitor: lambda_.Function,
        purge: lambda_.Function,
    ) -> None:
        """Container registry credentials: a secret per value, written by the asset routes
        and by ingest (a bundle's asset.json), read back by the owner's route, deleted when
        replaced; the janitor deletes the secret of an asset it undoes, the purge those of
        the versions it removes. Nothing else may touch them."""
        credentials = self.format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name=f"{CREDENTIALS_SECRET_PREFIX}*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        for function, actions in (
            (write, CREDENTIAL_ACTIONS),
            # ingest deletes only the secret of an insert that failed or an asset it undoes
            (ingest, tuple(a for a in CREDENTIAL_ACTIONS if "Get" not in a)),
            (janitor, ("secretsmanager:DeleteSecret",)),
            (purge, ("secretsmanager:DeleteSecret",)),
        ):
            function.add_environment("CREDENTIALS_SECRET_PREFIX", CREDENTIALS_SECRET_PREFIX)
            function.add_to_role_policy(
                iam.PolicyStatement(actions=list(actions), resources=[credentials])
            )

    def _connect(
        self,
        database: DatabaseConstruct,
        context: FunctionContext,
        functions: Iterable[tuple[lambda_.Function, str]],
    ) -> None:
        """Each function connects as the database user its access needs: the read-only one
        for those that never write (routes.READ_ONLY), the read-write one otherwise. With
        DocumentDB the stack creates both users, and only their creator holds the master
        credentials; with a URI, ``mongodb_reader_uri_secret_name`` names the read-only URI
        (else both use the one URI)."""
        if database.cluster is not None:
            users = DatabaseUsersConstruct(
                self,
                "DatabaseUsers",
                context=context,
                cluster=database.cluster,
                master=database.secret,
                database=DATABASE_NAME,
            )
            secrets = {access: users.secret_for(access) for access in (READ_ONLY, READ_WRITE)}
        else:
            reader_name = str(self._setting("mongodb_reader_uri_secret_name"))
            reader = (
                secretsmanager.Secret.from_secret_name_v2(self, "ReaderUriSecret", reader_name)
                if reader_name
                else database.secret
            )
            secrets = {READ_ONLY: reader, READ_WRITE: database.secret}
        for function, access in functions:
            secret = secrets[access]
            secret.grant_read(function)
            function.add_environment("MONGODB_SECRET_ARN", secret.secret_arn)
            if access == READ_ONLY:
                function.add_environment("MONGODB_READ_ONLY", "true")
            if database.cluster is not None:
                function.node.add_dependency(users.resource)

    @staticmethod
    def _behind_edge(edge: EdgeConstruct, functions: Iterable[lambda_.Function]) -> None:
        """The API functions refuse requests that went around the edge (api/access.py)."""
        for function in functions:
            edge.origin_verify_secret.grant_read(function)
            function.add_environment(
                "ORIGIN_VERIFY_SECRET_ARN", edge.origin_verify_secret.secret_arn
            )

    def _setting(self, key: str) -> Any:
        return context_setting(self, key)


def _publish_events(
    change_events: EventsConstruct, api: ApiConstruct, ingest: IngestConstruct
) -> None:
    """Every function that writes publishes its records' events right after the write."""
    writers = [api.functions[g.name] for g in API_GROUPS if g.database != READ_ONLY]
    for writer in (*writers, ingest.function, ingest.janitor, ingest.purge):
        change_events.publish_from(writer)
