"""The ``assets`` command as people type it: ``--json`` after the subcommand, exit 5 when the
service answers something that is not JSON, a clear word when the cli extra is missing, and a
spinner without an empty field."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from assets_client.cli import main

ROOT = Path(__file__).resolve().parents[2]


class _Answers(BaseHTTPRequestHandler):
    """GET /registry/assets/<id>: JSON for 'good', an HTML page for anything else."""

    def do_GET(self) -> None:
        good = self.path.endswith("/good")
        body = json.dumps({"asset_id": "good"}).encode() if good else b"<html>proxy</html>"
        self.send_response(200)
        self.send_header("content-type", "application/json" if good else "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_json_is_accepted_after_the_subcommand(endpoint: str) -> None:
    before = CliRunner().invoke(main, ["--endpoint", endpoint, "--json", "get", "good"])
    after = CliRunner().invoke(main, ["--endpoint", endpoint, "get", "good", "--json"])
    assert before.exit_code == after.exit_code == 0, after.output
    assert json.loads(after.stdout) == json.loads(before.stdout) == {"asset_id": "good"}
    assert "\n" not in after.stdout.strip()  # --json prints one line; text mode indents


def test_an_answer_that_is_not_json_is_a_service_failure(endpoint: str) -> None:
    result = CliRunner().invoke(main, ["--endpoint", endpoint, "get", "other"])
    assert result.exit_code == 5, result.output
    assert "not JSON" in result.stderr
    assert "Traceback" not in result.output


def test_without_the_cli_extra_the_command_says_what_to_install() -> None:
    script = "import sys; sys.modules['click'] = None; from assets_client.entry import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "client")},
        check=False,
    )
    assert result.returncode == 2
    assert "pip install 'assets-registry[cli]'" in result.stderr
    assert "Traceback" not in result.stderr
