"""The rule for a file's path inside an asset (a ZIP member name): relative, forward slashes,
no '..' or '.' or empty segments, no NUL or backslash, no drive letter. Ingest refuses a bundle
breaking it; the download never writes a name breaking it, whatever a stored document holds."""

from __future__ import annotations

import re


def unsafe_name(name: str) -> str | None:
    """Why a member name could escape a folder or be ambiguous; None when it is safe."""
    if not name or "\x00" in name:
        return "a member name is empty or contains a NUL byte"
    if "\\" in name:
        return f"member name '{name}' contains a backslash"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return f"member name '{name}' is an absolute path"
    if ".." in name.split("/"):
        return f"member name '{name}' contains '..'"
    if any(part in ("", ".") for part in name.rstrip("/").split("/")):
        return f"member name '{name}' has an empty or '.' path segment"
    return None
