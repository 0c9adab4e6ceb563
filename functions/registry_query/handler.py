"""Assets Registry query API (spec 000): reads, typed queries, filter search, health, docs."""

from assets_core.api import registry_query, registry_write, registry_zip
from assets_core.api.http import ApiDocs, build_resolver, lambda_entry
from assets_core.routes import REGISTRY

# The prefix's documents describe the routes of its three REST functions.
DOCS = ApiDocs(
    "Assets Registry", (registry_write.router, registry_query.router, registry_zip.router)
)
app = build_resolver(REGISTRY, registry_query.router, docs=DOCS)
handler = lambda_entry(app)
