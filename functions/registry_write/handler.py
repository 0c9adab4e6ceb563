"""Assets Registry write API (spec 000): create, update and delete assets."""

from assets_core.api.http import build_resolver, lambda_entry
from assets_core.api.registry import register_write

app = build_resolver()
register_write(app)
handler = lambda_entry(app)
