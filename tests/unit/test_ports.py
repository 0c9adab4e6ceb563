"""Logic depends on ports, never on drivers: importing any logic module loads no database,
object-store or cache driver (the Protocols and plain values live in ``assets_core.ports``)."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

import assets_core.logic
from infra_cdk.constants import ROOT

DRIVERS = ("pymongo", "bson", "botocore", "boto3", "redis", "mongomock", "fakeredis", "moto")
LOGIC = sorted(m.name for m in pkgutil.iter_modules(assets_core.logic.__path__))


def loaded_drivers(module: str) -> list[str]:
    probe = (
        "import json, sys; import importlib; importlib.import_module(sys.argv[1]); "
        f"print(json.dumps(sorted(n for n in {DRIVERS!r} if n in sys.modules)))"
    )
    answer = subprocess.run(
        [sys.executable, "-c", probe, module],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "layers" / "core" / "python")},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found: list[str] = json.loads(answer.stdout)
    return found


def test_every_logic_module_is_checked() -> None:
    assert {"assets", "assetdb", "bundles", "components", "janitor"} <= set(LOGIC)


@pytest.mark.parametrize("module", LOGIC)
def test_a_logic_module_loads_no_driver(module: str) -> None:
    assert loaded_drivers(f"assets_core.logic.{module}") == []


def test_the_ports_load_no_driver() -> None:
    assert loaded_drivers("assets_core.ports") == []


def test_the_probe_sees_a_driver_when_one_is_loaded() -> None:
    assert "pymongo" in loaded_drivers("assets_core.stores.documents")


def logic_loaded_by(statements: str) -> list[str]:
    """The logic modules a fresh interpreter holds after ``statements``."""
    probe = (
        f"import json, sys; {statements}; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('assets_core.logic'))))"
    )
    answer = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "layers" / "core" / "python"), "MONGODB_URI": "mongomock://"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded: list[str] = json.loads(answer.stdout)
    return loaded


def test_the_store_factories_import_no_logic() -> None:
    # Adapters -> plain names (assets_core.collections), never adapters -> logic.
    assert (
        logic_loaded_by(
            "import assets_core.stores.factory as r; r.assets_store(); r.components_store(); "
            "r.assetdb_store(); r.dbregistry_store()"
        )
        == []
    )


def test_the_audit_adapters_import_no_logic() -> None:
    assert logic_loaded_by("import assets_core.stores.audit") == []
