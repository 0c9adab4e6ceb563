"""``make bench-downloads``: assets of the sizes a user brings, uploaded and downloaded with the
``assets`` command through the stack as ``make run`` starts it, and checked file by file.

Each size goes the way AWS would send it: a ZIP up to ``STREAM_MAX_BYTES`` streams from the
download function, a larger one is assembled in S3 and fetched by a presigned GET. The CLI
verifies every file's sha256 against the stored record; this script also compares every
extracted file with the one it wrote. Prints ``name: value`` lines and writes
``bench/downloads.json``.

    python -m bench.downloads [SIZE ...]     # sizes like 20M 1G 6G (the default)

A bundle goes to S3 by a presigned POST, which S3 caps at 5 GB (and LocalStack drops the
connection past it); until multipart uploads land, an asset above ``FOLDER_MAX_BYTES`` is
written half random, half zeros, in every 8 MiB, and sent as a deflated ZIP of about half its
size. Ingest stores the files inflated, so the download, which is what this measures, holds
every byte of the asset.
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
import zipfile
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
FOLDER_MAX_BYTES = 4 * GIB  # past it, a deflated bundle (see above)
CHUNK = 8 * MIB


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def parse_size(text: str) -> int:
    unit = UNITS.get(text[-1].upper())
    return int(float(text[:-1]) * unit) if unit else int(text)


def content(size: int, compressible: bool) -> Iterator[bytes]:
    """``size`` bytes in chunks: random, or half random and half zeros in every chunk."""
    left = size
    while left:
        length = min(left, CHUNK)
        if compressible:
            half = length // 2
            yield os.urandom(half) + bytes(length - half)
        else:
            yield os.urandom(length)
        left -= length


def write_file(path: Path, size: int, compressible: bool) -> str:
    """The file's bytes at ``path``; their sha256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for chunk in content(size, compressible):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 * MIB):
            digest.update(chunk)
    return digest.hexdigest()


def make_asset(root: Path, asset_id: str, size: int, compressible: bool) -> dict[str, str]:
    """A folder with asset.json and ``size`` bytes of files; their sha256 by path."""
    folder = root / asset_id
    (folder / "weights").mkdir(parents=True)
    (folder / "asset.json").write_text(
        json.dumps(
            {
                "asset_id": asset_id,
                "asset_uri": f"models://bench/{asset_id}",
                "asset_version": "v1",
                "asset_profile_id": "bench",
                "asset_file_ids": [],
            }
        )
    )
    written, index, left = {}, 0, size
    while left:
        length = min(left, FILE_MAX_BYTES)
        name = f"weights/part-{index}.bin"
        written[name] = write_file(folder / name, length, compressible)
        left -= length
        index += 1
    return written


def deflated_bundle(folder: Path) -> Path:
    """The folder as a ZIP of deflated members (level 1), asset.json first."""
    bundle = folder.with_suffix(".zip")
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.write(folder / "asset.json", "asset.json")
        for path in sorted((folder / "weights").iterdir()):
            info = zipfile.ZipInfo(f"weights/{path.name}", date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with path.open("rb") as source, archive.open(info, "w", force_zip64=True) as member:
                shutil.copyfileobj(source, member, CHUNK)
    return bundle


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
    compressible = size > FOLDER_MAX_BYTES
    log(f"{label}: writing {size / MIB:.0f} MiB of files (compressible: {compressible})")
    written = make_asset(scratch, asset_id, size, compressible)
    sent = deflated_bundle(scratch / asset_id) if compressible else scratch / asset_id
    started = time.perf_counter()
    stack.assets("upload", str(sent))
    uploaded = time.perf_counter() - started
    shutil.rmtree(scratch / asset_id / "weights")  # disk: the stack holds its copy now
    bundle_bytes = sent.stat().st_size if compressible else None
    if compressible:
        sent.unlink()
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
        "deflated_bundle_bytes": bundle_bytes,
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
