"""Issue 20's query figure: p50 and p99 of by-id, typed and search queries over 100,000
assets, from 8 concurrent clients through the local gateway (``local/gateway.py``, the JWT
authorizer included), on the MongoDB wire server the stack runs (SecantusDB) and, beside it,
on in-process mongomock.

Each backend gets a gateway process of its own (``python -m bench.queries serve``): it seeds
the assets collection in bulk (``insert_many`` in batches, the production indexes then
created as the store creates them), then serves; the clients here send each query kind
REQUESTS times (or for KIND_SECONDS, whichever ends first) over keep-alive connections, with
a reader's token from the gateway's ``/local/token``. Every answer is checked (200, the
asset asked for, a non-empty page of what was asked for), so a broken query cannot make a
fast number.

    python -m bench.queries            # prints name: value lines
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "layers" / "core" / "python", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

ASSETS = 100_000
BATCH = 5_000
CLIENTS = 8
# Requests per query kind (after one to warm up), or as many as KIND_SECONDS allow, whichever
# is fewer (every client sends one at least): the gateway runs one call of a function at a
# time, as one Lambda environment does, so a query of seconds holds the others' turns and
# the figure would otherwise take hours.
REQUESTS = 400
KIND_SECONDS = 20.0
# The store's time limit in the gateway processes: the most Settings allows (60 s, not the
# stack's 2 s), so that a slow query is measured rather than answered 504 QUERY_TIMEOUT.
MAX_TIME_MS = 60_000
DEFAULT_MAX_TIME_MS = 2_000
KINDS = ("by_id", "typed", "search")
PAGE = 100
# The caller: a reader (the visibility condition is part of every query, as for most
# callers); a few private assets are its own, the rest of the private ones are hidden.
READER = "bench-reader"
OWNERS = 50
# asset_type with its share of the assets (typed queries of very different selectivity),
# and its sub-types.
TYPES = {
    "model": (40, ("llm", "vision", "speech", "embedding")),
    "dataset": (30, ("tabular", "text", "images")),
    "policy": (15, ("access", "retention")),
    "component": (10, ("service", "library")),
    "prompt": (5, ("system", "few-shot")),
}
# Tags: a vocabulary of words; each asset carries three, most of them common words.
TAG_WORDS = tuple(f"tag-{n:03d}" for n in range(300))


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def asset_type_of(n: int) -> str:
    slot = (n * 7919) % 100  # spread over the ids, not in runs
    for name, (share, _) in TYPES.items():
        if slot < share:
            return name
        slot -= share
    raise AssertionError(slot)


def tags_of(n: int) -> list[str]:
    """Three tags, skewed: the first words of the vocabulary are the most common."""
    rng = random.Random(n)
    picked: list[str] = []
    while len(picked) < 3:
        word = TAG_WORDS[min(int(rng.expovariate(1 / 40)), len(TAG_WORDS) - 1)]
        if word not in picked:
            picked.append(word)
    return picked


def asset_id_of(n: int) -> str:
    return f"q-{n:06d}"


def visibility_of(n: int) -> tuple[str, str]:
    """(visibility, created_by): nine in ten public; of the private ones, one in ten the
    reader's own."""
    if n % 10:
        return "public", f"user-{n % OWNERS}"
    if n % 100 == 0:
        return "private", READER
    return "private", f"user-{n % OWNERS}"


def asset_document(n: int) -> dict[str, Any]:
    """Asset ``n`` as the registry stores it: the model's document, stamped, with its
    versions index (one version), as a create writes it."""
    from assets_core.collections import REGISTRY_FIELD
    from assets_core.logic.versions import entry_of, new_ref
    from assets_core.models.asset import Asset

    asset_id = asset_id_of(n)
    kind = asset_type_of(n)
    sub_types = TYPES[kind][1]
    family = ("llama", "mistral", "resnet", "whisper", "bert", "clip", "t5")[n % 7]
    visibility, owner = visibility_of(n)
    asset = {
        "asset_id": asset_id,
        "asset_uri": f"{kind}s://bench.example.com/{family}/{asset_id}",
        "asset_version": f"v{n % 5 + 1}",
        "asset_profile_id": f"p-{asset_id}",
        "asset_file_ids": [],
        "asset_brief_description": f"{family} {kind} number {n}",
        "visibility": visibility,
        "profiles": [
            {
                "asset_profile_id": f"p-{asset_id}",
                "asset_type": kind,
                "asset_sub_type": sub_types[n % len(sub_types)],
                "asset_id": asset_id,
                "asset_tags": tags_of(n),
                "asset_description": f"The {family} {kind} {n} of the query benchmark.",
            }
        ],
        "apis": [
            {
                "asset_api_id": f"api-{asset_id}",
                "asset_id": asset_id,
                "asset_api_route": f"/api/{family}/v{n % 3 + 1}/{kind}",
            }
        ],
    }
    document = Asset.model_validate(asset).document()
    at = f"2026-01-{n % 28 + 1:02d}T00:00:00.000Z"
    document.update(created_by=owner, created_at=at, updated_by=owner, updated_at=at)
    entry = entry_of(document, ref=new_ref(asset_id, document["asset_version"]), by=owner, at=at)
    document[REGISTRY_FIELD] = {"versions": [entry], "aliases": {}}
    return document


def seed(count: int) -> float:
    """``count`` assets in the configured store, in bulk, then its indexes as the store
    creates them (as ``bench.__main__.query_p99_ms`` does); the seconds it took."""
    from assets_core.stores.factory import assets_store

    started = time.perf_counter()
    collection = assets_store().unscoped.collection
    collection.drop()  # clean, and no index to keep up during the bulk insert
    for first in range(0, count, BATCH):
        documents = [asset_document(n) for n in range(first, min(first + BATCH, count))]
        collection.insert_many(documents, ordered=False)
    assets_store.cache_clear()
    store = assets_store()  # creates the indexes
    seconds = time.perf_counter() - started
    collection = store.unscoped.collection
    assert collection.count_documents({}) == count  # without the store's time limit
    indexes = sorted(collection.index_information())
    log(f"  seeded {count} assets in {seconds:.1f} s; indexes {indexes}")
    return seconds


def serve(count: int) -> None:
    """The gateway process: the store seeded, then every API group's handler behind the
    local gateway on a free port; its address and the seeding time on stdout as JSON;
    serves until stdin closes."""
    from local.gateway import serve as serve_gateway
    from local.stand_ins import HOST, free_port

    seconds = seed(count)
    port = free_port()
    server = serve_gateway(HOST, port)
    print(json.dumps({"url": f"http://{HOST}:{port}", "seed_seconds": seconds}), flush=True)
    sys.stdin.read()
    server.shutdown()


@dataclass
class Gateway:
    """A gateway process (``serve``) on one backend."""

    process: subprocess.Popen[str]
    url: str
    seed_seconds: float

    @classmethod
    def start(cls, mongodb_uri: str, count: int) -> Gateway:
        env = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_")}
        env.update(
            {
                "MONGODB_URI": mongodb_uri,
                "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"),
                "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test",
                "AWS_DEFAULT_REGION": "us-east-1",
                # As the stack sets them, less the per-request INFO lines and traces.
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
                "QUERY_MAX_TIME_MS": str(MAX_TIME_MS),
            }
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.queries", "serve", str(count)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            process.wait()
            raise SystemExit(f"the gateway process exited ({process.returncode})")
        started = json.loads(line)
        return cls(process, str(started["url"]), float(started["seed_seconds"]))

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Client:
    """One keep-alive connection to the gateway, with a bearer token."""

    def __init__(self, url: str, token: str | None = None) -> None:
        address = urlsplit(url)
        self.connection = http.client.HTTPConnection(
            address.hostname or "127.0.0.1", address.port, timeout=120
        )
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        self.connection.request(method, path, body=data, headers=self.headers)
        answer = self.connection.getresponse()
        text = answer.read()
        return answer.status, json.loads(text) if text else None

    def close(self) -> None:
        self.connection.close()


def reader_token(url: str) -> str:
    client = Client(url)
    try:
        status, minted = client.call(
            "POST", "/local/token", {"sub": READER, "roles": ["assets-reader"]}
        )
    finally:
        client.close()
    assert status == 200, minted
    return str(minted["access_token"])


@dataclass(frozen=True)
class Query:
    """One request and the check of its answer."""

    method: str
    path: str
    body: Any
    check: Callable[[Any], None]


def visible(n: int) -> bool:
    visibility, owner = visibility_of(n)
    return visibility == "public" or owner == READER


def by_id_query(rng: random.Random, count: int) -> Query:
    n = rng.randrange(count)
    while not visible(n):
        n = rng.randrange(count)
    asset_id = asset_id_of(n)

    def check(answer: Any) -> None:
        assert answer["asset_id"] == asset_id, answer

    return Query("GET", f"/registry/query/by-id/{asset_id}", None, check)


def page_check(test: Callable[[dict[str, Any]], bool]) -> Callable[[Any], None]:
    """A full first page (there are far more matches than a page) of items that pass."""

    def check(answer: Any) -> None:
        items = answer["items"]
        assert items
        assert len(items) == PAGE or answer["next_cursor"] is None
        assert all(test(item) and visible(int(item["asset_id"][2:])) for item in items)

    return check


def typed_query(rng: random.Random, count: int) -> Query:
    """``by-type`` for a type chosen as often as it is held (model 40 %, prompt 5 %)."""
    names = list(TYPES)
    kind = rng.choices(names, weights=[TYPES[name][0] for name in names])[0]
    return Query(
        "GET",
        f"/registry/query/by-type/{kind}?limit={PAGE}",
        None,
        page_check(lambda item: item["profiles"][0]["asset_type"] == kind),
    )


def search_query(rng: random.Random, count: int) -> Query:
    """The README's keyword search: a tag (``$all``) or an asset_id prefix (``$regex``), as
    its second search example has it; tags of every frequency."""
    tag = TAG_WORDS[rng.randrange(60)]
    prefix = f"^q-{rng.randrange(count // 1000):03d}"
    body = {"$or": [{"profiles.asset_tags": {"$all": [tag]}}, {"asset_id": {"$regex": prefix}}]}

    def matches(item: dict[str, Any]) -> bool:
        return tag in item["profiles"][0]["asset_tags"] or item["asset_id"].startswith(prefix[1:])

    return Query("POST", f"/registry/query/search?limit={PAGE}", body, page_check(matches))


BUILDERS: dict[str, Callable[[random.Random, int], Query]] = {
    "by_id": by_id_query,
    "typed": typed_query,
    "search": search_query,
}


def run_kind(url: str, token: str, queries: list[Query], seconds: float) -> list[float]:
    """The queries sent by ``CLIENTS`` threads, each taking the next one in turn, until all
    are sent or ``seconds`` have passed (each client sends one at least); each one's latency
    in ms. Every answer is checked first: a failed one ends the run."""
    work: queue.Queue[Query] = queue.Queue()
    for item in queries:
        work.put(item)
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def client() -> None:
        connection = Client(url, token)
        try:
            sent = 0
            while not failures and (sent == 0 or time.perf_counter() < deadline):
                try:
                    item = work.get_nowait()
                except queue.Empty:
                    return
                elapsed = timed(connection, item)
                sent += 1
                with lock:
                    latencies.append(elapsed)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return latencies


def timed(connection: Client, item: Query) -> float:
    """One query's latency in ms, once its answer is checked."""
    started = time.perf_counter()
    status, answer = connection.call(item.method, item.path, item.body)
    elapsed = (time.perf_counter() - started) * 1000
    assert status == 200, (status, item.method, item.path, str(answer)[:500])
    try:
        item.check(answer)
    except (AssertionError, KeyError, TypeError) as exc:
        raise AssertionError(f"{item.method} {item.path} {item.body}: {str(answer)[:500]}") from exc
    return elapsed


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def backend_figures(label: str, mongodb_uri: str, count: int) -> dict[str, float]:
    """Seed a gateway on this backend, then each kind's p50 and p99."""
    log(f"{label}: seeding {count} assets")
    gateway = Gateway.start(mongodb_uri, count)
    figures = {f"query_seed_seconds_100k_{label}": round(gateway.seed_seconds, 1)}
    try:
        token = reader_token(gateway.url)
        rng = random.Random(20)  # the same queries on each backend
        for kind in KINDS:
            build = BUILDERS[kind]
            run_kind(gateway.url, token, [build(rng, count)], KIND_SECONDS)  # warm-up
            queries = [build(rng, count) for _ in range(REQUESTS)]
            started = time.perf_counter()
            latencies = run_kind(gateway.url, token, queries, KIND_SECONDS)
            seconds = time.perf_counter() - started
            p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
            over = sum(1 for value in latencies if value > DEFAULT_MAX_TIME_MS)
            log(
                f"  {kind}: {len(latencies)} requests in {seconds:.1f} s, p50 {p50:.1f} ms, "
                f"p99 {p99:.1f} ms, max {max(latencies):.1f} ms; {over} over "
                f"{DEFAULT_MAX_TIME_MS} ms (the stack's time limit)"
            )
            figures[f"query_p50_ms_100k_{label}_{kind}"] = round(p50, 1)
            figures[f"query_p99_ms_100k_{label}_{kind}"] = round(p99, 1)
            figures[f"query_requests_100k_{label}_{kind}"] = len(latencies)
    finally:
        gateway.stop()
    return figures


def query_figures(count: int = ASSETS) -> dict[str, float]:
    """The figures on SecantusDB (the stack's MongoDB wire server), then on mongomock.

    SecantusDB keeps its data in a folder here, not in memory as ``make run`` starts it:
    100,000 assets (and its oplog's copy of each) overflow the in-memory store's 256 MB
    cache (``WT_CACHE_FULL`` on insert)."""
    from local.stand_ins import start_mongodb

    data = Path(tempfile.mkdtemp(prefix="assets-bench-secantus-"))
    server = start_mongodb(storage_path=str(data))
    try:
        figures = backend_figures("wire", server.address, count)
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
    figures.update(backend_figures("mongomock", "mongomock://", count))
    return figures


def main(args: list[str]) -> None:
    if args[:1] == ["serve"]:
        serve(int(args[1]))
        return
    started = time.perf_counter()
    for name, value in query_figures(int(args[0]) if args else ASSETS).items():
        print(f"{name}: {value}", flush=True)
    log(f"took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
