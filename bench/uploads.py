"""``make bench-uploads``: a large bundle sent by the ``assets`` command in parts, through the
stack as ``make run`` starts it: four parts at a time, the client killed partway and the
upload resumed, ingest spread over several runs (``INGEST_RUN_SECONDS`` makes each run short,
as a bundle past what one 15-minute run ingests would be), then the asset downloaded and
every file compared with the one written. Prints ``name: value`` lines and writes
``bench/uploads.json``.

    python -m bench.uploads [SIZE]     # like 1G or 6G (the default)

The baseline, measured in the same run: one ``PUT`` of the whole bundle to the same S3 (what
a single request would cost, were it allowed past 5 GB); the upload's ratio to it says what
parts, checksums and the kill cost.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "layers" / "core" / "python", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench.downloads import GIB, MIB, Stack, asset_json, log, parse_size, sha256_of  # noqa: E402

RESULTS = ROOT / "bench" / "uploads.json"
MEMBER_BYTES = GIB  # stored members of 1 GiB: each within one short ingest run
RUN_SECONDS = 45
KILL_AT = 0.4  # the share of parts received when the first client is killed


def write_bundle(path: Path, size: int, asset_id: str) -> dict[str, str]:
    """A ZIP of stored (incompressible) members, asset.json first; each member's sha256."""
    written: dict[str, str] = {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("asset.json", asset_json(asset_id))
        index, left = 0, size
        while left:
            length = min(left, MEMBER_BYTES)
            name = f"weights/part-{index}.bin"
            digest = hashlib.sha256()
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            with archive.open(info, "w", force_zip64=True) as member:
                for _ in range(0, length, 8 * MIB):
                    chunk = os.urandom(min(8 * MIB, length - _))
                    digest.update(chunk)
                    member.write(chunk)
            written[name] = digest.hexdigest()
            index, left = index + 1, left - length
    return written


def one_put(endpoint: str, path: Path) -> float:
    """Seconds for one PUT of the file to the same S3 (the baseline), removed after."""
    import boto3
    from botocore.config import Config

    s3 = boto3.client("s3", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"}))
    bucket = "bench-baseline"
    s3.create_bucket(Bucket=bucket)
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "one.zip"}, ExpiresIn=3600
    )
    started = time.perf_counter()
    with path.open("rb") as body:
        answer = httpx.put(
            url,
            content=iter(lambda: body.read(8 * MIB), b""),
            headers={"Content-Length": str(path.stat().st_size)},
            timeout=httpx.Timeout(None, connect=30),
        )
    seconds = time.perf_counter() - started
    answer.raise_for_status()
    s3.delete_object(Bucket=bucket, Key="one.zip")
    s3.delete_bucket(Bucket=bucket)
    return seconds


def own_s3() -> tuple[Any, dict[str, str]]:
    """LocalStack, started here so the baseline PUT goes to the S3 the stack uses: the
    server, and the stack's environment for it (as ``make run`` sets it)."""
    from local.backends import EVENTS_ENDPOINT, LOCAL_BUS, LOCALSTACK_KEY, SECRETS_ENDPOINT
    from local.stand_ins import start_localstack

    os.environ.update(
        {"AWS_ACCESS_KEY_ID": LOCALSTACK_KEY, "AWS_SECRET_ACCESS_KEY": LOCALSTACK_KEY}
    )
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = start_localstack()
    env = {
        "S3_ENDPOINT_URL": server.address,
        SECRETS_ENDPOINT: server.address,
        EVENTS_ENDPOINT: server.address,
        "EVENT_BUS_NAME": LOCAL_BUS,
    }
    return server, env


def read(stack: Stack, path: str) -> dict[str, Any]:
    """A GET of the stack, as the bench's admin; its JSON."""
    answer = httpx.get(
        f"{stack.url}{path}", headers={"Authorization": f"Bearer {stack.token}"}, timeout=30
    )
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    return result


def session(stack: Stack, upload_id: str) -> dict[str, Any]:
    return read(stack, f"/registry/uploads/{upload_id}")


def killed_upload(stack: Stack, bundle: Path, state: Path) -> tuple[str, dict[str, Any], float]:
    """Start ``assets upload --parallel 4`` and kill it once ``KILL_AT`` of the parts are in:
    the upload id, the session then, and the seconds it ran."""
    env = {
        **os.environ,
        "ASSETS_ENDPOINT": stack.url,
        "ASSETS_TOKEN": stack.token,
        "XDG_STATE_HOME": str(state),
    }
    started = time.perf_counter()
    client = subprocess.Popen(
        [sys.executable, "-m", "assets_client", "upload", str(bundle), "--parallel", "4"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    saved = state / "assets" / "uploads"
    upload_id = None
    while client.poll() is None:
        names = list(saved.glob("*.json")) if saved.is_dir() else []
        if names:
            upload_id = names[0].stem
            now = session(stack, upload_id)
            if len(now.get("received") or []) >= KILL_AT * now["part_count"]:
                break
        time.sleep(0.2)
    client.send_signal(signal.SIGKILL)
    client.wait()
    ran = time.perf_counter() - started
    if upload_id is None:
        raise SystemExit("the upload ended before it could be interrupted")
    return upload_id, session(stack, upload_id), ran


def main(label: str) -> None:
    size = parse_size(label)
    scratch = Path(tempfile.mkdtemp(prefix="assets-bench-uploads-"))
    s3, s3_env = own_s3()
    stack = Stack(
        {
            **s3_env,
            "BUNDLE_MAX_EXPANDED_BYTES": str(size + GIB),
            "INGEST_RUN_SECONDS": str(RUN_SECONDS),
        }
    )
    asset_id = f"bench-upload-{label.lower()}"
    try:
        bundle = scratch / f"{asset_id}.zip"
        log(f"{label}: writing a bundle of {size / MIB:.0f} MiB in members of 1 GiB")
        written = write_bundle(bundle, size, asset_id)
        bundle_bytes = bundle.stat().st_size
        log(f"{label}: the baseline, one PUT of the bundle")
        put_seconds = one_put(s3_env["S3_ENDPOINT_URL"], bundle)
        log(f"{label}: uploading in parts, four at a time; the client is killed partway")
        upload_id, interrupted, first_seconds = killed_upload(stack, bundle, scratch / "state")
        if interrupted["status"] != "uploading":
            raise SystemExit(f"the interrupted session is {interrupted['status']}")
        held = len(interrupted["received"])
        log(f"{label}: killed with {held} of {interrupted['part_count']} parts in; resuming")
        started = time.perf_counter()
        resumed = stack.assets(
            "upload", str(bundle), "--resume", upload_id, "--parallel", "4", "--no-wait"
        )
        resume_seconds = time.perf_counter() - started
        log(f"{label}: sent; waiting for ingest ({RUN_SECONDS} s runs)")
        started = time.perf_counter()
        status = wait_for_ingest(stack, upload_id)
        ingest_seconds = time.perf_counter() - started
        bundle.unlink()  # disk: the stack holds its copy now
        out = scratch / "out"
        log(f"{label}: ingested in {status.get('ingest_runs')} runs; downloading")
        started = time.perf_counter()
        report = stack.assets("download", asset_id, "--extract", str(out))
        download_seconds = time.perf_counter() - started
        mismatched = [name for name, digest in written.items() if sha256_of(out / name) != digest]
        if mismatched or sorted(report["verified"]) != sorted(written):
            raise SystemExit(f"{label}: files differ: {mismatched or report['verified']}")
        stack.assets("delete", asset_id)
        upload_seconds = first_seconds + resume_seconds
        results = {
            "bytes": bundle_bytes,
            "parts": interrupted["part_count"],
            "part_size": interrupted["part_size"],
            "parallel": 4,
            "parts_before_kill": held,
            "resumed": resumed.get("upload_id") == upload_id,
            "upload_seconds": round(upload_seconds, 1),
            "upload_mib_per_s": round(bundle_bytes / MIB / upload_seconds, 1),
            "one_put_seconds": round(put_seconds, 1),
            "upload_put_ratio": round(upload_seconds / put_seconds, 2),
            "ingest_runs": status.get("ingest_runs"),
            "ingest_run_seconds": RUN_SECONDS,
            "ingest_seconds": round(ingest_seconds, 1),
            "download_seconds": round(download_seconds, 1),
            "identical": True,
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        for name, value in results.items():
            print(f"{label}.{name}: {value}", flush=True)
        previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        RESULTS.write_text(json.dumps({**previous, label: results}, indent=2) + "\n")
    finally:
        stack.stop()
        s3.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def wait_for_ingest(stack: Stack, upload_id: str, timeout: float = 7200) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = read(stack, f"/registry/zip/status/{upload_id}")
        if status["status"] == "success":
            return status
        if status["status"].startswith("failed"):
            raise SystemExit(f"ingest failed: {status['status']}")
        time.sleep(2)
    raise SystemExit("ingest did not finish in time")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "6G")
