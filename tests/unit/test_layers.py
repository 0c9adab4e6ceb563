"""The layer build's bytecode check: it finds modules without 3.13 unchecked-hash bytecode."""

from __future__ import annotations

import py_compile
from pathlib import Path

from infra_cdk.layers import compile_tree, missing_bytecode


def test_bytecode_is_required_for_every_module_and_must_be_unchecked(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text("VALUE = 1\n")
    assert missing_bytecode(tmp_path) == ["pkg/__init__.py", "pkg/mod.py"]
    py_compile.compile(str(package / "mod.py"))  # timestamp-checked, as a dev run writes it
    assert missing_bytecode(tmp_path) == ["pkg/__init__.py", "pkg/mod.py (not unchecked-hash)"]
    compile_tree(tmp_path)
    assert missing_bytecode(tmp_path) == []
