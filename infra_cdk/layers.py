"""``make layer``'s last step: the layers as Lambda loads them, with bytecode compiled by
Python 3.13 (Lambda's runtime) so that a cold start reads ``.pyc`` files instead of compiling
every module it imports.

The bytecode is ``unchecked-hash``: Lambda mounts layers read-only under /opt with file times
it sets itself, so timestamp-checked ``.pyc`` files would be judged stale and compiled again
on every cold start (and could not be written back). The core layer is built from its source
into ``layers/build/core``; the dependencies layer is compiled where ``make layer`` put it."""

from __future__ import annotations

import compileall
import importlib.util
import py_compile
import shutil
import sys
from pathlib import Path

from infra_cdk.constants import CORE_LAYER_BUILD_DIR, CORE_LAYER_SOURCE_DIR, DEPS_LAYER_DIR

RUNTIME_TAG = "cpython-313"


def compile_tree(directory: Path) -> None:
    """Compile every module under ``directory`` for this interpreter, unchecked-hash."""
    if sys.implementation.cache_tag != RUNTIME_TAG:
        raise SystemExit(
            f"Layers are compiled by Python 3.13 (Lambda's runtime); this is "
            f"{sys.version.split()[0]}. Run `make layer`, which uses the project's 3.13."
        )
    ok = compileall.compile_dir(
        directory,
        quiet=1,
        force=True,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    if not ok:
        raise SystemExit(f"Some modules under {directory} did not compile.")


def missing_bytecode(directory: Path) -> list[str]:
    """The modules under ``directory`` that have no up-to-date 3.13 ``.pyc`` beside them."""
    missing = []
    for source in sorted(directory.rglob("*.py")):
        compiled = Path(importlib.util.cache_from_source(str(source)))
        compiled = compiled.with_name(
            compiled.name.replace(sys.implementation.cache_tag, RUNTIME_TAG)
        )
        if not compiled.is_file() or compiled.stat().st_size == 0:
            missing.append(str(source.relative_to(directory)))
            continue
        flags = int.from_bytes(compiled.read_bytes()[4:8], "little")
        if flags != 0b01:  # hash-based (bit 0), not checked (bit 1 clear)
            missing.append(f"{source.relative_to(directory)} (not unchecked-hash)")
    return missing


def build_core_layer(
    source: Path = CORE_LAYER_SOURCE_DIR, target: Path = CORE_LAYER_BUILD_DIR
) -> None:
    """Copy the core layer's source to ``target`` without caches, then compile it."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    compile_tree(target)


def main() -> None:
    build_core_layer()
    compile_tree(DEPS_LAYER_DIR / "python")
    for directory in (CORE_LAYER_BUILD_DIR, DEPS_LAYER_DIR / "python"):
        missing = missing_bytecode(directory)
        if missing:
            raise SystemExit(f"{directory}: no {RUNTIME_TAG} bytecode for {missing[:5]}")
        print(f"{directory}: {RUNTIME_TAG} unchecked-hash bytecode for every module")


if __name__ == "__main__":
    main()
