"""``make bench-downloads``: assets of the sizes a user brings, uploaded and downloaded with the
``assets`` command through the stack as ``make run`` starts it, and checked file by file.

Each size goes the way AWS would send it: a ZIP up to ``STREAM_MAX_BYTES`` streams from the
download function, a larger one is assembled in S3 and fetched by a presigned GET. The CLI
verifies every file's sha256 against the stored record; this script also compares every
extracted file with the one it wrote. Prints ``name: value`` lines and writes
``bench/downloads.json``.

    python -m bench.downloads [SIZE ...]     # sizes like 20M 1G 6G (the default)

Every asset is a folder of random files, zipped as the command sends it: in parts past
100 MiB (an upload session), so a 6 GiB asset goes up as it is, past S3's 5 GB single request.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "layers" / "core" / "python", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from assets_core.identity import ADMIN  # noqa: E402
from local.backends import free_port  # noqa: E402
from local.stand_ins import start_server  # noqa: E402

MIB, GIB = 1024 * 1024, 1024**3
RESULTS = ROOT / "bench" / "downloads.json"
UNITS = {"K": 1024, "M": MIB, "G": GIB}
# One file per this many bytes at most, so a 6 GiB asset holds a member past 4 GiB (ZIP64
# sizes) and members whose offsets pass 4 GiB.
FILE_MAX_BYTES = 4 * GIB + 512 * MIB
CHUNK = 8 * MIB


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def parse_size(text: str) -> int:
    unit = UNITS.get(text[-1].upper())
    return int(float(text[:-1]) * unit) if unit else int(text)


def content(size: int) -> Iterator[bytes]:
    """``size`` random bytes in chunks."""
    left = size
    while left:
        length = min(left, CHUNK)
        yield os.urandom(length)
        left -= length


def write_file(path: Path, size: int) -> str:
    """The file's bytes at ``path``; their sha256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for chunk in content(size):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 * MIB):
            digest.update(chunk)
    return digest.hexdigest()


def asset_json(asset_id: str) -> str:
    """The asset.json of a bench asset: the required fields, version v1."""
    return json.dumps(
        {
            "asset_id": asset_id,
            "asset_uri": f"models://bench/{asset_id}",
            "asset_version": "v1",
            "asset_profile_id": "bench",
            "asset_file_ids": [],
        }
    )


def make_asset(root: Path, asset_id: str, size: int) -> dict[str, str]:
    """A folder with asset.json and ``size`` bytes of files; their sha256 by path."""
    folder = root / asset_id
    (folder / "weights").mkdir(parents=True)
    (folder / "asset.json").write_text(asset_json(asset_id))
    written, index, left = {}, 0, size
    while left:
        length = min(left, FILE_MAX_BYTES)
        name = f"weights/part-{index}.bin"
        written[name] = write_file(folder / name, length)
        left -= length
        index += 1
    return written


class Stack:
    """``python -m local`` on a free port, as ``make run`` starts it."""

    def __init__(self, env: dict[str, str]) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        environment = {k: v for k, v in os.environ.items() if k != "MONGODB_URI"}
        environment.update(env, PORT=str(port))

        def ready() -> bool:
            try:
                return httpx.get(f"{self.url}/registry/health", timeout=2).status_code < 500
            except httpx.TransportError:
                return False

        self.server = start_server(
            "stack",
            [sys.executable, "-m", "local"],
            self.url,
            ready,
            env=environment,
            timeout_seconds=120,
            cwd=ROOT,
        )
        answer = httpx.post(
            f"{self.url}/local/token", json={"sub": "bench", "roles": [ADMIN]}, timeout=10
        )
        answer.raise_for_status()
        self.token = str(answer.json()["access_token"])

    def assets(self, *args: str) -> dict[str, Any]:
        """The ``assets`` command, as a user runs it; its JSON answer."""
        env = {**os.environ, "ASSETS_ENDPOINT": self.url, "ASSETS_TOKEN": self.token}
        done = subprocess.run(
            [sys.executable, "-m", "assets_client", "--json", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"assets {' '.join(args)} failed ({done.returncode}): {done.stderr}")
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    def status(self, asset_id: str) -> dict[str, Any]:
        answer = httpx.get(
            f"{self.url}/registry/zip/download/{asset_id}/status",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def stop(self) -> None:
        self.server.stop(grace_seconds=30)


def one_size(stack: Stack, scratch: Path, size: int, label: str) -> dict[str, Any]:
    asset_id = f"bench-download-{label.lower()}"
    log(f"{label}: writing {size / MIB:.0f} MiB of files")
    written = make_asset(scratch, asset_id, size)
    started = time.perf_counter()
    stack.assets("upload", str(scratch / asset_id))
    uploaded = time.perf_counter() - started
    shutil.rmtree(scratch / asset_id / "weights")  # disk: the stack holds its copy now
    out = scratch / f"{asset_id}-out"
    log(f"{label}: uploaded in {uploaded:.1f} s; downloading")
    started = time.perf_counter()
    report = stack.assets("download", asset_id, "--extract", str(out))
    downloaded = time.perf_counter() - started
    status = stack.status(asset_id)
    mismatched = [name for name, digest in written.items() if sha256_of(out / name) != digest]
    if mismatched or sorted(report["verified"]) != sorted(written):
        raise SystemExit(f"{label}: files differ: {mismatched or report['verified']}")
    stack.assets("delete", asset_id)
    shutil.rmtree(out)
    return {
        "bytes": size,
        "files": len(written),
        "delivery": status["delivery"],
        "zip_bytes": status["size"],
        "upload_seconds": round(uploaded, 1),
        "download_seconds": round(downloaded, 1),
        "download_mib_per_s": round(size / MIB / downloaded, 1),
        "identical": True,
    }


def main(sizes: list[str]) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="assets-bench-downloads-"))
    largest = max(parse_size(size) for size in sizes)
    stack = Stack({"BUNDLE_MAX_EXPANDED_BYTES": str(max(10 * GIB, largest + GIB))})
    # Sizes measured before stay, each with its own time: nothing here compares across runs.
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    try:
        for label in sizes:
            results[label] = one_size(stack, scratch, parse_size(label), label)
            results[label]["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            for name, value in results[label].items():
                print(f"{label}.{name}: {value}", flush=True)
            RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    finally:
        stack.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["20M", "1G", "6G"])
