"""Bundle rules: member names, limits, the files[] mapping, and download links."""

from __future__ import annotations

import copy
import posixpath
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assets_core.errors import Forbidden
from assets_core.keys import upload_id_of
from assets_core.logic.bundle_writer import read_groups
from assets_core.logic.bundles import BundleRejected, Limits, check_members, check_name, plan_files
from assets_core.logic.zipreader import DEFLATED, STORED, Member
from assets_core.signing import check_link, signed_link
from tests.support import bundle_asset

MIB = 1024 * 1024


def member(
    name: str, size: int = 10, compressed: int = 10, method: int = DEFLATED, flags: int = 0
) -> Member:
    return Member(name, 0, method, compressed, size, 0, flags)


@pytest.mark.parametrize(
    "name",
    ["/etc/passwd", "C:/x", "a/../../b", "..", "a\\b", "a\x00b", "", "a//b", "./a", "a/./b"],
)
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(BundleRejected):
        check_name(name)


@given(st.text(min_size=1, max_size=30))
def test_accepted_names_stay_inside_their_folder(name: str) -> None:
    try:
        check_name(name)
    except BundleRejected:
        return
    resolved = posixpath.normpath(posixpath.join("/root/target", name))
    assert resolved.startswith("/root/target/") or resolved == "/root/target"
    assert "\\" not in name
    assert "\x00" not in name


def test_limits() -> None:
    limits = Limits(max_object_bytes=10**12, max_members=3, max_expanded_bytes=100 * MIB)
    check_members([member(f"m{n}") for n in range(3)], limits)
    with pytest.raises(BundleRejected, match="at most 3"):
        check_members([member(f"m{n}") for n in range(4)], limits)
    with pytest.raises(BundleRejected, match="more than once"):
        check_members([member("a"), member("a")], limits)
    with pytest.raises(BundleRejected, match="zip bomb"):
        check_members([member("bomb", size=2 * MIB, compressed=2 * MIB // 101)], limits)
    check_members([member("small-but-dense", size=MIB, compressed=10)], limits)
    with pytest.raises(BundleRejected, match="expands to more than"):
        check_members([member("a", 60 * MIB, 60 * MIB), member("b", 60 * MIB, 60 * MIB)], limits)
    with pytest.raises(BundleRejected, match="encrypted"):
        check_members([member("e", flags=1)], limits)
    with pytest.raises(BundleRejected, match="compression method 12"):
        check_members([member("bz", method=12)], limits)
    files = check_members([member("dir/"), member("dir/a", method=STORED)], limits)
    assert list(files) == ["dir/a"]


def plan(asset: dict[str, object], names: list[str]) -> dict[str, object]:
    files = {name: member(name, size=len(name)) for name in names}
    result = plan_files(asset, files, lambda p: f"assets/x/u/{p}", lambda k: f"s3://b/{k}")
    return result.document


def test_files_mapping_follows_the_contract() -> None:
    asset = bundle_asset(
        files=[
            {
                "asset_file_id": "weights",
                "asset_file_type": "weights",
                "asset_file_mime_type": "application/octet-stream",
                "asset_file_metadata": {"path": "models/w.bin", "note": "kept"},
            },
            {
                "asset_file_id": "config.json",
                "asset_file_type": "config",
                "asset_file_mime_type": "application/json",
                "asset_file_url": "",
            },
            {
                "asset_file_id": "paper",
                "asset_file_type": "doc",
                "asset_file_mime_type": "application/pdf",
                "asset_file_url": "https://example.com/paper.pdf",
            },
        ]
    )
    document = plan(asset, ["asset.json", "models/w.bin", "config.json", "extra/readme.md"])
    files = document["files"]
    assert isinstance(files, list)
    by_id = {f["asset_file_id"]: f for f in files}
    assert by_id["weights"]["asset_file_url"] == "s3://b/assets/x/u/models/w.bin"
    assert by_id["weights"]["asset_file_metadata"]["note"] == "kept"
    assert by_id["weights"]["asset_file_metadata"]["size"] == len("models/w.bin")
    assert by_id["config.json"]["asset_file_url"] == "s3://b/assets/x/u/config.json"
    assert by_id["paper"]["asset_file_url"] == "https://example.com/paper.pdf"
    assert by_id["extra/readme.md"]["asset_file_type"] == "file"
    assert by_id["extra/readme.md"]["asset_file_mime_type"] == "text/markdown"
    assert document["asset_file_ids"] == ["weights", "config.json", "paper", "extra/readme.md"]


def test_planning_leaves_the_given_document_as_it_was() -> None:
    # Given an asset.json naming one member, linking an external file and leaving one out
    asset = bundle_asset(
        files=[
            {
                "asset_file_id": "weights",
                "asset_file_type": "weights",
                "asset_file_mime_type": "application/octet-stream",
                "asset_file_metadata": {"path": "models/w.bin"},
            },
            {
                "asset_file_id": "paper",
                "asset_file_type": "doc",
                "asset_file_mime_type": "application/pdf",
                "asset_file_url": "https://example.com/paper.pdf",
            },
        ]
    )
    given = copy.deepcopy(asset)
    files = {name: member(name) for name in ["asset.json", "models/w.bin", "readme.md"]}

    # When its files are planned, and the stored members' digests added
    plan = plan_files(asset, files, lambda p: f"assets/x/u/{p}", lambda k: f"s3://b/{k}")
    planned = copy.deepcopy(plan.document)
    finished = plan.with_digests({"models/w.bin": "ab" * 32, "readme.md": "cd" * 32})

    # Then the document given is unchanged, and so is the plan's own
    assert asset == given
    assert plan.document == planned
    assert [f["asset_file_id"] for f in planned["files"]] == ["weights", "paper", "readme.md"]
    assert "sha256" not in planned["files"][0]["asset_file_metadata"]
    digests = [f.get("asset_file_metadata", {}).get("sha256") for f in finished["files"]]
    assert digests == ["ab" * 32, None, "cd" * 32]


def test_an_entry_naming_an_absent_member_fails() -> None:
    asset = bundle_asset(
        files=[
            {"asset_file_id": "missing.bin", "asset_file_type": "w", "asset_file_mime_type": "x"}
        ]
    )
    with pytest.raises(BundleRejected, match=r"'missing\.bin', which is not in the bundle"):
        plan(asset, ["asset.json"])


def test_upload_keys() -> None:
    assert upload_id_of("incoming/0a5e3de1-1fcd-4a65-9c83-18c5c0b4d612.zip") == (
        "0a5e3de1-1fcd-4a65-9c83-18c5c0b4d612"
    )
    for key in ("incoming/x.zip", "assets/0a5e3de1-1fcd-4a65-9c83-18c5c0b4d612.zip", "incoming/"):
        assert upload_id_of(key) is None


def test_download_links_are_signed_and_expire() -> None:
    link = signed_link(
        "https://dl.example", "asset-1", manifest="downloads/m1", key="k", ttl_seconds=60, now=1000
    )
    params = dict(parse_qsl(link.split("?", 1)[1]))
    assert check_link(params, key="k", now=1059) == ("asset-1", "downloads/m1")
    with pytest.raises(Forbidden, match="expired"):
        check_link(params, key="k", now=1061)
    with pytest.raises(Forbidden, match="signature"):
        check_link(params, key="other", now=1000)
    with pytest.raises(Forbidden, match="signature"):
        check_link({**params, "asset_id": "asset-2"}, key="k", now=1000)
    with pytest.raises(Forbidden, match="signature"):
        check_link({**params, "manifest": "downloads/m2"}, key="k", now=1000)
    with pytest.raises(Forbidden, match="signature"):
        check_link({**params, "expires": "99999999"}, key="k", now=1000)
    with pytest.raises(Forbidden, match="incomplete"):
        check_link({"asset_id": "asset-1"}, key="k", now=1000)


def at(name: str, offset: int, compressed: int) -> Member:
    return Member(name, offset, STORED, compressed, compressed, 0, 0)


def test_large_members_get_a_read_of_their_own_and_small_ones_share_one() -> None:
    big_a, big_b = at("a", 100, 400 * MIB), at("b", 100 + 400 * MIB + 50, 400 * MIB)
    smalls = [at(f"s{n}", 100 + 800 * MIB + 100 + n * MIB, MIB - 60) for n in range(100)]
    end = 100 + 900 * MIB + 100
    groups = read_groups([*smalls, big_b, big_a], end, streams=3)
    assert [[m.name for m in run] for run, _ in groups] == [["a"], ["b"], [m.name for m in smalls]]
    # each read ends where the next begins; the last at the central directory
    assert [run_end for _, run_end in groups] == [big_b.offset, smalls[0].offset, end]


@given(
    st.lists(st.integers(min_value=0, max_value=10 * MIB), min_size=1, max_size=40),
    st.integers(min_value=1, max_value=8),
)
def test_groups_cover_every_member_once_in_order(sizes: list[int], streams: int) -> None:
    members, offset = [], 0
    for n, size in enumerate(sizes):
        members.append(at(f"m{n}", offset, size))
        offset += 40 + size
    groups = read_groups(list(reversed(members)), offset, streams)
    assert 1 <= len(groups) <= streams
    assert [m for run, _ in groups for m in run] == members
    for (run, run_end), following in zip(groups, [*groups[1:], None], strict=True):
        assert run, "no read is empty"
        assert run_end == (following[0][0].offset if following else offset)
        assert all(m.offset + m.compressed_size <= run_end for m in run)
