"""``make bench-pull``: what ``assets pull`` moves over the network for two versions of a
1 GiB asset that differ in one 10 MiB file, through the local stack with the CLI, as a user
runs it. The baseline, measured in the same run, is the first pull (every byte moved) and
``assets download --no-zip`` of the second version (what a plain download moves again). The
goal: the second version's pull moves about 10 MiB, and a repeated pull moves nothing; every
pulled folder is checked against what was uploaded.

Printed as ``name: value`` lines and written to bench/pull.json. ``PULL_TOTAL`` (default 1G)
scales it down for a quick look."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "layers" / "core" / "python", ROOT, ROOT / "client"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench.downloads import Stack, log, parse_size  # noqa: E402
from bench.versions import report, stack_env, write_manifest, write_random  # noqa: E402
from local.stand_ins import start_localstack  # noqa: E402

MIB, GIB = 1024 * 1024, 1024**3
RESULTS = ROOT / "bench" / "pull.json"
CHANGED_BYTES = 10 * MIB
STEADY_FILES = 8


def check(folder: Path, digests: dict[str, str]) -> None:
    found = {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }
    if found != digests:
        raise SystemExit(f"{folder} does not hold the version's files")


def main() -> None:
    total = parse_size(os.environ.get("PULL_TOTAL", "1G"))
    steady = (total - CHANGED_BYTES) // STEADY_FILES
    scratch = Path(tempfile.mkdtemp(prefix="assets-bench-pull-"))
    s3 = start_localstack()
    env = {**stack_env(s3.address, total), "ASSETS_CACHE": str(scratch / "cache")}
    os.environ["ASSETS_CACHE"] = env["ASSETS_CACHE"]
    stack = Stack(env)
    asset_id = "bench-pull"
    folder = scratch / asset_id
    try:
        log(f"writing {STEADY_FILES} files of {steady / MIB:.0f} MiB and one of 10 MiB")
        digests = {
            f"weights/shard-{n}.bin": write_random(folder / "weights" / f"shard-{n}.bin", steady)
            for n in range(STEADY_FILES)
        }
        expected: dict[str, dict[str, str]] = {}
        for version in ("v1", "v2"):
            digests["changing.bin"] = write_random(folder / "changing.bin", CHANGED_BYTES)
            write_manifest(folder, asset_id, version)
            stack.assets("upload", str(folder))
            expected[version] = dict(digests)
            log(f"{version} uploaded")
        work = scratch / "work"
        runs: dict[str, dict[str, Any]] = {}
        for name, ref in (("first", "v1"), ("repeat", "v1"), ("next", "v2")):
            started = time.perf_counter()
            answer = stack.assets("pull", f"{asset_id}@{ref}", str(work))
            runs[name] = {**answer, "seconds": time.perf_counter() - started}
            check(work, expected[ref])
            log(f"pull {ref} ({name}): {answer['fetched_bytes'] / MIB:.1f} MiB moved")
        started = time.perf_counter()
        plain = scratch / "plain"
        stack.assets("download", f"{asset_id}@v2", "--no-zip", "--extract", str(plain))
        download_seconds = time.perf_counter() - started
        check(plain, expected["v2"])
        asset_bytes = steady * STEADY_FILES + CHANGED_BYTES
        results: dict[str, Any] = {
            "asset_bytes": asset_bytes,
            "changed_bytes": CHANGED_BYTES,
            "first_pull_bytes": runs["first"]["fetched_bytes"],
            "repeat_pull_bytes": runs["repeat"]["fetched_bytes"],
            "next_pull_bytes": runs["next"]["fetched_bytes"],
            "next_pull_mib": round(runs["next"]["fetched_bytes"] / MIB, 2),
            # the baseline: a plain download of v2 moves every byte again
            "next_pull_ratio_to_download": round(runs["next"]["fetched_bytes"] / asset_bytes, 4),
            "first_pull_seconds": round(runs["first"]["seconds"], 1),
            "repeat_pull_seconds": round(runs["repeat"]["seconds"], 1),
            "next_pull_seconds": round(runs["next"]["seconds"], 1),
            "download_seconds": round(download_seconds, 1),
            "next_pull_time_ratio_to_download": round(
                runs["next"]["seconds"] / download_seconds, 3
            ),
            "goal_met": runs["repeat"]["fetched_bytes"] == 0
            and runs["next"]["fetched_bytes"] <= CHANGED_BYTES * 1.05,
            "verified": True,
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        report("pull", results, RESULTS)
    finally:
        stack.stop()
        s3.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
