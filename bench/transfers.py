"""The ``assets`` command's transfers against what a user would pick instead: boto3's
s3transfer (``upload_file`` / ``download_file``, 10 threads) moving the same bytes to and from
the same S3, in the same run. ``make bench`` calls ``transfer_figures``; alone:

    python -m bench.transfers [SIZE]     # 2G by default

Medians of three rounds, each side in turn.

- upload: ``assets upload bundle.zip --no-wait`` (a session of 16 MiB parts, four at a time,
  each part's CRC32 and the whole file's computed first) against ``upload_file`` of the file.
- download: ``assets download ID --extract DIR`` of the asset (its archive assembled in S3
  beforehand, so the build is not timed; every file verified by its sha256 as it is written)
  against ``download_file`` of that archive.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "layers" / "core" / "python", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench.downloads import MIB, Stack, asset_json, log, parse_size  # noqa: E402
from bench.uploads import own_s3, wait_for_ingest  # noqa: E402

S3TRANSFER = TransferConfig(max_concurrency=10)  # what a user of boto3 would set


def write_bundle(path: Path, size: int, asset_id: str) -> None:
    """A ZIP of one stored member of ``size`` random bytes, with its asset.json."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("asset.json", asset_json(asset_id))
        info = zipfile.ZipInfo("weights.bin", date_time=(2026, 1, 1, 0, 0, 0))
        with archive.open(info, "w", force_zip64=True) as member:
            for start in range(0, size, 8 * MIB):
                member.write(os.urandom(min(8 * MIB, size - start)))


def timed(work: Any) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def ready_archive(stack: Stack, asset_id: str, timeout: float = 1800) -> str:
    """Ask for the asset's ZIP until its archive is assembled; the archive's key."""
    import httpx

    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {stack.token}"}
    while time.monotonic() < deadline:
        answer = httpx.get(
            f"{stack.url}/registry/zip/download/{asset_id}", headers=headers, timeout=30
        )
        if answer.status_code == 307:
            return archive_key_of(answer.headers["location"])
        time.sleep(1)
    raise SystemExit("the archive was not assembled in time")


def archive_key_of(location: str) -> str:
    """The object key of a presigned GET of the stack's bucket (path-style URL)."""
    from urllib.parse import unquote, urlsplit

    path = unquote(urlsplit(location).path).lstrip("/")
    return path.split("/", 1)[1]


def transfer_figures(size: int, scratch: Path, rounds: int = 3) -> dict[str, Any]:
    """Upload and download throughput of the ``assets`` command and of s3transfer, medians of
    ``rounds`` rounds taken in turn (so a slow moment touches both alike), and their ratios,
    on a stack with its own LocalStack (the S3 both sides use)."""
    s3_server, s3_env = own_s3()
    stack = Stack(s3_env)
    label = f"{size // (1024**3)}gib" if size >= 1024**3 else f"{size // MIB}mib"
    times: dict[str, list[float]] = {"up": [], "up_base": [], "down": [], "down_base": []}
    try:
        s3 = boto3.client(
            "s3",
            endpoint_url=s3_env["S3_ENDPOINT_URL"],
            config=Config(s3={"addressing_style": "path"}, max_pool_connections=16),
        )
        s3.create_bucket(Bucket="bench-s3transfer")
        bundle = scratch / "transfer.zip"
        asset_ids = [f"bench-transfer-{label}-{n}" for n in range(rounds)]
        for asset_id in asset_ids:
            log(f"transfers: a {size / MIB:.0f} MiB bundle; upload_file, then assets upload")
            write_bundle(bundle, size, asset_id)
            bundle_bytes = bundle.stat().st_size
            times["up_base"].append(
                timed(
                    lambda: s3.upload_file(
                        str(bundle), "bench-s3transfer", "up.zip", Config=S3TRANSFER
                    )
                )
            )
            s3.delete_object(Bucket="bench-s3transfer", Key="up.zip")
            started = time.perf_counter()
            sent = stack.assets("upload", str(bundle), "--no-wait")
            times["up"].append(time.perf_counter() - started)
            wait_for_ingest(stack, str(sent["upload_id"]))  # before the next round is timed
        bundle.unlink()
        log("transfers: the archive, assembled before the downloads are timed")
        key = ready_archive(stack, asset_ids[-1])
        bucket = os.environ.get("BUCKET_NAME", "assets-registry")
        target, out = scratch / "s3transfer.zip", scratch / "extracted"
        for _ in range(rounds):
            log("transfers: download_file, then assets download --extract (verified)")
            times["down_base"].append(
                timed(lambda: s3.download_file(bucket, key, str(target), Config=S3TRANSFER))
            )
            archive_bytes = target.stat().st_size
            target.unlink()
            times["down"].append(
                timed(lambda: stack.assets("download", asset_ids[-1], "--extract", str(out)))
            )
            shutil.rmtree(out)
        for asset_id in asset_ids:
            stack.assets("delete", asset_id)
        s3.delete_bucket(Bucket="bench-s3transfer")
    finally:
        stack.stop()
        s3_server.stop()
    median = {name: statistics.median(values) for name, values in times.items()}
    up_rate, base_up_rate = bundle_bytes / median["up"], bundle_bytes / median["up_base"]
    down_rate = archive_bytes / median["down"]
    base_down_rate = archive_bytes / median["down_base"]
    return {
        f"upload_mib_per_s_{label}": round(up_rate / MIB, 1),
        f"upload_file_mib_per_s_{label}": round(base_up_rate / MIB, 1),
        f"upload_s3transfer_ratio_{label}": round(up_rate / base_up_rate, 3),
        f"download_mib_per_s_cli_{label}": round(down_rate / MIB, 1),
        f"download_file_mib_per_s_{label}": round(base_down_rate / MIB, 1),
        f"download_s3transfer_ratio_{label}": round(down_rate / base_down_rate, 3),
    }


def main(label: str) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="assets-bench-transfers-"))
    try:
        for name, value in transfer_figures(parse_size(label), scratch).items():
            print(f"{name}: {value}", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "2G")
