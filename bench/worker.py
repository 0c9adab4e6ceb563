"""One measured job in a fresh process, so its peak RSS is its own: prints JSON.

python -m bench.worker ingest|profile|naive|floor|download|archive|get ARGS...
"""

from __future__ import annotations

import io
import json
import resource
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

MIB = 1024 * 1024


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ingest(upload_id: str, key: str, out: str) -> dict[str, Any]:
    from assets_core.logic.ingest import ingest_upload
    from assets_core.stores.factory import upload_stores
    from functions.ingest.handler import limits

    stores = upload_stores()
    rss_before = peak_rss_mib()
    started = time.perf_counter()
    record = ingest_upload(upload_id, key, stores, limits())
    seconds = time.perf_counter() - started
    if record["status"] != "success":
        raise SystemExit(f"ingest failed: {record}")
    Path(out).write_text(json.dumps(stores.documents.get(record["asset_id"])))
    return {"seconds": seconds, "peak_rss_mib": peak_rss_mib(), "rss_after_imports_mib": rss_before}


def profile(upload_id: str, key: str, out: str) -> dict[str, Any]:
    """The ingest job under pyinstrument, every thread profiled (the readers that inflate and
    hash, the pool that sends the requests) and their sessions combined: a text report of
    where the threads' time goes, written to ``out``."""
    import threading

    from pyinstrument import Profiler
    from pyinstrument.renderers import ConsoleRenderer
    from pyinstrument.session import Session

    sessions: list[Session] = []
    lock = threading.Lock()
    run = threading.Thread.run

    def profiled(thread: threading.Thread) -> None:
        profiler = Profiler(interval=0.002)
        profiler.start()
        try:
            run(thread)
        finally:
            session = profiler.stop()
            with lock:
                sessions.append(session)

    threading.Thread.run = profiled  # type: ignore[method-assign,assignment]
    profiler = Profiler(interval=0.002)
    profiler.start()
    result = ingest(upload_id, key, str(Path(out).with_suffix(".json")))
    main = profiler.stop()
    threading.Thread.run = run  # type: ignore[method-assign]
    combined = main
    for session in sessions:
        combined = Session.combine(combined, session)
    renderer = ConsoleRenderer(unicode=True, show_all=False, time="seconds")
    Path(out).write_text(renderer.render(combined))
    return {**result, "threads": len(sessions) + 1}


def floor(key: str) -> dict[str, Any]:
    """The requests ingest cannot avoid, with none of its work: the archive read once (one
    GET, bytes discarded) while every member is written from memory, with at most as many
    requests in flight as ingest allows (small members as PUTs, large ones in parts of the
    same size, large stored ones copied server-side). Ingest's time over this is what its own
    work (inflating, hashing, checking, ordering) costs; this time over the PUT baseline is
    what the endpoint's per-request and per-byte costs alone leave of a ratio target."""
    import os
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from assets_core.logic.bundle_writer import MemberWriter
    from assets_core.logic.zipreader import LOCAL_HEADER, STORED, read_directory
    from assets_core.stores.objects import Part, object_store
    from functions.ingest.handler import limits

    store, bounds = object_store(), limits()
    size = store.size(key) or 0
    members = [m for m in read_directory(store, key, size)[0] if not m.is_dir]
    copied = {
        n: m
        for n, m in enumerate(members)
        if m.method == STORED and m.size >= bounds.copy_min_bytes
    }
    data_offset = {}  # where each copied member's bytes start (after its local header)
    for n, member in copied.items():
        header = LOCAL_HEADER.unpack(
            store.read_range(key, member.offset, member.offset + LOCAL_HEADER.size)
        )
        name_length, extra_length = header[9], header[10]
        data_offset[n] = member.offset + LOCAL_HEADER.size + name_length + extra_length
    filler = os.urandom(bounds.part_bytes)
    slots = threading.BoundedSemaphore(MemberWriter.MAX_REQUESTS)
    pool = ThreadPoolExecutor(max_workers=2 * MemberWriter.MAX_REQUESTS)

    def request(function: Any, *args: Any) -> Any:
        with slots:
            return function(*args)

    def write(n: int, member: Any) -> None:
        target = f"floor/{n}"
        if member.size < bounds.part_bytes:
            request(store.put, target, filler[: member.size])
            return
        upload = request(store.start_multipart, target, "application/octet-stream")
        if n in copied:
            start = data_offset[n]
            etag = request(store.copy_part, target, upload, 1, key, start, start + member.size)
            parts = [Part(etag, member.crc)]  # one part: its CRC32 is the member's
        else:
            whole, rest = divmod(member.size, bounds.part_bytes)
            sizes = [bounds.part_bytes] * whole + ([rest] if rest else [])
            futures = [
                pool.submit(request, store.upload_part, target, upload, number, filler[:length])
                for number, length in enumerate(sizes, start=1)
            ]
            parts = [future.result() for future in futures]
        request(store.complete_multipart, target, upload, parts)

    started = time.perf_counter()
    writers = ThreadPoolExecutor(max_workers=MemberWriter.MAX_REQUESTS)
    futures = [writers.submit(write, n, member) for n, member in enumerate(members)]
    read = sum(len(chunk) for chunk in store.stream_range(key, 0, size))
    for future in futures:
        future.result()
    return {"seconds": time.perf_counter() - started, "bytes_read": read}


def naive(key: str) -> dict[str, Any]:
    """Spec 000's approach: the whole ZIP into a BytesIO, zipfile, each member read whole."""
    from assets_core.stores.objects import object_store

    store = object_store()
    started = time.perf_counter()
    body = store.client.get_object(Bucket=store.bucket, Key=key)["Body"].read()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        for info in archive.infolist():
            data = archive.read(info)
            store.put(f"naive/{info.filename}", data)
    return {"seconds": time.perf_counter() - started, "peak_rss_mib": peak_rss_mib()}


def download(document_path: str) -> dict[str, Any]:
    """The streamed ZIP, as the download function sends it: the manifest the API writes,
    then the stream of what it lists."""
    from assets_core.keys import manifest_key
    from assets_core.logic.downloads import manifest_of, new_manifest_name
    from assets_core.signing import signed_link, signing_key
    from assets_core.stores.objects import object_store
    from functions.registry_download.handler import stream

    document = json.loads(Path(document_path).read_text())
    store = object_store()
    key = manifest_key(new_manifest_name())
    store.put(key, manifest_of(document, 1, store).to_json(), "application/json")
    link = signed_link(
        "https://bench", document["asset_id"], manifest=key, key=signing_key(), ttl_seconds=600
    )
    query = link.split("?", 1)[1]
    event = {"rawQueryString": query, "requestContext": {"http": {"method": "GET"}}}
    started = time.perf_counter()
    response = stream(event)
    first = None
    sent = 0
    for chunk in response.body:
        if first is None:
            first = time.perf_counter()
        sent += len(chunk)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "bytes": sent,
        "ttfb_ms": ((first or started) - started) * 1000,
        "peak_rss_mib": peak_rss_mib(),
    }


def archive(document_path: str, revision: str) -> dict[str, Any]:
    """The archive builder's work for a large download: the asset's ZIP assembled in S3 from
    its stored objects (mostly server-side copies), timed from the first request to the
    completed object."""
    from assets_core.logic import archives
    from assets_core.logic.downloads import manifest_of
    from assets_core.stores.objects import object_store

    document = json.loads(Path(document_path).read_text())
    store = object_store()
    manifest = manifest_of(document, int(revision), store)
    started = time.perf_counter()
    size = archives.build(store, manifest)
    return {
        "seconds": time.perf_counter() - started,
        "bytes": size,
        "peak_rss_mib": peak_rss_mib(),
    }


def raw_get(document_path: str) -> dict[str, Any]:
    """The baseline: every stored file of the asset fetched once, as plain GETs."""
    from assets_core.stores.objects import object_store

    store = object_store()
    document = json.loads(Path(document_path).read_text())
    files = [
        (store.key_of(f["asset_file_url"]), f["asset_file_metadata"]["size"])
        for f in document["files"]
    ]
    started = time.perf_counter()
    received = 0
    for key, size in files:  # sizes from the metadata, as the download takes them
        assert key is not None
        for chunk in store.stream_range(key, 0, size, MIB):
            received += len(chunk)
    return {"seconds": time.perf_counter() - started, "bytes": received}


if __name__ == "__main__":
    job, *args = sys.argv[1:]
    jobs: dict[str, Callable[..., dict[str, Any]]] = {
        "ingest": ingest,
        "profile": profile,
        "naive": naive,
        "floor": floor,
        "download": download,
        "archive": archive,
        "get": raw_get,
    }
    result = jobs[job](*args)
    print(json.dumps(result))
