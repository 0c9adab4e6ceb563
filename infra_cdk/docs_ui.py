"""``make docs-ui``: Swagger UI's and GraphiQL's files from npm (pinned in package.json) into
the core layer's ``assets_core/docs_ui/vendor/``, so the deployment serves them itself.

    python -m infra_cdk.docs_ui [node_modules]
"""

from __future__ import annotations

import sys
from pathlib import Path

from infra_cdk.constants import ROOT

sys.path.insert(0, str(ROOT / "layers" / "core" / "python"))
from assets_core.docs_ui import VENDOR, VENDOR_SOURCES


def build(node_modules: Path) -> list[Path]:
    """Copy the vendor files; the files written."""
    VENDOR.mkdir(exist_ok=True)
    written = []
    for name, source in VENDOR_SOURCES.items():
        origin = node_modules / source
        if not origin.is_file():
            raise SystemExit(f"{origin} is missing: run npm ci (make docs-ui does)")
        target = VENDOR / name
        target.write_bytes(origin.read_bytes())
        written.append(target)
    return written


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "node_modules"
    for path in build(source):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size:,} bytes")
