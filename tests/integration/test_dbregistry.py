"""The Assets DB registry (spec 001), including safe health checks, with API Gateway events."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from assets_core.config import get_settings
from assets_core.probe import TargetRefused, check_address
from functions.dbregistry.handler import handler
from tests.support import event, invoke


def create(**fields: Any) -> dict[str, Any]:
    request = (
        event("apigw_dbregistry_create", body=fields)
        if fields
        else event("apigw_dbregistry_create")
    )
    status, body = invoke(handler, request)
    assert status == 201, body
    return body


def at(name: str, registry_id: str, **kwargs: Any) -> dict[str, Any]:
    path = event(name)["rawPath"].rsplit("/", 1)[0] + "/" + registry_id
    return event(name, path=path, path_parameters={"registry_id": registry_id}, **kwargs)


def test_spec_create_get_update_query_delete() -> None:
    created = create()
    registry_id = created["asset_registry_id"]
    assert len(registry_id) == 36
    assert created["asset_registry_tags"] == ["image-classification", "deep-learning", "pytorch"]
    assert invoke(handler, at("apigw_dbregistry_get", registry_id)) == (200, created)
    status, updated = invoke(handler, at("apigw_dbregistry_put", registry_id))
    assert status == 200
    assert updated["asset_registry_metadata"] == {"framework": "TensorFlow", "version": "2.0"}
    assert updated["asset_registry_name"] == "ResNet Models registry"
    create(
        asset_registry_name="other",
        asset_registry_tags=["deep-learning"],
        asset_registry_metadata={"framework": "PyTorch"},
    )
    _, found = invoke(handler, event("apigw_dbregistry_query"))
    assert [r["asset_registry_name"] for r in found["items"]] == ["other"]
    status, deleted = invoke(handler, at("apigw_dbregistry_delete", registry_id))
    assert (status, deleted["deleted"]) == (200, True)
    assert invoke(handler, at("apigw_dbregistry_get", registry_id))[0] == 404


def test_the_specs_broken_put_example_is_a_clear_400() -> None:
    created = create()
    status, body = invoke(
        handler, at("apigw_dbregistry_put_spec_broken", created["asset_registry_id"])
    )
    assert status == 400
    assert "not valid JSON" in body["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"asset_registry_id": "mine"},
        {"asset_registry_public_url": "ftp://x"},
        {"asset_registry_tags": "x"},
        {"extra": 1},
    ],
)
def test_invalid_entries(body: dict[str, Any]) -> None:
    assert invoke(handler, event("apigw_dbregistry_create", body=body))[0] == 400


def test_unknown_ids_are_404() -> None:
    for name in (
        "apigw_dbregistry_get",
        "apigw_dbregistry_put",
        "apigw_dbregistry_delete",
        "apigw_dbregistry_check_health",
    ):
        status, body = invoke(handler, event(name))
        assert (status, body["error"]["code"]) == (404, "REGISTRY_NOT_FOUND"), name


def test_refused_filter_operators() -> None:
    status, body = invoke(handler, event("apigw_dbregistry_query", body={"$where": "1"}))
    assert status == 400
    assert "$where" in body["error"]["message"]


class Target:
    """A local HTTP server standing in for a registered Assets DB."""

    def __init__(self, behaviour: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                # The probe may give up first, as it should.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.answer()

            def answer(self) -> None:
                if behaviour == "slow":
                    time.sleep(3)
                if behaviour == "redirect-metadata":
                    self.send_response(302)
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                    self.end_headers()
                    return
                self.send_response(200 if self.path == "/assetdb/health" else 500)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/assetdb"

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def loopback_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "health_check_allow_loopback", True)
    monkeypatch.setattr(get_settings(), "health_check_timeout_seconds", 1.0)


def check(url: str) -> tuple[int, Any]:
    created = create(asset_registry_public_url=url)
    return invoke(handler, at("apigw_dbregistry_check_health", created["asset_registry_id"]))


@pytest.fixture
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    server = Target(request.param)
    yield server
    server.close()


@pytest.mark.usefixtures("loopback_allowed")
@pytest.mark.parametrize("target", ["ok"], indirect=True)
def test_healthy_target(target: Target) -> None:
    status, body = check(target.url)
    assert status == 200
    assert (body["healthy"], body["status_code"]) == (True, 200)
    assert {"asset_registry_id", "latency_ms", "checked_at"} <= set(body)


@pytest.mark.usefixtures("loopback_allowed")
@pytest.mark.parametrize("target", ["slow"], indirect=True)
def test_slow_target_is_answered_within_the_timeout(target: Target) -> None:
    started = time.monotonic()
    status, body = check(target.url)
    assert time.monotonic() - started < 2.5
    assert (status, body["healthy"]) == (200, False)
    assert "timed out" in body["error"]


@pytest.mark.usefixtures("loopback_allowed")
@pytest.mark.parametrize("target", ["redirect-metadata"], indirect=True)
def test_redirect_into_the_metadata_address_is_refused(target: Target) -> None:
    status, body = check(target.url)
    assert (status, body["error"]["code"]) == (400, "TARGET_NOT_ALLOWED")
    assert "link-local" in body["error"]["message"]


@pytest.mark.usefixtures("loopback_allowed")
def test_closed_port_is_unhealthy() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    status, body = check(f"http://127.0.0.1:{port}")
    assert (status, body["healthy"], body["status_code"]) == (200, False, None)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://10.0.0.5",
        "http://169.254.169.254",
        "http://[::1]:80",
        "http://192.168.1.1",
        "http://0.0.0.0",
        "http://224.0.0.1",
        "http://[::ffff:127.0.0.1]",
    ],
)
def test_private_targets_are_refused_by_default(url: str) -> None:
    status, body = check(url)
    assert (status, body["error"]["code"]) == (400, "TARGET_NOT_ALLOWED")


def test_entry_without_url_cannot_be_checked() -> None:
    created = create(asset_registry_name="no url")
    status, _ = invoke(handler, at("apigw_dbregistry_check_health", created["asset_registry_id"]))
    assert status == 400


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "93.184.216.34"])
def test_public_addresses_pass(address: str) -> None:
    check_address(address, allow_loopback=False)


def test_loopback_switch() -> None:
    with pytest.raises(TargetRefused):
        check_address("127.0.0.1", allow_loopback=False)
    check_address("127.0.0.1", allow_loopback=True)
    with pytest.raises(TargetRefused):
        check_address("169.254.169.254", allow_loopback=True)
