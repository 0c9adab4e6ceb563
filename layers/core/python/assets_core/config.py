"""The one model of the process environment; nothing else reads ``os.environ``."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class Settings(BaseSettings):
    """Configuration of every function and of the local stack, read once per process."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    service_name: str = Field(default="assets-registry", alias="POWERTOOLS_SERVICE_NAME")
    # MongoDB: a URI (DocumentDB, Atlas, a local server); empty means in-process mongomock.
    mongodb_uri: str = ""
    mongodb_database: str = "assets"
    # Server-side time limit of every query (MongoDB maxTimeMS; enforced on regexes locally).
    query_max_time_ms: int = Field(default=2000, ge=10, le=60_000)
    # Object store: empty endpoint means AWS S3 itself.
    s3_endpoint_url: str = ""
    bucket_name: str = "assets-registry"
    # Upload status: empty means in-process fakeredis.
    redis_url: str = ""
    # Largest JSON request body a REST or GraphQL endpoint accepts.
    max_body_bytes: int = Field(default=1 * MIB, ge=1024)
    # GraphQL limits.
    graphql_max_depth: int = Field(default=8, ge=2, le=32)
    graphql_max_cost: int = Field(default=20_000, ge=10)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings()
