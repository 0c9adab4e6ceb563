"""The one model of the process environment; nothing else reads ``os.environ``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from assets_core.identity import PRIVATE, Visibility

MIB = 1024 * 1024
LAMBDA_STREAM_MAX_BYTES = 200_000_000  # a streamed Lambda response stops at 200 MB


class Settings(BaseModel):
    """Configuration of every function and of the local stack, read once per process. Each
    field is set by the environment variable of its name in upper case (or its alias)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    service_name: str = Field(default="assets-registry", alias="POWERTOOLS_SERVICE_NAME")
    metrics_namespace: str = Field(default="AssetsRegistry", alias="POWERTOOLS_METRICS_NAMESPACE")
    # MongoDB: a URI (DocumentDB, Atlas, a local server); empty means in-process mongomock.
    mongodb_uri: str = ""
    # In AWS: a Secrets Manager secret holding the URI, or DocumentDB's generated credentials.
    mongodb_secret_arn: str = ""
    mongodb_database: str = "assets"
    # A function that connects as the read-only database user (routes.READ_ONLY): it creates
    # no indexes (the writers do) and its stores refuse writes before the database would.
    mongodb_read_only: bool = False
    # Server-side time limit of every query (MongoDB maxTimeMS; enforced on regexes locally).
    query_max_time_ms: int = Field(default=2000, ge=10, le=60_000)
    # Object store: empty endpoint means AWS S3 itself.
    s3_endpoint_url: str = ""
    bucket_name: str = "assets-registry"
    # Upload status: empty means in-process fakeredis.
    redis_url: str = ""
    upload_status_ttl_days: int = Field(default=7, ge=1, le=365)
    # How long a deleted asset or version stays restorable before the purge removes it.
    retention_days: float = Field(default=7, ge=0, le=3650)
    # ZIP bundles.
    upload_max_bytes: int = Field(default=5 * 1024 * MIB, ge=1)
    direct_upload_max_bytes: int = Field(default=5 * MIB, ge=1)
    upload_url_expiry_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    # Upload sessions (bundles and Assets DB files sent in parts): past this size an upload
    # is a session unless the client asks otherwise; up to the largest object S3 stores; a
    # session not completed in its time is aborted (the bucket's rule aborts the store's
    # upload a day after it started at the latest, so the time is at most a day).
    multipart_threshold_bytes: int = Field(default=100 * MIB, ge=5 * MIB)
    upload_session_max_bytes: int = Field(default=5 * 1024 * 1024 * MIB, ge=5 * MIB)
    upload_part_bytes: int = Field(default=16 * MIB, ge=5 * MIB, le=5 * 1024 * MIB)
    upload_session_ttl: int = Field(default=24 * 3600, ge=60, le=24 * 3600)
    bundle_max_members: int = Field(default=10_000, ge=1)
    bundle_max_expanded_bytes: int = Field(default=10 * 1024 * MIB, ge=1)
    bundle_max_ratio: int = Field(default=100, ge=1)
    ingest_part_bytes: int = Field(default=8 * MIB, ge=5 * MIB)
    ingest_copy_min_bytes: int = Field(default=5 * MIB, ge=5 * MIB)
    ingest_copy_part_bytes: int = Field(default=512 * MIB, ge=5 * MIB, le=5 * 1024 * MIB)
    ingest_upload_threads: int = Field(default=3, ge=1, le=16)
    ingest_read_streams: int = Field(default=3, ge=1, le=8)
    # Ingest stops this long before the function's deadline, to clean up and say why.
    ingest_stop_margin_seconds: int = Field(default=30, ge=1, le=300)
    # A run ingests for at most this long (0: until the function's deadline, less the
    # margin) before the next run goes on from the members it stored; at most this many runs.
    ingest_run_seconds: int = Field(default=0, ge=0, le=900)
    ingest_max_runs: int = Field(default=20, ge=1, le=1000)
    # Assets DB (spec 001): this deployment's id and the base of asset_public_url.
    assets_db_id: str = "assets-db-local"
    public_base_url: str = ""
    assetdb_direct_max_bytes: int = Field(default=5 * MIB, ge=1)
    assetdb_max_bytes: int = Field(default=5 * 1024 * MIB, ge=1)
    # Health checks of registered Assets DBs: loopback is refused unless allowed (make run).
    health_check_allow_loopback: bool = False
    health_check_timeout_seconds: float = Field(default=5.0, gt=0, le=5.0)
    # Downloads: the streaming endpoint (a function URL in AWS) and its HMAC token.
    download_url: str = ""
    download_signing_key: str = ""
    download_signing_key_secret_arn: str = ""
    download_token_ttl_seconds: int = Field(default=300, ge=10, le=24 * 3600)
    # A ZIP up to this size streams from the download function (Lambda caps a streamed
    # response at 200 MB); a larger one is assembled in S3 and fetched by a presigned GET.
    stream_max_bytes: int = Field(default=150_000_000, ge=1, le=LAMBDA_STREAM_MAX_BYTES)
    # Container registry credentials: one Secrets Manager secret each, named with this prefix;
    # empty keeps them in the documents (never shown by a read either way).
    credentials_secret_prefix: str = ""
    # Identity: reads without a token (public records only); a record's visibility when its
    # creator gives none; an open deployment, where every caller without a token acts as an
    # admin (``-c open_api=true``; see the README's security notes).
    anonymous_reads: bool = False
    default_visibility: Visibility = PRIVATE
    open_access: bool = False
    # Behind the edge: the secret CloudFront sends as X-Origin-Verify (api/access.py).
    origin_verify_secret_arn: str = ""
    # Largest JSON request body a REST or GraphQL endpoint accepts.
    max_body_bytes: int = Field(default=1 * MIB, ge=1024)
    # Change events: the EventBridge bus every audit record is published to (empty: none;
    # the records stay in the outbox until one is set).
    event_bus_name: str = ""
    # GraphQL limits.
    graphql_max_depth: int = Field(default=8, ge=2, le=32)
    graphql_max_cost: int = Field(default=5_000, ge=10)
    # Root fields (aliases included) per GraphQL request: each runs its own database query.
    graphql_max_root_fields: int = Field(default=10, ge=1, le=100)


def from_environment(environ: Mapping[str, str]) -> Settings:
    """Settings from environment variables (names matched without regard to case).

    A plain pydantic model rather than pydantic-settings: the environment is all this reads,
    and pydantic-settings' source providers cost a cold start about 80 ms for nothing used."""
    upper = {name.upper(): value for name, value in environ.items()}
    values: dict[str, str] = {}
    for name, field in Settings.model_fields.items():
        key = (field.alias or name).upper()
        if key in upper:
            values[field.alias or name] = upper[key]
    return Settings.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return from_environment(os.environ)
