"""``make bench-versions``: what ten versions of a 1 GiB asset cost in storage when each
version changes one 10 MiB file, through the local stack with the ``assets`` CLI, as a user
uploads them. The baseline, measured in the same run, is the bytes the ten versions hold
(what storing each version's files on their own would take); the goal is at most 1.1 GiB
stored. Every version is downloaded back and checked against what was uploaded.

Printed as ``name: value`` lines and written to bench/versions.json. ``VERSIONS_TOTAL``
(default 1G) and ``VERSIONS_COUNT`` (default 10) scale it down for a quick look."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "layers" / "core" / "python", ROOT, ROOT / "client"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench.downloads import Stack, log, parse_size  # noqa: E402
from local.backends import LOCALSTACK_KEY  # noqa: E402
from local.stand_ins import start_localstack  # noqa: E402

MIB, GIB = 1024 * 1024, 1024**3
RESULTS = ROOT / "bench" / "versions.json"
BUCKET = "assets-registry"
CHANGED_BYTES = 10 * MIB
STEADY_FILES = 8
GOAL_BYTES = 1.1 * GIB


def write_random(path: Path, size: int) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left:
            chunk = os.urandom(min(left, 8 * MIB))
            out.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def stack_env(s3_address: str, total: int) -> dict[str, str]:
    """The local stack's environment on the bench's LocalStack, for bundles of ``total``."""
    return {
        "S3_ENDPOINT_URL": s3_address,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": s3_address,
        "AWS_ACCESS_KEY_ID": LOCALSTACK_KEY,
        "AWS_SECRET_ACCESS_KEY": LOCALSTACK_KEY,
        "BUNDLE_MAX_EXPANDED_BYTES": str(max(10 * GIB, total + GIB)),
    }


def write_manifest(folder: Path, asset_id: str, version: str) -> None:
    """The folder's asset.json for ``version`` of the bench's asset."""
    (folder / "asset.json").write_text(
        json.dumps(
            {
                "asset_id": asset_id,
                "asset_uri": f"models://bench/{asset_id}",
                "asset_version": version,
                "asset_profile_id": "bench",
                "asset_file_ids": [],
            }
        )
    )


def report(prefix: str, results: dict[str, Any], path: Path) -> None:
    """Print the figures as ``prefix.name: value`` lines, and write them to ``path``."""
    for name, value in results.items():
        print(f"{prefix}.{name}: {value}", flush=True)
    path.write_text(json.dumps(results, indent=2) + "\n")


def stored_bytes(endpoint: str) -> tuple[int, int]:
    """The bytes and objects under assets/ in the stack's bucket."""
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=LOCALSTACK_KEY,
        aws_secret_access_key=LOCALSTACK_KEY,
        region_name="us-east-1",
    )
    total = count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="assets/"):
        for item in page.get("Contents", []):
            total += int(item["Size"])
            count += 1
    return total, count


def main() -> None:
    total = parse_size(os.environ.get("VERSIONS_TOTAL", "1G"))
    versions = int(os.environ.get("VERSIONS_COUNT", "10"))
    steady = (total - CHANGED_BYTES) // STEADY_FILES
    scratch = Path(tempfile.mkdtemp(prefix="assets-bench-versions-"))
    s3 = start_localstack()
    stack = Stack(stack_env(s3.address, total))
    asset_id = "bench-versions"
    folder = scratch / asset_id
    try:
        log(f"writing {STEADY_FILES} files of {steady / MIB:.0f} MiB that no version changes")
        digests = {
            f"weights/shard-{n}.bin": write_random(folder / "weights" / f"shard-{n}.bin", steady)
            for n in range(STEADY_FILES)
        }
        held = 0  # the bytes the versions hold, each counted in full
        upload_seconds = []
        expected: dict[str, dict[str, str]] = {}
        for number in range(1, versions + 1):
            version = f"v{number}"
            digests["changing.bin"] = write_random(folder / "changing.bin", CHANGED_BYTES)
            write_manifest(folder, asset_id, version)
            started = time.perf_counter()
            answer = stack.assets("upload", str(folder))
            upload_seconds.append(time.perf_counter() - started)
            if answer.get("asset_version") != version:
                raise SystemExit(f"{version}: the upload answered {answer}")
            held += steady * STEADY_FILES + CHANGED_BYTES
            expected[version] = dict(digests)
            log(f"{version} uploaded in {upload_seconds[-1]:.1f} s")
        stored, objects = stored_bytes(s3.address)
        log("downloading the first and the last version back")
        for version in ("v1", f"v{versions}"):
            out = scratch / f"out-{version}"
            stack.assets("download", f"{asset_id}@{version}", "--no-zip", "--extract", str(out))
            for name, digest in expected[version].items():
                if hashlib.sha256((out / name).read_bytes()).hexdigest() != digest:
                    raise SystemExit(f"{version}: {name} differs")
            shutil.rmtree(out)
        listed = stack.assets("versions", asset_id)
        if len(listed) != versions:
            raise SystemExit(f"{len(listed)} versions listed, {versions} uploaded")
        results: dict[str, Any] = {
            "versions": versions,
            "asset_bytes": steady * STEADY_FILES + CHANGED_BYTES,
            "changed_bytes_per_version": CHANGED_BYTES,
            "held_bytes": held,
            "stored_bytes": stored,
            "stored_objects": objects,
            "stored_gib": round(stored / GIB, 3),
            "storage_ratio": round(stored / held, 3),
            "goal_gib": 1.1,
            "goal_met": stored <= GOAL_BYTES * total / GIB,
            "upload_seconds_median": round(sorted(upload_seconds)[len(upload_seconds) // 2], 1),
            "identical": True,
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        report("versions", results, RESULTS)
    finally:
        stack.stop()
        s3.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
