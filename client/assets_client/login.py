"""``assets login``: get an access token and keep it for the next commands.

Two ways to get one:

- **AWS** (a deployed stack's Cognito user pool): the authorization code flow with PKCE, the
  way the stack's CLI app client is set up (no secret; its callback is
  ``http://localhost:8765/callback``). The command prints the sign-in URL (and opens it in a
  browser when it can), waits for Cognito to redirect back to that address with a code, and
  exchanges the code and its verifier for tokens at ``<domain>/oauth2/token``.
- **The local stack**: ``POST <endpoint>/local/token`` for a subject and roles.

The token is stored in the user's config directory (``$XDG_CONFIG_HOME/assets/token.json``,
else ``~/.config/assets/token.json``), readable by its owner only (mode 0600), with the
endpoint it is for and when it expires; commands to that endpoint send it when
``$ASSETS_TOKEN`` is not set.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

CALLBACK_PORT = 8765
CALLBACK_PATH = "/callback"
REDIRECT_URI = f"http://localhost:{CALLBACK_PORT}{CALLBACK_PATH}"


class LoginFailed(Exception):
    """The sign-in did not produce a token; the message says why."""


def token_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "assets" / "token.json"


def save(endpoint: str, access_token: str, expires_in: int) -> Path:
    """Keep the token for ``endpoint``, readable by the user alone (written as 0600 from the
    start, never briefly wider)."""
    path = token_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    record = {
        "endpoint": endpoint.rstrip("/"),
        "access_token": access_token,
        "expires_at": int(time.time()) + int(expires_in),
    }
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump(record, out)
    os.chmod(path, 0o600)  # an older file keeps its mode through O_TRUNC
    return path


def stored(endpoint: str) -> str | None:
    """The saved token for ``endpoint``, unless it has expired (or there is none)."""
    try:
        record = json.loads(token_file().read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("endpoint") != endpoint.rstrip("/"):
        return None
    if int(record.get("expires_at") or 0) <= time.time() + 30:
        return None
    token = record.get("access_token")
    return token if isinstance(token, str) and token else None


def forget() -> bool:
    """Remove the saved token; whether there was one."""
    try:
        token_file().unlink()
    except FileNotFoundError:
        return False
    return True


def local_token(endpoint: str, sub: str, roles: list[str], expires_in: int) -> dict[str, Any]:
    """A token from the local stack's issuer."""
    try:
        answer = httpx.post(
            f"{endpoint.rstrip('/')}/local/token",
            json={"sub": sub, "roles": roles, "expires_in": expires_in},
            timeout=30,
        )
    except httpx.TransportError as exc:
        raise LoginFailed(f"cannot reach {endpoint}: {exc}") from exc
    if answer.status_code == 404:
        raise LoginFailed(
            f"{endpoint} has no local token route: it is not a local stack; sign in with "
            "--auth-domain and --client-id (the stack's AuthDomain and CliClientId outputs)."
        )
    if answer.status_code != 200:
        raise LoginFailed(f"the local stack refused the token request: {answer.text[:300]}")
    return dict(answer.json())


@dataclass(frozen=True)
class Pkce:
    """One sign-in's secrets: the verifier (kept here), its challenge and the state (sent)."""

    verifier: str
    challenge: str
    state: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(64)[:96]
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        return cls(verifier=verifier, challenge=challenge, state=secrets.token_urlsafe(24))


def authorize_url(domain: str, client_id: str, pkce: Pkce, scopes: list[str]) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "state": pkce.state,
        "scope": " ".join(scopes),
    }
    return f"{domain.rstrip('/')}/oauth2/authorize?{urlencode(query)}"


def wait_for_code(pkce: Pkce, timeout: float, port: int = CALLBACK_PORT) -> str:
    """Serve the callback on localhost until the identity provider redirects to it; its code
    (the state must be this sign-in's)."""
    outcome: dict[str, str] = {}

    class Callback(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path != CALLBACK_PATH:
                self.send_error(404)
                return
            if params.get("state") != pkce.state:
                outcome["error"] = "the callback's state is not this sign-in's"
            elif "code" in params:
                outcome["code"] = params["code"]
            else:
                outcome["error"] = params.get("error_description") or params.get("error", "?")
            body = b"Signed in; you can close this window." if "code" in outcome else b"Failed."
            self.send_response(200 if "code" in outcome else 400)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:  # quiet
            pass

    server = HTTPServer(("127.0.0.1", port), Callback)
    server.timeout = 0.5
    deadline = time.monotonic() + timeout
    try:
        while not outcome and time.monotonic() < deadline:
            server.handle_request()
    finally:
        server.server_close()
    if "code" in outcome:
        return outcome["code"]
    raise LoginFailed(outcome.get("error") or f"no sign-in within {timeout:.0f} s")


def exchange(domain: str, client_id: str, code: str, pkce: Pkce) -> dict[str, Any]:
    """The tokens for an authorization code and its verifier."""
    try:
        answer = httpx.post(
            f"{domain.rstrip('/')}/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "client_id": client_id,
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": pkce.verifier,
            },
            timeout=30,
        )
    except httpx.TransportError as exc:
        raise LoginFailed(f"cannot reach {domain}: {exc}") from exc
    if answer.status_code != 200:
        raise LoginFailed(f"the token endpoint refused the code: {answer.text[:300]}")
    tokens = dict(answer.json())
    if not tokens.get("access_token"):
        raise LoginFailed("the token endpoint answered no access_token")
    return tokens


def pkce_login(
    domain: str,
    client_id: str,
    scopes: list[str],
    *,
    show: Callable[[str], None],
    timeout: float = 300.0,
    port: int = CALLBACK_PORT,
) -> dict[str, Any]:
    """Sign in through the browser: ``show`` gets the URL to open; the tokens."""
    pkce = Pkce.new()
    result: dict[str, Any] = {}

    def serve() -> None:
        try:
            result["code"] = wait_for_code(pkce, timeout, port)
        except (LoginFailed, OSError) as exc:
            result["error"] = exc

    waiter = threading.Thread(target=serve, daemon=True)
    waiter.start()
    show(authorize_url(domain, client_id, pkce, scopes))
    waiter.join()
    if "error" in result:
        error = result["error"]
        raise error if isinstance(error, LoginFailed) else LoginFailed(str(error))
    return exchange(domain, client_id, result["code"], pkce)
