"""The web console in AWS: its built files (``make console``: ``console/dist``) in a private
bucket of their own, served by a CloudFront distribution under ``/console/`` that reads the
bucket through Origin Access Control, with the security headers a browser app needs.

The object keys carry the path (``https://<distribution>/console/assets/x.js`` is the object
``console/assets/x.js``); a CloudFront Function redirects ``/`` and ``/console`` to
``/console/`` and serves ``/console/index.html`` there (the app routes with the URL's hash, so
no other path needs a fallback).
``config.json``, next to ``index.html``, is what the app reads at start: the API's URL and how
to sign in (``console_config``); both are served ``no-cache``, the hashed assets for a year.

The distribution is built before the API, the Cognito client and the data bucket's CORS rule,
which all name its origin: nothing of theirs may go into its configuration (see ``csp``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

# Where the console lives, in its URLs and in its bucket's keys alike.
CONSOLE_PATH = "/console/"
KEY_PREFIX = CONSOLE_PATH.lstrip("/")
ASSETS_DIR = "assets"
CONFIG_FILE = "config.json"
CONSOLE_SCOPES = "openid email profile"
# The context keys of a console signing in with an external issuer (-c auth_issuer=...).
EXTERNAL_SIGN_IN_KEYS = {
    "client_id": "console_client_id",
    "authorize_url": "console_authorize_url",
    "token_url": "console_token_url",
    "logout_url": "console_logout_url",
}
SIGN_IN_URLS = ("authorize_url", "token_url", "logout_url")
# The app's kind for an OAuth 2.0 authorization code flow with PKCE (the endpoints it is given
# decide whose); "none" tells it that sign-in is not configured.
OAUTH_KIND = "cognito"
NO_SIGN_IN: dict[str, Any] = {"kind": "none"}

# Viewer request (CloudFront Functions, JavaScript 2.0): the console's entry points. "/" and
# "/console" are redirected to "/console/" (as the local gateway does), so the page's own
# address is its folder and every relative URL in it resolves there; "/console/" is index.html.
INDEX_REWRITE = """\
function handler(event) {
  var request = event.request;
  if (request.uri === "/" || request.uri === "/console") {
    return {statusCode: 301, statusDescription: "Moved Permanently",
            headers: {location: {value: "/console/"}}};
  }
  if (request.uri === "/console/") {
    request.uri = "/console/index.html";
  }
  return request;
}
"""
NO_CACHE = [s3deploy.CacheControl.no_cache()]
# Vite names every asset after its content: a changed file is a new name.
LONG_CACHE = [
    s3deploy.CacheControl.set_public(),
    s3deploy.CacheControl.max_age(Duration.days(365)),
    s3deploy.CacheControl.immutable(),
]


def origin_of(url: str, key: str) -> str:
    """``https://host[:port]`` of an https URL given by context, or a ValueError naming
    ``key``."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError(f"{key} must be an https:// URL, not {url!r}")
    return f"https://{parts.netloc}"


def cognito_sign_in(hosted_url: str, client_id: str) -> dict[str, Any]:
    """config.json's ``auth`` for the stack's user pool: its hosted pages and the console's
    client."""
    return {
        "kind": OAUTH_KIND,
        "authorize_url": f"{hosted_url}/oauth2/authorize",
        "token_url": f"{hosted_url}/oauth2/token",
        "logout_url": f"{hosted_url}/logout",
        "client_id": client_id,
    }


def external_sign_in(context: Mapping[str, object]) -> dict[str, Any] | None:
    """config.json's ``auth`` for an external issuer, from the ``console_*`` context keys
    (``context`` maps each key to its value, empty when unset): None when none is set, a
    ValueError when only some are or a URL is not https."""
    given = {field: str(context.get(key) or "") for field, key in EXTERNAL_SIGN_IN_KEYS.items()}
    if not any(given.values()):
        return None
    missing = [EXTERNAL_SIGN_IN_KEYS[field] for field, value in given.items() if not value]
    if missing:
        raise ValueError(
            f"the console's sign-in with an external issuer needs {', '.join(missing)} too "
            f"(or none of {', '.join(EXTERNAL_SIGN_IN_KEYS.values())})"
        )
    for field in SIGN_IN_URLS:
        origin_of(given[field], EXTERNAL_SIGN_IN_KEYS[field])
    return {"kind": OAUTH_KIND, **{field: given[field] for field in (*SIGN_IN_URLS, "client_id")}}


def sign_in_origins(auth: Mapping[str, Any]) -> list[str]:
    """The origins of the sign-in endpoints an external ``auth`` names (for the CSP)."""
    return sorted(
        {
            origin_of(auth[field], EXTERNAL_SIGN_IN_KEYS[field])
            for field in SIGN_IN_URLS
            if field in auth
        }
    )


def csp(
    *, api_sources: Sequence[str], upload_sources: Sequence[str], sign_in: Sequence[str]
) -> str:
    """The console's Content-Security-Policy: its own scripts, styles and images only, no
    framing; requests to the API, the data bucket (presigned uploads and downloads) and the
    sign-in endpoints (the token exchange; the authorize and logout pages are navigations)."""
    connect = " ".join(["'self'", *api_sources, *upload_sources, *sign_in])
    form = " ".join(["'self'", *sign_in])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; frame-ancestors 'none'; base-uri 'self'; form-action {form}"
    )


class ConsoleConstruct(Construct):
    """``api_sources``: the CSP's hosts for the API (see the stack: wildcards, as the API
    names this distribution's origin in its CORS and cannot be named back); ``sign_in``: the
    origins of the sign-in endpoints; ``web_acl_arn``: the edge's web ACL, when it is on.
    ``deploy`` ships the files and config.json once the API and the sign-in client exist."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dist_dir: Path,
        api_sources: Sequence[str],
        sign_in: Sequence[str],
        log_bucket: s3.IBucket,
        retain: bool,
        web_acl_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if not (dist_dir / "index.html").is_file():
            raise FileNotFoundError(f"{dist_dir / 'index.html'} is missing: run make console")
        self.dist_dir = dist_dir
        stack = Stack.of(self)
        removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            # OAC signs CloudFront's requests; ACLs stay off.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=log_bucket,
            server_access_logs_prefix="console/",
            removal_policy=removal,
            auto_delete_objects=not retain,
        )
        rewrite = cloudfront.Function(
            self,
            "IndexRewrite",
            code=cloudfront.FunctionCode.from_inline(INDEX_REWRITE),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="The console's entry points: /, /console and /console/ serve its index.html",
        )
        # presigned POSTs name the bucket on S3's global endpoint, presigned PUTs and GETs on
        # the regional one; the bucket's CORS rule names this origin, so its name cannot be here
        upload_sources = [
            f"https://*.s3.{stack.region}.{stack.url_suffix}",
            f"https://*.s3.{stack.url_suffix}",
        ]
        self.content_security_policy = csp(
            api_sources=api_sources, upload_sources=upload_sources, sign_in=sign_in
        )
        # CloudFront's names are the account's, in every region: the region keeps a second
        # deployment of the stack elsewhere from taking the first one's.
        account_unique = f"{stack.stack_name}-{stack.region}-console"
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            response_headers_policy_name=f"{account_unique}-headers",
            comment="Assets Registry console: CSP, HSTS, nosniff, no framing, referrer policy",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=self.content_security_policy, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(730),
                    include_subdomains=True,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
            ),
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Assets Registry console",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(
                    self.bucket,
                    origin_access_control=cloudfront.S3OriginAccessControl(
                        self, "OriginAccess", origin_access_control_name=account_unique
                    ),
                ),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                # Honours the objects' Cache-Control: no-cache for index.html and config.json.
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=rewrite, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            web_acl_id=web_acl_arn,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_logging=True,
            log_bucket=log_bucket,
            log_file_prefix="console-cloudfront/",
        )
        self.deployments: list[s3deploy.BucketDeployment] = []

    @property
    def origin(self) -> str:
        """The console's web origin (what CORS rules name)."""
        return f"https://{self.distribution.distribution_domain_name}"

    @property
    def url(self) -> str:
        """Where the console opens, and where sign-in returns to."""
        return f"{self.origin}{CONSOLE_PATH}"

    def deploy(self, *, api_url: str, auth: Mapping[str, Any]) -> None:
        """The built files and config.json into the bucket: the hashed assets first (kept
        after later deployments, for pages still open on an older index.html), then
        index.html and config.json, which replace what else is under console/."""
        files = s3deploy.Source.asset(str(self.dist_dir))
        log_group = logs.LogGroup(self, "DeploymentLogs", retention=logs.RetentionDays.ONE_MONTH)
        assets = s3deploy.BucketDeployment(
            self,
            "Assets",
            destination_bucket=self.bucket,
            destination_key_prefix=KEY_PREFIX,
            sources=[files],
            exclude=["*"],
            include=[f"{ASSETS_DIR}/*"],
            prune=False,
            cache_control=LONG_CACHE,
            log_group=log_group,
        )
        config = {"api_url": api_url, "auth": {**auth, **self._redirect(auth)}}
        entry = s3deploy.BucketDeployment(
            self,
            "Entry",
            destination_bucket=self.bucket,
            destination_key_prefix=KEY_PREFIX,
            sources=[files, s3deploy.Source.json_data(CONFIG_FILE, config)],
            exclude=[f"{ASSETS_DIR}/*"],
            cache_control=NO_CACHE,
            log_group=log_group,
        )
        entry.node.add_dependency(assets)
        # Both deployments run in one handler (a singleton), with the first one's AWS CLI
        # layer; the second's would be a layer version nothing uses.
        entry.node.try_remove_child("AwsCliLayer")
        self.deployments = [assets, entry]

    def _redirect(self, auth: Mapping[str, Any]) -> dict[str, str]:
        if auth.get("kind") != OAUTH_KIND:
            return {}
        return {"redirect_uri": self.url, "scopes": CONSOLE_SCOPES}
