"""Assets DB (spec 001): files with metadata, found by URI or query."""

from assets_core.api import assetdb
from assets_core.api.http import ApiDocs, build_resolver, lambda_entry
from assets_core.config import get_settings
from assets_core.routes import ASSETDB

app = build_resolver(ASSETDB, assetdb.router, docs=ApiDocs("Assets DB", (assetdb.router,)))
handler = lambda_entry(
    app,
    # The form carries the file in the request; its framing and metadata add a little.
    max_body_bytes=get_settings().assetdb_direct_max_bytes + 64 * 1024,
    multipart_paths=[f"{ASSETDB}{assetdb.UPLOAD}"],
    too_large_message=assetdb.too_large().message,
)
