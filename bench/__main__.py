"""``make bench``: every figure with the baseline it is compared against, measured in
the same run; printed as ``name: value`` lines and written to bench/results.json."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "layers" / "core" / "python", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from assets_core.routes import INGEST  # noqa: E402
from bench.bundles import mixed_bundle, stored_bundle  # noqa: E402
from bench.queries import query_figures  # noqa: E402
from bench.transfers import transfer_figures  # noqa: E402
from local.backends import LOCALSTACK_KEY  # noqa: E402
from local.stand_ins import Server, start_localstack, start_mongodb  # noqa: E402

MIB, GIB = 1024 * 1024, 1024**3
BUCKET = "bench"
RESULTS = ROOT / "bench" / "results.json"
HANDLERS = (
    "registry_write",
    "registry_query",
    "registry_graphql",
    "registry_zip",
    "components",
    "assetdb",
    "dbregistry",
    "ingest",
    "registry_download",
)


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def start_stand_ins() -> tuple[Server, Server, str]:
    """LocalStack's S3 (with the benchmark's bucket) and the MongoDB wire server, with the
    credentials LocalStack checks exported; the S3 endpoint."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[name] = LOCALSTACK_KEY
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    s3_server, endpoint = start_s3()
    try:
        mongodb = start_mongodb()
    except BaseException:
        s3_server.stop()
        raise
    return s3_server, mongodb, endpoint


def start_s3() -> tuple[Server, str]:
    """LocalStack's S3, as the tests and make run use it, with the benchmark's bucket."""
    server = start_localstack(services="s3")
    boto3.client("s3", endpoint_url=server.address).create_bucket(Bucket=BUCKET)
    return server, server.address


def worker_env(endpoint: str, mongodb_uri: str | None = None) -> dict[str, str]:
    """The workers' environment: the S3 at ``endpoint``, the metadata on the MongoDB wire
    server at ``mongodb_uri`` (as DocumentDB is reached; mongomock when None)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MONGODB_URI", "REDIS_URL")}
    if mongodb_uri:
        env["MONGODB_URI"] = mongodb_uri
    env.update(
        {
            "S3_ENDPOINT_URL": endpoint,
            "BUCKET_NAME": BUCKET,
            "AWS_ACCESS_KEY_ID": LOCALSTACK_KEY,
            "AWS_SECRET_ACCESS_KEY": LOCALSTACK_KEY,
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "DOWNLOAD_SIGNING_KEY": "bench-key",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "core" / "python")]),
        }
    )
    return env


def run_worker(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.worker", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"worker {args[0]} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def put_once(s3: Any, path: Path, key: str) -> float:
    """The baseline: the bundle's bytes PUT once to the same endpoint (multipart, as any
    client would for a large object)."""
    config = TransferConfig(
        multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB, max_concurrency=3
    )
    started = time.perf_counter()
    s3.upload_file(str(path), BUCKET, key, Config=config)
    return time.perf_counter() - started


def delete_prefix(s3: Any, prefix: str) -> None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=BUCKET, Delete={"Objects": keys, "Quiet": True})


def drop_metadata(env: dict[str, str]) -> None:
    """Every record the workers wrote on the wire server (assets, content references)."""
    from pymongo import MongoClient

    from assets_core.config import from_environment

    client: MongoClient[dict[str, Any]] = MongoClient(env["MONGODB_URI"])
    try:
        client.drop_database(from_environment(env).mongodb_database)
    finally:
        client.close()


def ingest_case(
    s3: Any, env: dict[str, str], bundle: Path, scratch: Path, floor: bool = False, runs: int = 1
) -> tuple[float, dict[str, Any], Path, float | None]:
    """The baseline PUT of the bundle, then (when asked) the floor of its requests (see
    ``bench.worker.floor``), then its ingest, ``runs`` times: the median PUT, ingest and floor
    times (this machine's speed moves by tens of percent between runs), the highest peak RSS,
    and the document the last ingest registered (its files stay for the download figures; an
    earlier run's are deleted, so the server holds one copy at a time)."""
    puts, floors, ingests, peaks = [], [], [], []
    # Both workers run with the ingest function's own environment, as deployed.
    env = {**env, **INGEST.environment}
    for run in range(runs):
        upload_id = str(uuid.uuid4())
        key = f"incoming/{upload_id}.zip"
        puts.append(put_once(s3, bundle, key))
        if floor:
            floors.append(run_worker(env, "floor", key)["seconds"])
            delete_prefix(s3, "floor/")
        document = scratch / f"{upload_id}.json"
        result = run_worker(env, "ingest", upload_id, key, str(document))
        ingests.append(result["seconds"])
        peaks.append(result["peak_rss_mib"])
        if run < runs - 1:  # the next run registers the same asset, from nothing
            asset_id = json.loads(document.read_text())["asset_id"]
            delete_prefix(s3, f"assets/{asset_id}/")
            drop_metadata(env)
    log(f"  PUT {puts}, floor {floors}, ingest {ingests} (s)")
    summary = {"seconds": statistics.median(ingests), "peak_rss_mib": max(peaks)}
    return (
        statistics.median(puts),
        summary,
        document,
        statistics.median(floors) if floors else None,
    )


def shipped_environment(scratch: Path) -> tuple[str, str]:
    """Import paths as a deployed function has them: the functions and the core layer, and
    the locked runtime dependencies exported exactly as ``make layer`` exports them (installed
    for this machine's Python, as the layer's arm64 wheels cannot load here), without the
    development environment (moto, mongomock, cryptography...), whose packages change what
    some libraries import (pymongo loads cryptography's X.509 support when it is present).
    The baseline's boto3, at the version of uv.lock, gets a folder of its own."""
    uv = str(ROOT / ".uv" / "bin" / "uv")
    requirements = scratch / "requirements.txt"
    export = ["--frozen", "--no-hashes", "--no-emit-project", "--quiet"]
    subprocess.run(
        [uv, "export", *export, "--no-default-groups", "-o", str(requirements)],
        cwd=ROOT,
        check=True,
    )
    deps, boto3_dir = scratch / "deps", scratch / "boto3"
    install = [uv, "pip", "install", "--quiet", "--python", sys.executable, "--target"]
    subprocess.run([*install, str(deps), "-r", str(requirements)], cwd=ROOT, check=True)
    boto3_version = importlib.metadata.version("boto3")
    subprocess.run([*install, str(boto3_dir), f"boto3=={boto3_version}"], cwd=ROOT, check=True)
    functions = os.pathsep.join([str(ROOT), str(ROOT / "layers" / "core" / "python"), str(deps)])
    return functions, str(boto3_dir)


# The libraries every API handler imports and the work they do at import, none of ours: what
# any handler built on the design's libraries (powertools' event handler with validation and
# X-Ray tracing of botocore and pymongo, pydantic, pymongo) pays before its first line runs.
LIBRARY_FLOOR = """
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
import botocore.session, pydantic, pymongo
Logger(service="floor")
Tracer(service="floor", patch_modules=("botocore", "pymongo"))
APIGatewayHttpResolver(enable_validation=True)
"""
# As a deployed function starts: Lambda sets LAMBDA_TASK_ROOT, and with active tracing the
# Tracer is on and patches botocore and pymongo at import (outside Lambda, X-Ray's SDK would
# also build two botocore clients for centralized sampling, which it skips in Lambda).
LAMBDA_ENVIRONMENT = {
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}


def import_ratio(
    env: dict[str, str], scratch: Path, rounds: int = 5
) -> tuple[float, dict[str, float], float, float]:
    """Each handler's cold import (fresh interpreter, median of 5) against ``import boto3``,
    both from what is shipped (see ``shipped_environment``), with ``-S`` so that nothing of
    this machine's site-packages is on the path, in Lambda's environment (tracing on, as
    deployed). The modules are timed in rounds, one import of each per round, so the
    machine's drift touches the baseline and the handlers alike. Both import from cached
    bytecode, as a deployed function should: a first run writes the .pyc files. (This machine
    sets PYTHONDONTWRITEBYTECODE, and uv installs no bytecode, so without it every run would
    time compiling each module from source, not importing it.) Also timed: the libraries'
    floor (``LIBRARY_FLOOR``), so a reader sees how much of a handler's import is ours."""
    functions_path, boto3_path = shipped_environment(scratch)
    floor = scratch / "floor"
    floor.mkdir()
    (floor / "library_floor.py").write_text(LIBRARY_FLOOR)
    env = {
        k: v
        for k, v in env.items()
        if k not in ("PYTHONDONTWRITEBYTECODE", "POWERTOOLS_TRACE_DISABLED")
    }
    env |= LAMBDA_ENVIRONMENT
    modules = {
        "boto3": boto3_path,
        "library_floor": os.pathsep.join([str(floor), functions_path]),
    } | {f"functions.{name}.handler": functions_path for name in HANDLERS}

    def cold(module: str) -> float:
        code = (
            "import time; t = time.perf_counter(); import "
            + module
            + "; print(time.perf_counter() - t)"
        )
        out = subprocess.run(
            [sys.executable, "-S", "-c", code],
            cwd=scratch,
            env={**env, "PYTHONPATH": modules[module]},
            capture_output=True,
            text=True,
            check=True,
        )
        return float(out.stdout.strip())

    for module in modules:  # writes the bytecode
        cold(module)
    times: dict[str, list[float]] = {module: [] for module in modules}
    for _ in range(rounds):
        for module in modules:
            times[module].append(cold(module))
    baseline = statistics.median(times.pop("boto3"))
    library = statistics.median(times.pop("library_floor"))
    handlers = {module.split(".")[1]: statistics.median(values) for module, values in times.items()}
    return max(handlers.values()) / baseline, handlers, baseline, library


def layer_size_mib() -> float:
    subprocess.run(["make", "-s", "layer"], cwd=ROOT, check=True)
    total = 0
    for folder in (
        ROOT / "layers" / "deps" / "python",
        ROOT / "layers" / "core" / "python",
        ROOT / "functions",
    ):
        total += sum(
            p.stat().st_size
            for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        )
    return total / MIB


class Figures(dict[str, Any]):
    """Each figure is printed and saved as soon as it is measured."""

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, value)
        print(f"{name}: {value}", flush=True)
        RESULTS.write_text(json.dumps(self, indent=2) + "\n")

    def ingest(self, case: str, put: float, ingest: float, floor: float | None) -> None:
        """One ingest case's times and ratios: against the PUT, the floor against the PUT, and
        ingest against the floor."""
        assert floor is not None
        self[f"put_seconds_{case}"] = round(put, 2)
        self[f"ingest_seconds_{case}"] = round(ingest, 2)
        self[f"ingest_copy_ratio_{case}"] = round(ingest / put, 3)
        self[f"ingest_floor_seconds_{case}"] = round(floor, 2)
        self[f"ingest_floor_ratio_{case}"] = round(floor / put, 3)
        self[f"ingest_over_floor_{case}"] = round(ingest / floor, 3)


def copy_floor(s3: Any, key: str, size: int) -> float:
    """What the endpoint charges to copy ``size`` bytes inside itself: the archive copied
    server-side, one part after the other (UploadPartCopy in parts of at most 1 GiB, then
    completed), with none of the builder's work. S3 does this without the bytes passing
    through anything the caller runs; a stand-in that copies them on its own CPU charges
    for every byte, which bounds how far below one PUT any build can go here (the builder's
    parallel copies can beat this one serial copy, so it is a yardstick, not a floor)."""
    started = time.perf_counter()
    target = "bench-copy/archive.zip"
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=target, ChecksumAlgorithm="CRC32")
    parts = []
    for number, start in enumerate(range(0, size, GIB), start=1):
        end = min(size, start + GIB) - 1
        copied = s3.upload_part_copy(
            Bucket=BUCKET,
            Key=target,
            UploadId=upload["UploadId"],
            PartNumber=number,
            CopySource={"Bucket": BUCKET, "Key": key},
            CopySourceRange=f"bytes={start}-{end}",
        )["CopyPartResult"]
        parts.append(
            {"PartNumber": number, "ETag": copied["ETag"], "ChecksumCRC32": copied["ChecksumCRC32"]}
        )
    s3.complete_multipart_upload(
        Bucket=BUCKET, Key=target, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
    )
    seconds = time.perf_counter() - started
    s3.delete_object(Bucket=BUCKET, Key=target)
    return seconds


def archive_figures(
    s3: Any, env: dict[str, str], document: Path, scratch: Path, case: str
) -> dict[str, Any]:
    """A large download as AWS would serve it: the ZIP assembled in S3 by the builder, timed
    against one PUT of the same bytes (the client-side way to put an archive there) and
    against the endpoint's own cost of copying them; then fetched by a presigned GET, against
    a raw GET of the same object with the same HTTP stack. Three rounds, medians."""
    import urllib3

    asset_id = json.loads(document.read_text())["asset_id"]
    key = f"archives/{asset_id}/1.zip"
    builds, puts, floors, presigned, raw = [], [], [], [], []
    peak = 0.0
    http = urllib3.PoolManager()
    for _ in range(3):
        delete_prefix(s3, f"archives/{asset_id}/")
        built = run_worker(env, "archive", str(document), "1")
        builds.append(built["seconds"])
        peak = max(peak, built["peak_rss_mib"])
        size = built["bytes"]
        floors.append(copy_floor(s3, key, size))
        copy = scratch / "archive.zip"
        s3.download_file(BUCKET, key, str(copy))
        assert copy.stat().st_size == size
        puts.append(put_once(s3, copy, "bench-put/archive.zip"))
        copy.unlink()
        s3.delete_object(Bucket=BUCKET, Key="bench-put/archive.zip")
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=600
        )
        started = time.perf_counter()
        response = http.request("GET", url, preload_content=False)
        got = sum(len(chunk) for chunk in response.stream(MIB))
        response.release_conn()
        presigned.append(time.perf_counter() - started)
        assert (response.status, got) == (200, size), (response.status, got, size)
        started = time.perf_counter()
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"]
        got = sum(len(chunk) for chunk in body.iter_chunks(MIB))
        raw.append(time.perf_counter() - started)
        assert got == size, (got, size)
    log(f"  build {builds}, copy {floors}, PUT {puts}, presigned GET {presigned}, GET {raw}")
    build, put, floor = (statistics.median(v) for v in (builds, puts, floors))
    presigned_rate = size / statistics.median(presigned)
    raw_rate = size / statistics.median(raw)
    return {
        f"archive_mib_{case}": round(size / MIB, 1),
        f"archive_build_seconds_{case}": round(build, 2),
        f"archive_put_seconds_{case}": round(put, 2),
        f"archive_build_put_ratio_{case}": round(build / put, 3),
        f"archive_copy_floor_ratio_{case}": round(floor / put, 3),
        f"archive_build_over_floor_{case}": round(build / floor, 3),
        f"archive_build_peak_rss_mib_{case}": round(peak, 1),
        f"archive_presigned_mib_per_s_{case}": round(presigned_rate / MIB, 1),
        f"archive_raw_get_mib_per_s_{case}": round(raw_rate / MIB, 1),
        f"archive_presigned_get_ratio_{case}": round(presigned_rate / raw_rate, 3),
    }


def s3_server_name() -> str:
    """The S3 every figure was measured against: LocalStack's version, as pinned for the
    local stack."""
    pinned = (ROOT / "local" / "localstack-requirements.txt").read_text().splitlines()
    version = next(
        (line.split("==", 1)[1] for line in pinned if line.startswith("localstack-core==")),
        "unknown",
    )
    return f"LocalStack {version} (S3, host mode)"


def main() -> None:
    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="assets-bench-"))
    s3_server, mongodb, endpoint = start_stand_ins()
    env = worker_env(endpoint, mongodb.address)
    os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})
    s3 = boto3.client("s3", endpoint_url=endpoint)
    figures = Figures()
    try:
        # First, while the machine is quiet: later, the S3 server holds gigabytes and the
        # kernel writes its objects back, which slows every file read an import makes.
        log("handler imports")
        ratio, handlers, boto3_seconds, library = import_ratio(env, scratch)
        figures["import_boto3_ms"] = round(boto3_seconds * 1000, 1)
        figures["handler_import_ms"] = {k: round(v * 1000, 1) for k, v in handlers.items()}
        figures["handler_import_ratio_max"] = round(ratio, 3)
        figures["handler_import_floor_ms"] = round(library * 1000, 1)
        figures["handler_import_floor_ratio"] = round(library / boto3_seconds, 3)
        figures["handler_import_over_floor_max"] = round(max(handlers.values()) / library, 3)

        log("generating bundles")
        big = mixed_bundle(scratch / "mixed-1g.zip", "bench-mixed-1g", GIB)
        small = mixed_bundle(scratch / "mixed-64m.zip", "bench-mixed-64m", 64 * MIB)
        stored = stored_bundle(scratch / "stored-1g.zip", "bench-stored-1g", GIB)
        figures["bundle_mib_1gib"] = round(big.stat().st_size / MIB, 1)
        os.sync()  # the bundles' pages are written back now, not during the measurements

        log("ingest, 1 GiB mixed")
        put_1g, ingest_1g, document_1g, floor_1g = ingest_case(s3, env, big, scratch, True, runs=3)
        figures.ingest("1gib", put_1g, ingest_1g["seconds"], floor_1g)
        figures["ingest_peak_rss_mib_1gib"] = round(ingest_1g["peak_rss_mib"], 1)

        log("ingest, 64 MiB mixed")
        _, ingest_64m, _, _ = ingest_case(s3, env, small, scratch)
        figures["ingest_peak_rss_mib_64mib"] = round(ingest_64m["peak_rss_mib"], 1)
        figures["ingest_rss_growth"] = round(
            ingest_1g["peak_rss_mib"] / ingest_64m["peak_rss_mib"], 3
        )

        log("ingest, 1 GiB of stored members")
        put_stored, ingest_stored, _, floor_stored = ingest_case(
            s3, env, stored, scratch, True, runs=3
        )
        figures.ingest("stored_1gib", put_stored, ingest_stored["seconds"], floor_stored)

        log("naive ingest (BytesIO + zipfile), 1 GiB mixed")
        naive_key = f"incoming/{uuid.uuid4()}.zip"
        put_once(s3, big, naive_key)
        naive = run_worker(env, "naive", naive_key)
        figures["naive_seconds_1gib"] = round(naive["seconds"], 2)
        figures["naive_ingest_ratio_1gib"] = round(naive["seconds"] / ingest_1g["seconds"], 3)
        figures["naive_peak_rss_mib_1gib"] = round(naive["peak_rss_mib"], 1)

        log("download, 1 GiB mixed")
        # Three rounds of both, alternating, so a slow moment touches each side alike.
        rounds = [
            (
                run_worker(env, "get", str(document_1g)),
                run_worker(env, "download", str(document_1g)),
            )
            for _ in range(3)
        ]
        raw = {
            "bytes": rounds[0][0]["bytes"],
            "seconds": statistics.median(r["seconds"] for r, _ in rounds),
        }
        download = {
            "seconds": statistics.median(d["seconds"] for _, d in rounds),
            "ttfb_ms": statistics.median(d["ttfb_ms"] for _, d in rounds),
            "peak_rss_mib": max(d["peak_rss_mib"] for _, d in rounds),
        }
        log(f"  GET {[r['seconds'] for r, _ in rounds]}, ZIP {[d['seconds'] for _, d in rounds]}")
        get_rate = raw["bytes"] / raw["seconds"]
        zip_rate = raw["bytes"] / download["seconds"]
        figures["get_mib_per_s_1gib"] = round(get_rate / MIB, 1)
        figures["download_mib_per_s_1gib"] = round(zip_rate / MIB, 1)
        figures["download_get_ratio_1gib"] = round(zip_rate / get_rate, 3)
        figures["download_ttfb_ms"] = round(download["ttfb_ms"], 1)
        figures["download_peak_rss_mib_1gib"] = round(download["peak_rss_mib"], 1)

        log("archive assembled in S3, 1 GiB mixed")
        for name, value in archive_figures(s3, env, document_1g, scratch, "1gib").items():
            figures[name] = value
        # The server-side path at the size the goal names: an asset of two 1 GiB files.
        delete_prefix(s3, "")  # what the server holds: one asset at a time
        big.unlink()
        stored.unlink()
        stored_2g = stored_bundle(scratch / "stored-2g.zip", "bench-stored-2g", 2 * GIB)
        _, _, document_2g, _ = ingest_case(s3, env, stored_2g, scratch)
        stored_2g.unlink()
        log("archive assembled in S3, 2 GiB of large files")
        for name, value in archive_figures(s3, env, document_2g, scratch, "2gib").items():
            figures[name] = value
        delete_prefix(s3, "")

        log("the assets command against s3transfer, 2 GiB")
        for name, value in transfer_figures(2 * GIB, scratch).items():
            figures[name] = value

        log("layer size")
        figures["layer_size_mib"] = round(layer_size_mib(), 1)

        log("queries over 100,000 assets, 8 clients, through the local gateway")
        for name, value in query_figures().items():
            figures[name] = value
    finally:
        s3_server.stop()
        mongodb.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    figures["bench_seconds"] = round(time.perf_counter() - started, 1)
    figures["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    figures["python"] = platform.python_version()
    figures["s3_server"] = s3_server_name()


if __name__ == "__main__":
    main()
