"""Assets Registry query API (spec 000): reads, typed queries, filter search, health, docs."""

from assets_core.api.http import build_resolver, lambda_entry, register_service_routes
from assets_core.api.registry import REGISTRY_REST, register_query
from assets_core.routes import REGISTRY

app = build_resolver()
register_query(app)
register_service_routes(app, prefix=REGISTRY, title="Assets Registry", registrars=REGISTRY_REST)
handler = lambda_entry(app)
