"""A post-deploy smoke test of a running stack (``make smoke URL=...``; the e2e tests run it
against ``make run``): health of every prefix, an asset created, read, searched and deleted,
and a small bundle uploaded through the presigned flow and downloaded byte-identical.

    python -m assets_client.smoke URL      ($ASSETS_TOKEN, when set, is sent as the bearer)

One line per step; the first failure stops the run with exit status 1. What the run created
is deleted, whether or not a step failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from assets_client.api import ApiError, AssetsClient, BadResponse, NetworkError, UploadFailed

PREFIXES = ("/registry", "/assetdb", "/dbregistry", "/components")
FILES = {"models/weights.bin": 256 * 1024, "readme.md": 0}


class StepFailed(Exception):
    pass


class Smoke:
    def __init__(self, client: AssetsClient, out: TextIO, timeout: float) -> None:
        self.client = client
        self.out = out
        self.timeout = timeout
        self.run_id = f"smoke-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        except (ApiError, NetworkError, BadResponse, UploadFailed, StepFailed) as exc:
            self.out.write(f"FAIL {name}: {exc}\n")
            self.out.flush()
            raise StepFailed(name) from exc
        elapsed = (time.monotonic() - started) * 1000
        self.out.write(f"ok   {name} ({elapsed:.0f} ms)\n")
        self.out.flush()

    def document(self, asset_id: str, files: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "asset_id": asset_id,
            "asset_uri": f"smoke://{asset_id}",
            "asset_version": "v1",
            "asset_profile_id": "smoke",
            "asset_brief_description": f"smoke test {self.run_id}",
            "asset_file_ids": [],
            "profiles": [
                {
                    "asset_profile_id": "smoke",
                    "asset_id": asset_id,
                    "asset_type": "smoke-test",
                    "asset_sub_type": "post-deploy",
                }
            ],
            "files": files,
        }

    def health(self) -> None:
        for prefix in PREFIXES:
            with self.step(f"health {prefix}"):
                answer = self.client.health(prefix)
                if answer.get("status") != "ok":
                    raise StepFailed(f"answered {answer!r}")

    def crud(self) -> None:
        asset_id = f"{self.run_id}-record"
        with self.step(f"create {asset_id}"):
            self.client.create(self.document(asset_id, []))
            self.created.append(asset_id)
        with self.step("read it back"):
            stored = self.client.get(asset_id)
            if stored.get("asset_uri") != f"smoke://{asset_id}":
                raise StepFailed(f"read back {stored.get('asset_uri')!r}")
        with self.step("search for it"):
            found = [a["asset_id"] for a in self.client.search({"asset_id": asset_id})]
            if found != [asset_id]:
                raise StepFailed(f"the search found {found}")
        with self.step("delete it"):
            self.client.delete(asset_id)
            self.created.remove(asset_id)
        with self.step("it is gone"):
            try:
                self.client.get(asset_id)
            except ApiError as exc:
                if exc.status == 404:
                    return
                raise
            raise StepFailed("still readable after its delete")

    def bundle(self, work: Path) -> None:
        asset_id = f"{self.run_id}-bundle"
        folder = work / asset_id
        contents = {path: os.urandom(size) for path, size in FILES.items()}
        for path, content in contents.items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(content)
        entries = [
            {"asset_file_id": f"f{i}", "asset_file_metadata": {"path": path}}
            for i, path in enumerate(contents)
        ]
        (folder / "asset.json").write_text(json.dumps(self.document(asset_id, entries)))
        with self.step(f"upload a bundle of {len(contents)} files (presigned)"):
            upload_id = self.client.upload(folder)
        with self.step("ingest it"):
            self.created.append(asset_id)
            self.client.wait(upload_id, timeout=self.timeout)
        archive = work / f"{asset_id}.zip"
        with self.step("download it"):
            self.client.download(asset_id, archive)
        with self.step("the download is byte-identical"):
            with zipfile.ZipFile(archive) as zipped:
                for path, content in contents.items():
                    if zipped.read(path) != content:
                        raise StepFailed(f"{path} differs from what was uploaded")
            self.client.verify(archive, self.client.get(asset_id))
        with self.step("delete the bundle's asset"):
            self.client.delete(asset_id)
            self.created.remove(asset_id)

    def clean_up(self) -> None:
        for asset_id in list(self.created):
            try:
                self.client.delete(asset_id)
                self.out.write(f"     cleaned up {asset_id}\n")
            except (ApiError, NetworkError, BadResponse) as exc:
                self.out.write(f"     could not delete {asset_id}: {exc}\n")


def run(
    url: str,
    *,
    token: str | None = None,
    out: TextIO = sys.stdout,
    timeout: float = 120.0,
    steps: tuple[Callable[[Smoke, Path], None], ...] | None = None,
) -> int:
    """Every step against ``url``; 0 when all pass, 1 at the first failure."""
    client = AssetsClient(url, token=token, timeout=30.0)
    smoke = Smoke(client, out, timeout)
    chosen = steps or (
        lambda s, _: s.health(),
        lambda s, _: s.crud(),
        lambda s, work: s.bundle(work),
    )
    out.write(f"smoke test of {client.endpoint} ({smoke.run_id})\n")
    try:
        with tempfile.TemporaryDirectory(prefix="assets-smoke-") as work:
            for step in chosen:
                step(smoke, Path(work))
    except StepFailed:
        return 1
    finally:
        smoke.clean_up()
        client.close()
    out.write("all steps passed\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assets_client.smoke", description=__doc__)
    parser.add_argument("url", help="the stack's API URL (the ApiUrl output)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for ingest")
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("no URL: make smoke URL=https://... (the stack's ApiUrl output)")
    return run(args.url, token=os.environ.get("ASSETS_TOKEN"), timeout=args.timeout)


if __name__ == "__main__":
    sys.exit(main())
