"""Assets Registry write API (spec 000): create, update and delete assets."""

from assets_core.api import registry_write
from assets_core.api.http import build_resolver, lambda_entry
from assets_core.routes import REGISTRY

app = build_resolver(REGISTRY, registry_write.router)
handler = lambda_entry(app)
