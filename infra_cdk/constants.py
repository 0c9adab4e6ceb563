"""Names and defaults used across the stack, in one place."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STACK_NAME = "AssetsRegistry"
# With the edge on: the web ACL's stack, in the one region CloudFront's web ACLs exist in.
EDGE_STACK_NAME = "AssetsRegistryEdge"
EDGE_REGION = "us-east-1"
SERVICE_NAME = "assets-registry"
METRICS_NAMESPACE = "AssetsRegistry"
CORE_LAYER_SOURCE_DIR = ROOT / "layers" / "core"
# Built by `make layer` (the source with Python 3.13 bytecode); synthesis ships it when built,
# and the source without bytecode otherwise (tests synthesize without building).
CORE_LAYER_BUILD_DIR = ROOT / "layers" / "build" / "core"
DEPS_LAYER_DIR = ROOT / "layers" / "deps"
# Built by `make console` (Vite): index.html and assets/, served by the console's distribution.
CONSOLE_DIST_DIR = ROOT / "console" / "dist"
FUNCTION_SG_PORTS = {"redis": 6379, "mongodb": 27017}

# Context keys (cdk.json or `-c key=value`) and their defaults.
CONTEXT_DEFAULTS: dict[str, object] = {
    "mongodb_mode": "documentdb",  # documentdb | uri
    "mongodb_uri_secret_name": "",  # uri mode: a Secrets Manager secret holding the URI
    # uri mode: a secret holding the URI of a read-only user, for the functions that only
    # read (empty: they use mongodb_uri_secret_name's)
    "mongodb_reader_uri_secret_name": "",
    "nat_gateways": 0,  # 0: private isolated subnets with endpoints; uri mode needs >= 1
    "upload_max_bytes": 5 * 1024**3,
    "incoming_expiry_days": 2,
    "archive_expiry_days": 7,  # large downloads' ZIPs assembled in S3, rebuilt on demand
    "stream_max_bytes": 150_000_000,  # larger ZIPs are assembled in S3 (Lambda streams 200 MB)
    "api_rate_limit": 100,
    "api_burst_limit": 200,
    "documentdb_instance_type": "t4g.medium",
    "retain_data": True,  # keep the bucket and the database when the stack is deleted
    # Identity: a Cognito user pool by default, or an external OIDC issuer and audience
    # (comma-separated client ids or aud values). open_api=true drops the authorizer: anyone
    # on the internet may then read, write and delete (README: Security).
    "auth_issuer": "",
    "auth_audience": "",
    "auth_domain_prefix": "",  # the Cognito hosted domain; default assets-<account id>
    "open_api": False,
    # The web console's sign-in with an external issuer (a public client of that issuer,
    # authorization code with PKCE, its redirect URI the ConsoleUrl output): all four or none;
    # none leaves the console deployed with sign-in not configured. With the stack's Cognito
    # pool the console has a client of its own and these stay unset.
    "console_client_id": "",
    "console_authorize_url": "",
    "console_token_url": "",
    "console_logout_url": "",
    # Each function keeps executions of its own (routes.py); false on an account whose
    # concurrency quota cannot hold them and the 100 AWS keeps unreserved.
    "reserved_concurrency": True,
    # Reached from the internet: public=true turns the edge on (CloudFront and an AWS WAF web
    # ACL in front of the API, limiting each client IP); edge=true or false forces it.
    "public": False,
    "edge": "auto",  # auto (on when public) | true | false
    "client_rate_limit": 1000,  # requests per client IP per 5 minutes; AWS WAF: 10 to 2e9
}
