"""Swagger UI and GraphiQL come from the deployment, not a public CDN. In headless
Chromium (playwright-core), with every request off the stack refused, each page renders and
runs a call; the pages carry a content security policy of script-src 'self'."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from infra_cdk.constants import ROOT
from tests.e2e.stack import client, token_for
from tests.support import make_asset

pytestmark = pytest.mark.e2e
SCRIPT = ROOT / "tests" / "browser" / "docs_pages.mjs"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def browser_run(stack_url: str, tmp_path: Path) -> tuple[dict, Path, str]:
    if not CHROMIUM.exists() or shutil.which("node") is None:
        pytest.fail("The browser tests need Node.js and /usr/bin/chromium (make test installs it)")
    asset_id = f"shown-{uuid.uuid4().hex[:8]}"
    with client(stack_url, timeout=10) as http:
        assert http.post("/registry/assets", json=make_asset(asset_id)).status_code == 201
    run = subprocess.run(
        ["node", str(SCRIPT), stack_url, str(tmp_path), asset_id, token_for(stack_url)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    with client(stack_url, timeout=10) as http:
        http.delete(f"/registry/assets/{asset_id}")
    return json.loads(run.stdout), tmp_path, asset_id


def test_swagger_ui_and_graphiql_work_with_nothing_from_off_the_stack(
    browser_run: tuple[dict, Path, str],
) -> None:
    result, shots, asset_id = browser_run
    assert result["errors"] == []
    assert result["offSite"] == []  # nothing asked of a CDN or any other host
    swagger, graphiql = result["swagger"], result["graphiql"]
    assert swagger["operations"] >= 10
    assert swagger["status"] == "200"
    assert json.loads(swagger["body"]) == {"status": "ok"}
    assert asset_id in graphiql["response"]
    assert result["components"] == {"rendered": True}
    for page in (swagger, graphiql):
        assert "script-src 'self'" in page["csp"]
    for name in ("swagger-ui.png", "graphiql.png"):
        assert (shots / name).stat().st_size > 20_000  # a rendered page, not a blank one


def test_only_the_named_files_are_served(stack_url: str) -> None:
    with client(stack_url, timeout=10) as http:
        served = http.get(
            "/registry/docs/swagger-ui-bundle.js", headers={"Accept-Encoding": "gzip"}
        )
        assert served.status_code == 200
        assert served.headers["content-type"].startswith("text/javascript")
        assert served.headers["content-encoding"] == "gzip"  # 1.7 MB of script, compressed
        for name in ("..%2F__init__.py", "__init__.py", "vendor", "swagger-init.js.bak"):
            answer = http.get(f"/registry/docs/{name}")
            assert answer.status_code == 404, name
            assert answer.json()["success"] is False


def test_every_served_file_fits_a_buffered_lambda_response() -> None:
    # Lambda answers at most 6 MB; a text body travels JSON-escaped when sent uncompressed.
    from assets_core.docs_ui import ASSETS, asset

    for name in ASSETS:
        found = asset(name)
        assert found is not None, f"{name} is not built (make docs-ui)"
        assert len(json.dumps(found.body).encode()) < 6_000_000, name
