"""A property of content stored once: over random sequences of uploads (new assets and new
versions), deletions, restores and purges, every live version's files read back
byte-identical and nothing a live version holds is ever removed; and once everything is
purged, nothing is left in the bucket. Bounded (examples x steps) to keep ``make test``
short."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from assets_core.config import get_settings
from assets_core.identity import ADMIN
from assets_core.stores.documents import mongo_client
from assets_core.stores.objects import object_store
from tests.conftest import empty_bucket, forget_stores
from tests.integration.test_ingest import run, status_of, upload
from tests.integration.test_retention import purge_at
from tests.integration.test_versions import delete, delete_version, get, restore, restore_version
from tests.support import bundle_asset, caller, zip_bytes

BUCKET = get_settings().bucket_name
ASSET_IDS = ("p-1", "p-2")
CONTENTS = (b"alpha" * 1000, b"beta", b"gamma" * 300, b"delta")
NAMES = ("a.bin", "b.bin", "c.bin")
LATER = datetime.now(UTC) + timedelta(days=30)
ADMIN_CALLER = caller("admin", ADMIN)

files_strategy = st.dictionaries(
    st.sampled_from(NAMES), st.sampled_from(range(len(CONTENTS))), min_size=1, max_size=3
)


class VersionsAndContent(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        mongo_client().drop_database(get_settings().mongodb_database)
        forget_stores()
        empty_bucket(object_store().client, BUCKET)
        # asset -> version -> (files, deleted); asset -> deleted
        self.versions: dict[str, dict[str, tuple[dict[str, int], bool]]] = {}
        self.deleted: dict[str, bool] = {}
        self.counter = 0

    @rule(asset_id=st.sampled_from(ASSET_IDS), files=files_strategy)
    def upload_version(self, asset_id: str, files: dict[str, int]) -> None:
        self.counter += 1
        version = f"v{self.counter}"
        members = {name: CONTENTS[index] for name, index in files.items()}
        upload_id = upload(zip_bytes(members, asset=bundle_asset(asset_id, asset_version=version)))
        run(upload_id)
        outcome = status_of(upload_id)["status"]
        if self.deleted.get(asset_id):
            assert outcome.startswith("failed"), outcome
            return
        assert outcome == "success", outcome
        self.versions.setdefault(asset_id, {})[version] = (files, False)
        self.deleted[asset_id] = False

    @rule(asset_id=st.sampled_from(ASSET_IDS), pick=st.integers(0, 20))
    def delete_a_version(self, asset_id: str, pick: int) -> None:
        live = self._live(asset_id)
        if not live or self.deleted.get(asset_id):
            return
        version = live[pick % len(live)]
        status, _ = delete_version(asset_id, version)
        if len(live) == 1:
            assert status == 409
            return
        assert status == 200
        files, _ = self.versions[asset_id][version]
        self.versions[asset_id][version] = (files, True)

    @rule(asset_id=st.sampled_from(ASSET_IDS), pick=st.integers(0, 20))
    def restore_a_version(self, asset_id: str, pick: int) -> None:
        gone = [v for v, (_, deleted) in self.versions.get(asset_id, {}).items() if deleted]
        if not gone or self.deleted.get(asset_id):
            return
        version = gone[pick % len(gone)]
        assert restore_version(asset_id, version)[0] == 200
        files, _ = self.versions[asset_id][version]
        self.versions[asset_id][version] = (files, False)

    @rule(asset_id=st.sampled_from(ASSET_IDS))
    def delete_the_asset(self, asset_id: str) -> None:
        if asset_id not in self.versions or self.deleted[asset_id]:
            return
        assert delete(asset_id)[0] == 200
        self.deleted[asset_id] = True

    @rule(asset_id=st.sampled_from(ASSET_IDS))
    def restore_the_asset(self, asset_id: str) -> None:
        if not self.deleted.get(asset_id):
            return
        assert restore(asset_id)[0] == 200
        self.deleted[asset_id] = False

    @rule()
    def purge(self) -> None:
        purge_at(LATER)
        for asset_id in list(self.versions):
            if self.deleted[asset_id]:
                del self.versions[asset_id]
                del self.deleted[asset_id]
                continue
            kept = {v: entry for v, entry in self.versions[asset_id].items() if not entry[1]}
            self.versions[asset_id] = kept

    def _live(self, asset_id: str) -> list[str]:
        return [v for v, (_, deleted) in self.versions.get(asset_id, {}).items() if not deleted]

    @invariant()
    def every_live_version_reads_back_byte_identical(self) -> None:
        s3 = object_store().client
        for asset_id, versions in self.versions.items():
            if self.deleted[asset_id]:
                assert get(asset_id)[0] == 404
                continue
            live = self._live(asset_id)
            status, current = get(asset_id)
            assert (status, current["asset_version"]) == (200, live[-1])
            for version in live:
                status, document = get(asset_id, version)
                assert status == 200, document
                files, _ = versions[version]
                stored = {
                    entry["asset_file_metadata"]["path"]: entry["asset_file_url"]
                    for entry in document["files"]
                }
                assert set(stored) == set(files)
                for name, index in files.items():
                    key = stored[name].split("/", 3)[3]
                    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
                    assert body == CONTENTS[index], (asset_id, version, name)

    def teardown(self) -> None:
        # Everything deleted and purged: no object may be left behind.
        for asset_id in list(self.versions):
            if not self.deleted[asset_id]:
                assert delete(asset_id)[0] == 200
        purge_at(LATER)
        listing: Any = object_store().client.list_objects_v2(Bucket=BUCKET, Prefix="assets/")
        assert listing.get("KeyCount", 0) == 0, listing.get("Contents")


def test_purge_never_removes_content_a_live_version_holds(s3: Any, status: Any) -> None:
    run_state_machine_as_test(
        VersionsAndContent,
        settings=settings(
            max_examples=15,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
