"""The S3 side of the storage interface, against a real moto server (HTTP, no patching of boto3).

Every operation the lake does outside Spark on an ``s3://`` lake: listing input (prefixes, globs, hidden
names, keys with ``#`` and ``?``), reading heads and whole objects, copying into the quarantine (S3 to
S3, S3 to local, local to S3), run summaries and in-flight markers, alert state, the feed lease with
conditional writes, and the Data Docs upload.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.moto_server import REGION, MotoEndpoint, running_moto_server

from feedguard.alerts.rules import AlertState
from feedguard.alerts.state import load_alert_state, save_alert_state
from feedguard.errors import LeaseHeldError
from feedguard.lake.lease import acquire_lease
from feedguard.lake.lease_store import S3LeaseStore
from feedguard.lake.runlog import clear_inflight, inflight_runs, mark_inflight
from feedguard.lake.storage import (
    copy_file,
    join,
    list_files,
    list_folders,
    list_names,
    open_binary,
    read_head,
    read_text,
    remove_path,
    storage_for,
    write_text,
)
from feedguard.quality.docs import upload_site

BUCKET = "lake"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoEndpoint]:
    with running_moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3(moto: MotoEndpoint, monkeypatch: pytest.MonkeyPatch) -> object:
    for key, value in {
        "AWS_ENDPOINT_URL_S3": moto.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    client = moto.client("s3")
    moto.reset()
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return client


def put(client: object, key: str, body: bytes) -> None:
    client.put_object(Bucket=BUCKET, Key=key, Body=body)  # type: ignore[attr-defined]


def test_listing_a_prefix_and_a_glob_skips_hidden_names_and_keeps_odd_keys(s3: object) -> None:
    for key in [
        "in/a.jsonl",
        "in/sub/b.jsonl",
        "in/_SUCCESS",
        "in/.a.jsonl.crc",
        "in/o#1.jsonl",
        "in/q?x=1.csv",
    ]:
        put(s3, key, b"x\n")
    put(s3, "other/c.jsonl", b"y\n")

    listed = [f.uri for f in list_files(f"s3://{BUCKET}/in/")]
    assert listed == [
        f"s3://{BUCKET}/in/a.jsonl",
        f"s3://{BUCKET}/in/o#1.jsonl",
        f"s3://{BUCKET}/in/q?x=1.csv",
        f"s3://{BUCKET}/in/sub/b.jsonl",
    ]
    assert [f.uri for f in list_files(f"s3a://{BUCKET}/in/*.jsonl")] == [
        f"s3a://{BUCKET}/in/a.jsonl",
        f"s3a://{BUCKET}/in/o#1.jsonl",
    ]
    (info,) = list_files(f"s3://{BUCKET}/in/a.jsonl")
    assert (info.name, info.size) == ("a.jsonl", 2)


def test_reading_heads_and_whole_objects_streams_to_the_end(s3: object) -> None:
    body = bytes(range(256)) * 8192  # 2 MiB, more than one read
    put(s3, "in/big.bin", body)
    uri = f"s3://{BUCKET}/in/big.bin"
    assert read_head(uri, 10) == body[:10]
    with open_binary(uri) as handle:
        assert handle.read() == body


def test_copies_between_s3_and_the_local_disk_are_byte_for_byte(s3: object, tmp_path: Path) -> None:
    body = b'{"order_id": "QB-1"}\r\n\xff\xfe broken\n'
    put(s3, "in/o#1.jsonl", body)
    source = f"s3://{BUCKET}/in/o#1.jsonl"

    copy_file(source, f"s3://{BUCKET}/_quarantine/run-1/o#1.jsonl")
    copy_file(source, str(tmp_path / "local" / "o#1.jsonl"))
    copy_file((tmp_path / "local" / "o#1.jsonl").as_uri(), f"s3://{BUCKET}/back/o.jsonl")

    assert s3.get_object(Bucket=BUCKET, Key="_quarantine/run-1/o#1.jsonl")["Body"].read() == body  # type: ignore[attr-defined]
    assert (tmp_path / "local" / "o#1.jsonl").read_bytes() == body
    assert s3.get_object(Bucket=BUCKET, Key="back/o.jsonl")["Body"].read() == body  # type: ignore[attr-defined]


def test_text_files_folders_and_removal_on_a_prefix(s3: object) -> None:
    root = f"s3://{BUCKET}/lake"
    write_text(join(root, "_runs", "r1.json"), '{"run_id": "r1"}')
    write_text(join(root, "_runs", "r2.json"), "{}")
    write_text(join(root, "_error_zone", "quickbite", "r1", "file=a b.jsonl", "part-0.txt"), "bad\n")
    write_text(join(root, "_error_zone", "quickbite", "r1", "file=c.jsonl", "part-0.txt"), "bad\n")

    assert read_text(join(root, "_runs", "r1.json")) == '{"run_id": "r1"}'
    assert list_names(join(root, "_runs")) == ["r1.json", "r2.json"]
    assert list_names(join(root, "_nothing")) == []
    assert list_folders(join(root, "_error_zone", "quickbite", "r1")) == ["file=a b.jsonl", "file=c.jsonl"]
    assert storage_for(root).exists(join(root, "_runs", "r1.json"))

    remove_path(join(root, "_error_zone", "quickbite", "r1", "file=a b.jsonl"))
    assert list_folders(join(root, "_error_zone", "quickbite", "r1")) == ["file=c.jsonl"]
    remove_path(join(root, "_runs"))
    assert list_names(join(root, "_runs")) == []
    assert not storage_for(root).exists(join(root, "_runs", "r1.json"))


def test_inflight_markers_and_alert_state_on_an_s3_lake(s3: object) -> None:
    folder = f"s3://{BUCKET}/lake/_inflight/quickbite/orders"
    mark_inflight(folder, "run-a")
    mark_inflight(folder, "run-b")
    assert inflight_runs(folder) == ["run-a", "run-b"]
    clear_inflight(folder, "run-a")
    assert inflight_runs(folder) == ["run-b"]

    lake = f"s3://{BUCKET}/lake"
    assert load_alert_state(lake) == AlertState()  # none yet: an empty state, no client needed
    state = AlertState().mark_unnotified("quickbite", "orders", {"dq_failed"})
    assert save_alert_state(lake, state) == f"{lake}/_alerts/state.json"
    assert load_alert_state(lake) == state


def test_the_feed_lease_uses_conditional_writes(s3: object) -> None:
    store = S3LeaseStore(f"s3://{BUCKET}/lake/_leases/quickbite/orders.json")
    first = acquire_lease(store, "run-1", feed="quickbite/orders", ttl_seconds=60)
    with pytest.raises(LeaseHeldError, match="run run-1"):
        acquire_lease(store, "run-2", feed="quickbite/orders", ttl_seconds=60)
    first.release()
    second = acquire_lease(store, "run-2", feed="quickbite/orders", ttl_seconds=60)
    assert store.read() is not None and store.read()[0].run_id == "run-2"  # type: ignore[index]
    second.release()


def test_the_data_docs_site_is_uploaded_file_for_file(s3: object, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "feedguard").mkdir(parents=True)
    (site / "index.html").write_text("<html>gx</html>")
    (site / "feedguard" / "index.html").write_text("<html>runs</html>")

    assert upload_site(site, f"s3://{BUCKET}/lake/_docs") == 2
    assert read_text(f"s3://{BUCKET}/lake/_docs/feedguard/index.html") == "<html>runs</html>"


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("in/*.jsonl", "in/a.jsonl", True),
        ("in/*.jsonl", "in/sub/a.jsonl", False),  # as on a local disk: * stays in its folder
        ("in/**/*.jsonl", "in/sub/deeper/a.jsonl", True),
        ("in/day-?.csv", "in/day-1.csv", True),
        ("in/day-?.csv", "in/day-10.csv", False),
        ("in/day-[12].csv", "in/day-2.csv", True),
        ("in/day-[!12].csv", "in/day-2.csv", False),
    ],
)
def test_key_globs_read_like_local_globs(pattern: str, key: str, matches: bool) -> None:
    from feedguard.lake.storage_s3 import glob_regex

    assert bool(glob_regex(pattern).match(key)) is matches


@pytest.fixture(params=["local", "s3"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same lake root on both storages: a local folder, and an S3 bucket's root (an empty key prefix)."""
    if request.param == "local":
        return str(tmp_path / "lake")
    request.getfixturevalue("s3")
    return f"s3://{BUCKET}"


def test_a_path_names_an_exact_file_or_a_whole_folder_never_a_prefix_of_names(root: str) -> None:
    for parts in [
        ("in", "a.json.tmp"),
        ("in", "a.jsonl"),
        ("in-other", "c.json"),
        ("_runs", "r1.json.bak"),
        ("_runs", "r10.json"),
        ("_error_zone", "r10", "part-0.txt"),
        ("top.txt",),
    ]:
        write_text(join(root, *parts), "x\n")
    storage = storage_for(root)

    assert not storage.exists(join(root, "in", "a.json"))  # a.json.tmp and a.jsonl are other files
    assert storage.exists(join(root, "in", "a.jsonl"))
    assert storage.exists(join(root, "in")) and not storage.exists(join(root, "i"))
    assert list_files(join(root, "in", "a.json")) == []
    assert [f.name for f in list_files(join(root, "in"))] == ["a.json.tmp", "a.jsonl"]  # not in-other/
    assert [f.name for f in list_files(join(root, "in") + "/")] == ["a.json.tmp", "a.jsonl"]
    assert list_names(root) == ["top.txt"]
    assert list_folders(root) == ["_error_zone", "_runs", "in", "in-other"]

    remove_path(join(root, "_runs", "r1.json"))  # nothing of that name: r1.json.bak stays
    remove_path(join(root, "_error_zone", "r1"))  # run r1's folder: run r10's stays
    remove_path(join(root, "in"))  # the folder in/, not in-other/
    assert list_names(join(root, "_runs")) == ["r1.json.bak", "r10.json"]
    assert list_folders(join(root, "_error_zone")) == ["r10"]
    assert list_folders(root) == ["_error_zone", "_runs", "in-other"]
