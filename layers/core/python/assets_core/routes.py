"""The one route table: API group -> Lambda handler -> (method, path).

The local gateway serves it and the CDK stack turns it into API Gateway routes. Paths use API
Gateway's syntax: ``{name}`` is one segment, ``{name+}`` the rest of the path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

# Who may call a route: anyone (a prefix's health, API document and docs, and the GraphiQL
# page a browser opens), a reader, or a writer. Each route's is decided here once; the
# functions check it (``api.access``), the local gateway and API Gateway's authorizer cover
# every route that is not public. A GraphQL query sent by GET (on the page's public route)
# runs for an anonymous caller; clients with a token send queries by POST.
PUBLIC = "public"
READ = "read"
WRITE = "write"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    # Empty: GET reads and every other method writes.
    access_given: str = field(default="", compare=False)

    @property
    def access(self) -> str:
        """``PUBLIC``, ``READ`` or ``WRITE``."""
        if self.access_given:
            return self.access_given
        return READ if self.method in ("GET", "HEAD") else WRITE

    @property
    def route_key(self) -> str:
        """API Gateway's route key, e.g. ``GET /registry/query/by-id/{asset_id}``."""
        return f"{self.method} {self.path}"

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """A regex matching the request paths of this route, with its path parameters."""
        parts = []
        for segment in self.path.strip("/").split("/"):
            greedy = re.fullmatch(r"\{(\w+)\+\}", segment)
            single = re.fullmatch(r"\{(\w+)\}", segment)
            if greedy:
                parts.append(f"(?P<{greedy.group(1)}>.+)")
            elif single:
                parts.append(f"(?P<{single.group(1)}>[^/]+)")
            else:
                parts.append(re.escape(segment))
        return re.compile("^/" + "/".join(parts) + "$")

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters when this route serves the request, else None."""
        if method != self.method:
            return None
        found = self.pattern.match(path)
        return found.groupdict() if found else None


@dataclass(frozen=True)
class ApiGroup:
    """One Lambda function serving a group of routes."""

    name: str
    prefix: str
    routes: tuple[Route, ...]
    memory_mb: int = 512
    timeout_s: int = 29
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    # Executions kept for this function alone, and its ceiling: downloads or a burst on one
    # API group cannot take the account's concurrency from the others.
    reserved_concurrency: int = 20
    # The database user it connects as in AWS: READ_ONLY or READ_WRITE.
    database: str = "read-write"

    @property
    def module(self) -> str:
        """The handler module, importable from the repository root."""
        return f"functions.{self.name}.handler"

    @property
    def code_dir(self) -> str:
        """The folder shipped as the function's code."""
        return f"functions/{self.name}"


# Database users: the functions that only read connect as a user that cannot write.
READ_ONLY = "read-only"
READ_WRITE = "read-write"
NO_DATABASE = "none"  # reads only the object store


def _routes(prefix: str, *pairs: tuple[str, str] | tuple[str, str, str]) -> tuple[Route, ...]:
    """Routes under ``prefix``: (method, path) or (method, path, access)."""
    return tuple(Route(pair[0], prefix + pair[1], *pair[2:]) for pair in pairs)


# Every prefix answers these (served by one of its groups).
SERVICE_ROUTES = (
    ("GET", "/health", PUBLIC),
    ("GET", "/openapi.json", PUBLIC),
    ("GET", "/docs", PUBLIC),
    ("GET", "/docs/{asset}", PUBLIC),  # Swagger UI's and GraphiQL's files, from the deployment
)


def is_public(route: Route) -> bool:
    """A route anyone may call, without a token: a prefix's health, API document and docs,
    and the GraphiQL pages."""
    return route.access == PUBLIC


REGISTRY = "/registry"
COMPONENTS = "/components"
ASSETDB = "/assetdb"
DBREGISTRY = "/dbregistry"
COMPONENT_OPERATIONS = (
    "registerComponent",
    "unregisterComponent",
    "updateComponent",
    "addMetadata",
    "updateMetadata",
    "getByType",
    "getByURI",
    "query",
)
COMPONENT_READS = frozenset({"getByType", "getByURI", "query"})

API_GROUPS: tuple[ApiGroup, ...] = (
    ApiGroup(
        name="registry_write",
        prefix=REGISTRY,
        description="Assets Registry: create, update, delete and restore assets; versions and "
        "aliases; read credentials",
        routes=_routes(
            REGISTRY,
            ("POST", "/assets"),
            ("PUT", "/assets/{asset_id}"),
            ("DELETE", "/assets/{asset_id}"),
            ("POST", "/assets/{asset_id}/restore"),
            ("POST", "/assets/{asset_id}/versions"),
            ("DELETE", "/assets/{asset_id}/versions/{version}"),
            ("POST", "/assets/{asset_id}/versions/{version}/restore"),
            ("PUT", "/assets/{asset_id}/aliases/{alias}"),
            ("DELETE", "/assets/{asset_id}/aliases/{alias}"),
            ("POST", "/assets/{asset_id}/lineage"),
            ("GET", "/assets/{asset_id}/credentials"),
        ),
    ),
    ApiGroup(
        name="registry_query",
        prefix=REGISTRY,
        description="Assets Registry: read and search assets and their files; health and API "
        "documents",
        database=READ_ONLY,
        routes=_routes(
            REGISTRY,
            ("GET", "/assets"),
            ("GET", "/assets/{asset_id}"),
            ("GET", "/assets/{asset_id}/versions"),
            ("GET", "/assets/{asset_id}/versions/{version}"),
            ("GET", "/assets/{asset_id}/lineage"),
            ("GET", "/audit"),
            ("GET", "/assets/{asset_id}/files"),
            ("GET", "/assets/{asset_id}/files/{path+}"),
            ("HEAD", "/assets/{asset_id}/files/{path+}"),
            ("GET", "/query/by-id/{asset_id}"),
            ("GET", "/query/by-type/{asset_type}"),
            ("GET", "/query/by-sub-type/{sub_type}"),
            ("GET", "/query/by-tag/{tag}"),
            ("GET", "/query/by-api-route/{route+}"),
            ("POST", "/query/search", READ),
            ("POST", "/query/facets", READ),
            ("POST", "/content/missing", READ),
            *SERVICE_ROUTES,
        ),
    ),
    ApiGroup(
        name="registry_graphql",
        prefix=REGISTRY,
        description="Assets Registry: read-only GraphQL",
        database=READ_ONLY,
        routes=_routes(REGISTRY, ("GET", "/graphql", PUBLIC), ("POST", "/graphql", READ)),
    ),
    ApiGroup(
        name="registry_zip",
        prefix=REGISTRY,
        description="Assets Registry: ZIP upload, upload status, download redirect and status",
        routes=_routes(
            REGISTRY,
            ("POST", "/zip/upload"),
            ("GET", "/zip/status/{upload_id}"),
            ("GET", "/zip/download/{asset_id}"),
            ("GET", "/zip/download/{asset_id}/status"),
            ("GET", "/uploads/{upload_id}"),
            ("POST", "/uploads/{upload_id}/parts"),
            ("POST", "/uploads/{upload_id}/complete"),
            ("DELETE", "/uploads/{upload_id}"),
        ),
    ),
    ApiGroup(
        name="components",
        prefix=COMPONENTS,
        description="Component registry: REST and read-only GraphQL",
        routes=_routes(
            COMPONENTS,
            *(
                ("POST", f"/api/{operation}", READ if operation in COMPONENT_READS else WRITE)
                for operation in COMPONENT_OPERATIONS
            ),
            ("GET", "/gql", PUBLIC),
            ("POST", "/gql", READ),
            *SERVICE_ROUTES,
        ),
    ),
    ApiGroup(
        name="assetdb",
        prefix=ASSETDB,
        description="Assets DB: files with metadata",
        routes=_routes(
            ASSETDB,
            ("POST", "/upload_asset"),
            ("POST", "/asset"),
            ("GET", "/asset/{asset_uri}"),
            ("PUT", "/asset/{asset_uri}"),
            ("DELETE", "/asset/{asset_uri}"),
            ("GET", "/asset-by-id/{asset_id}"),
            ("PUT", "/asset-by-id/{asset_id}"),
            ("DELETE", "/asset-by-id/{asset_id}"),
            ("POST", "/assets", READ),
            ("GET", "/asset-object/{asset_id}"),
            ("HEAD", "/asset-object/{asset_id}", READ),
            ("GET", "/uploads/{upload_id}"),
            ("POST", "/uploads/{upload_id}/parts"),
            ("POST", "/uploads/{upload_id}/complete"),
            ("DELETE", "/uploads/{upload_id}"),
            *SERVICE_ROUTES,
        ),
    ),
    ApiGroup(
        name="dbregistry",
        prefix=DBREGISTRY,
        description="Assets DB registry: the directory of Assets DBs",
        timeout_s=15,
        routes=_routes(
            DBREGISTRY,
            ("POST", "/asset_registry"),
            ("GET", "/asset_registry/{registry_id}"),
            ("PUT", "/asset_registry/{registry_id}"),
            ("DELETE", "/asset_registry/{registry_id}"),
            ("POST", "/asset_registries", READ),
            ("GET", "/check_health/{registry_id}"),
            *SERVICE_ROUTES,
        ),
    ),
)


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function outside the HTTP API: an event consumer or a function URL."""

    name: str
    description: str
    memory_mb: int
    timeout_s: int
    reserved_concurrency: int
    local_path: str = ""  # where the local gateway mounts a function URL
    database: str = READ_WRITE  # READ_ONLY: connects as the database user that cannot write
    in_vpc: bool = True  # False: reads only S3, so it runs outside the VPC
    environment: Mapping[str, str] = field(default_factory=dict)  # set before the process starts

    @property
    def module(self) -> str:
        return f"functions.{self.name}.handler"

    @property
    def code_dir(self) -> str:
        return f"functions/{self.name}"


# glibc raises its mmap threshold to the largest block freed (up to 32 MiB); after that the
# 1-8 MiB buffers that ingest's reading and uploading threads pass around come from per-thread
# heaps, which fragment and are not returned. Measured on the 1 GiB benchmark bundle with three
# reads: peak RSS 191-198 MiB, and 147 MiB with the threshold fixed at 256 KiB, where every
# such buffer is a mapping of its own, returned when freed.
FIXED_MMAP_THRESHOLD = {"MALLOC_MMAP_THRESHOLD_": str(256 * 1024)}

INGEST = FunctionSpec(
    name="ingest",
    description="Ingests uploaded ZIP bundles (S3 ObjectCreated on incoming/ through SQS)",
    memory_mb=1024,
    timeout_s=900,
    reserved_concurrency=10,  # also the most its queue hands it at once
    environment=FIXED_MMAP_THRESHOLD,
)
JANITOR = FunctionSpec(
    name="janitor",
    description="Settles dead-lettered uploads; sweeps unreferenced objects daily",
    memory_mb=512,
    timeout_s=900,
    reserved_concurrency=3,  # two dead-letter settles and the daily sweep
)
PURGE = FunctionSpec(
    name="purge",
    description="Purges deleted assets and versions past RETENTION_DAYS and the content no "
    "version holds (hourly); runs the one-off migration when invoked with action migrate",
    memory_mb=512,
    timeout_s=900,
    reserved_concurrency=1,  # one run at a time: each purge step is idempotent, not parallel
)
# Publishes what the outbox still holds to the event bus, every minute.
OUTBOX = FunctionSpec(
    name="outbox",
    description="Publishes audit records still in the outbox to the EventBridge bus (every "
    "minute), oldest first per resource",
    memory_mb=256,
    timeout_s=55,  # done before the next minute's run
    reserved_concurrency=1,  # one drainer of the whole outbox at a time
)
# Outside the VPC: a function URL streams only from a function that is not VPC-attached.
# It reads the manifest its signed link names and the files listed there, nothing else.
DOWNLOAD = FunctionSpec(
    name="registry_download",
    description="Streams an asset as a ZIP (function URL, response streaming)",
    memory_mb=1024,
    timeout_s=900,
    reserved_concurrency=20,
    local_path=f"{REGISTRY}/zip/stream",
    database=NO_DATABASE,
    in_vpc=False,
)
# Assembles large assets' ZIPs in S3 from the build requests the download route writes.
ARCHIVE_BUILDER = FunctionSpec(
    name="archive_builder",
    description="Assembles large assets' ZIPs server-side in S3 (S3 ObjectCreated on "
    "archives/*.build.json through SQS)",
    memory_mb=1024,
    timeout_s=900,
    reserved_concurrency=5,  # also the most its queue hands it at once
    database=NO_DATABASE,
    in_vpc=False,
)


DATABASE_USERS = FunctionSpec(
    name="database_users",
    description="Creates and updates the stack's DocumentDB users (at deploy time)",
    memory_mb=256,
    timeout_s=300,
    reserved_concurrency=1,  # one deployment at a time
)


def reserved_concurrency() -> int:
    """The executions the stack's functions reserve, together."""
    specs = (INGEST, JANITOR, PURGE, OUTBOX, DOWNLOAD, ARCHIVE_BUILDER, DATABASE_USERS)
    return sum(g.reserved_concurrency for g in API_GROUPS) + sum(
        f.reserved_concurrency for f in specs
    )


def all_routes() -> list[tuple[ApiGroup, Route]]:
    return [(group, route) for group in API_GROUPS for route in group.routes]


_BY_ROUTE_KEY = {route.route_key: route for _, route in all_routes()}
# The routes of the functions that connect as the read-only database user.
READ_ONLY_ROUTES = frozenset(route for group, route in all_routes() if group.database == READ_ONLY)


def route_of(route_key: str | None, method: str, path: str) -> Route | None:
    """The route an API Gateway event is for: the one its method and path name, which the
    resolver runs (API Gateway's ``routeKey`` agrees; an event made otherwise must not borrow
    a public route's key), else its ``routeKey``."""
    found = find_route(method, path)
    return found[1] if found else _BY_ROUTE_KEY.get(route_key or "")


def find_route(method: str, path: str) -> tuple[ApiGroup, Route, dict[str, str]] | None:
    """The group and route serving a request, as API Gateway would choose it: an exact path
    first, then the route with the most literal segments, a greedy route last."""
    candidates = []
    for group, route in all_routes():
        params = route.match(method, path)
        if params is not None:
            greedy = "+}" in route.path
            literal = sum(1 for s in route.path.split("/") if s and not s.startswith("{"))
            candidates.append(((greedy, -literal), group, route, params))
    if not candidates:
        return None
    candidates.sort(key=lambda c: c[0])
    _, group, route, params = candidates[0]
    return group, route, params
