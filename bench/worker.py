"""One measured job in a fresh process, so its peak RSS is its own: prints JSON.

python -m bench.worker ingest|naive|download|get ARGS...
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
    from assets_core.logic.bundles import ingest_upload
    from functions.ingest.handler import default_stores, limits

    stores = default_stores()
    rss_before = peak_rss_mib()
    started = time.perf_counter()
    record = ingest_upload(upload_id, key, stores, limits())
    seconds = time.perf_counter() - started
    if record["status"] != "success":
        raise SystemExit(f"ingest failed: {record}")
    Path(out).write_text(json.dumps(stores.documents.get(record["asset_id"])))
    return {"seconds": seconds, "peak_rss_mib": peak_rss_mib(), "rss_after_imports_mib": rss_before}


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
    from assets_core.api.zip import signing_key
    from assets_core.signing import signed_link
    from assets_core.stores.registry import assets_store
    from functions.registry_download.handler import stream

    document = json.loads(Path(document_path).read_text())
    assets_store().insert(document)
    link = signed_link("https://bench", document["asset_id"], key=signing_key(), ttl_seconds=600)
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
        "naive": naive,
        "download": download,
        "get": raw_get,
    }
    result = jobs[job](*args)
    print(json.dumps(result))
