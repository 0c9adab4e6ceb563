"""``assets login``: the PKCE sign-in against a stand-in for Cognito's endpoints, and the
token kept for the user alone."""

from __future__ import annotations

import json
import socket
import stat
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from assets_client import login


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    return tmp_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def token_endpoint() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A stand-in for ``<domain>/oauth2/token``: it records each form it is sent and answers
    a token when the verifier matches the challenge the test registers."""
    received: list[dict[str, str]] = []

    class Token(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            received.append(form)
            body = json.dumps({"access_token": "tok-" + form["code"], "expires_in": 60}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Token)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def browser(port: int, *, state: str | None = None) -> Any:
    """A browser that signs in at once: Cognito redirects it to the callback with a code."""

    def show(url: str) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert query["code_challenge_method"] == "S256"
        assert query["redirect_uri"] == login.REDIRECT_URI
        sent_state = query["state"] if state is None else state

        def redirect() -> None:
            for _ in range(50):
                try:
                    httpx.get(
                        f"http://127.0.0.1:{port}/callback",
                        params={"code": "c0de", "state": sent_state},
                        timeout=2,
                    )
                    return
                except httpx.TransportError:
                    time.sleep(0.05)

        threading.Thread(target=redirect, daemon=True).start()

    return show


def test_pkce_sign_in_exchanges_the_code_with_its_verifier(
    token_endpoint: tuple[str, list[dict[str, str]]],
) -> None:
    domain, received = token_endpoint
    port = free_port()
    tokens = login.pkce_login(domain, "cli-client", ["openid"], show=browser(port), port=port)
    assert tokens["access_token"] == "tok-c0de"
    [form] = received
    assert (form["grant_type"], form["client_id"], form["code"]) == (
        "authorization_code",
        "cli-client",
        "c0de",
    )
    assert 43 <= len(form["code_verifier"]) <= 128  # RFC 7636


def test_a_callback_with_another_state_is_refused(
    token_endpoint: tuple[str, list[dict[str, str]]],
) -> None:
    domain, received = token_endpoint
    port = free_port()
    with pytest.raises(login.LoginFailed, match="state"):
        login.pkce_login(
            domain, "cli-client", [], show=browser(port, state="forged"), port=port, timeout=5
        )
    assert received == []  # no code was exchanged


def test_the_challenge_is_the_verifiers_sha256() -> None:
    import base64
    import hashlib

    pkce = login.Pkce.new()
    digest = hashlib.sha256(pkce.verifier.encode()).digest()
    assert pkce.challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert login.Pkce.new().state != pkce.state


def test_the_token_is_kept_for_its_owner_and_endpoint_only(config_home: Path) -> None:
    path = login.save("http://127.0.0.1:3000/", "secret-token", 3600)
    assert path == config_home / "assets" / "token.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert login.stored("http://127.0.0.1:3000") == "secret-token"
    assert login.stored("https://elsewhere.example") is None
    login.save("http://127.0.0.1:3000", "about-to-expire", 10)
    assert login.stored("http://127.0.0.1:3000") is None  # within the 30 s margin
    assert login.forget() is True
    assert login.forget() is False


def test_a_token_file_made_wider_is_narrowed_when_written_again(config_home: Path) -> None:
    path = login.save("http://x", "t", 3600)
    path.chmod(0o644)
    login.save("http://x", "t2", 3600)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
