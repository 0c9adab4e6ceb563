"""Names used across the stack, in one place."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STACK_NAME = "AssetsRegistry"
SERVICE_NAME = "assets-registry"
METRICS_NAMESPACE = "AssetsRegistry"
CORE_LAYER_DIR = ROOT / "layers" / "core"
DEPS_LAYER_DIR = ROOT / "layers" / "deps"
LAMBDA_RUNTIME = "python3.12"
LOG_RETENTION_DAYS = 30
