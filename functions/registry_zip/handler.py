"""Assets Registry ZIP API (spec 000): upload, upload status, download redirect."""

from assets_core.api import registry_zip
from assets_core.api.http import build_resolver, lambda_entry
from assets_core.config import get_settings
from assets_core.logic.uploads import too_large_for_direct
from assets_core.routes import REGISTRY

app = build_resolver(REGISTRY, registry_zip.router)
handler = lambda_entry(
    app,
    # The direct form carries the bundle in the request; multipart framing adds a little.
    max_body_bytes=get_settings().direct_upload_max_bytes + 64 * 1024,
    multipart_paths=[f"{REGISTRY}{registry_zip.UPLOAD}"],
    too_large_message=too_large_for_direct(registry_zip.limits()).message,
)
