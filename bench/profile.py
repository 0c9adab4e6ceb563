"""``make bench-profile``: where ingest's time goes on LocalStack's S3 and the MongoDB wire
server (SecantusDB), by pyinstrument.

The 1 GiB mixed bundle of ``make bench`` is PUT to the local S3 and ingested once by the
ingest function's code in a process of its own, with every thread profiled; the combined
report (seconds of thread time per call path) is written to bench/profile-ingest.txt and its
top lines printed. ``python -m bench.profile [SIZE]`` takes another size (``64M``, ``2G``)."""

from __future__ import annotations

import sys
import tempfile
import uuid
from pathlib import Path

import boto3

from assets_core.routes import INGEST
from bench.__main__ import ROOT, log, put_once, run_worker, start_stand_ins, worker_env
from bench.bundles import mixed_bundle
from bench.downloads import parse_size

REPORT = ROOT / "bench" / "profile-ingest.txt"


def main(size: str = "1G") -> None:
    scratch = Path(tempfile.mkdtemp(prefix="assets-profile-"))
    server, mongodb, endpoint = start_stand_ins()
    try:
        env = {**worker_env(endpoint, mongodb.address), **INGEST.environment}
        s3 = boto3.client("s3", endpoint_url=endpoint)
        bundle = mixed_bundle(scratch / "mixed.zip", "bench-profile", parse_size(size))
        upload_id = str(uuid.uuid4())
        key = f"incoming/{upload_id}.zip"
        put = put_once(s3, bundle, key)
        log(f"PUT of {bundle.stat().st_size / 2**20:.0f} MiB: {put:.2f} s")
        result = run_worker(env, "profile", upload_id, key, str(scratch / "profile.txt"))
        REPORT.write_text((scratch / "profile.txt").read_text())
        print(f"ingest_seconds: {result['seconds']:.2f} (profiled, {result['threads']} threads)")
        print(f"ingest_put_ratio: {result['seconds'] / put:.3f}")
        print(f"report: {REPORT.relative_to(ROOT)}")
    finally:
        server.stop()
        mongodb.stop()


if __name__ == "__main__":
    main(*sys.argv[1:2])
