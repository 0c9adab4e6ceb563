"""Assets Registry read-only GraphQL (spec 000). Every request of this function is a GraphQL
request, so the schema's modules are imported with the function, during its init phase."""

from assets_core.api.graphql import graphql_router
from assets_core.api.http import build_resolver, lambda_entry
from assets_core.graphql.registry import COST_MAP, registry_schema
from assets_core.routes import REGISTRY

app = build_resolver(
    REGISTRY, graphql_router(REGISTRY, "/graphql", lambda: (registry_schema(), COST_MAP))
)
handler = lambda_entry(app)
