"""Security of the file job (issue 13): secrets never in outputs, input names never steer a write.

- Canaries: the Slack webhook URL (``FEEDGUARD_SLACK_WEBHOOK_URL``, a local receiver that fails the first
  post so the error path runs too) must appear in no output at all; an AWS secret access key and access
  key id inside input records must reach no log, run summary, metric, alert or Data Docs page (the
  dead-letter table and the error zone keep the record's exact bytes: that is their job).
- Input names: files whose names look like paths (``..%2F..%2F``, backslashes, percent escapes) are read,
  mirrored, quarantined and drift-reported inside the lake's own folders, and nowhere else; S3 keys with
  ``../``, ``#`` or ``?`` are read as the object they name and quarantined inside the lake.
- Analyst outputs: the job has no spreadsheet (CSV/XLSX) export; ``feedguard`` offers ``summary``,
  ``samples``, ``docs``, ``expectations``, ``contracts`` and ``replay``. The analyst-facing output is the
  Data Docs site: input text in it (file names, values) must be HTML-escaped, never markup.

Reproduce: ``.venv/bin/pytest tests/jobs/test_security.py``.
"""

from __future__ import annotations

import gzip
import json
import random
import secrets
import string
from pathlib import Path
from urllib.parse import unquote

import pytest
from pyspark.sql import SparkSession
from tests.support.fault_corpus import DAY, exact_bytes, file_name
from tests.support.moto_server import REGION, running_moto_server

from feedguard.lake.sinks import quarantine_file
from feedguard.lake.storage import list_files, open_binary
from feedguard_dev.samples import _dumps, quickbite_order
from feedguard_dev.sinks import webhook_receiver
from jobs.ingest_files import main

HTML_PAYLOAD = "<img src=x onerror=alert(1)>"


def _orders(start: int, count: int) -> list[str]:
    rng = random.Random(start)
    return [_dumps(quickbite_order(rng, n, DAY)) for n in range(start, start + count)]


def _aws_secret_key() -> str:
    """40 characters shaped like an AWS secret access key (upper, lower, digits, '/')."""
    rng = random.SystemRandom()
    body = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(36))
    return f"Kq7/{body}"


def _delta_tables(lake: Path) -> list[Path]:
    return sorted(p.parent for p in lake.rglob("_delta_log") if p.is_dir())


def _table_text(spark: SparkSession, table: Path) -> str:
    """Every row of a Delta table as JSON (binary columns as base64 and as text)."""
    frame = spark.read.format("delta").load(str(table))
    rows = frame.toJSON().collect()
    binary = [f.name for f in frame.schema.fields if f.dataType.typeName() == "binary"]
    raw = [
        bytes(r[c]).decode("utf-8", "replace")
        for r in frame.select(*binary).collect()
        for c in binary
        if r[c]
    ]
    return "\n".join([*rows, *raw])


def _files_text(folder: Path, *, skip_parquet: bool = True) -> dict[Path, str]:
    return {
        p: p.read_bytes().decode("utf-8", "replace")
        for p in folder.rglob("*")
        if p.is_file() and not (skip_parquet and p.suffix == ".parquet")
    }


def test_no_secret_reaches_logs_summaries_metrics_alerts_or_docs(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    token = secrets.token_hex(16)
    aws_secret, aws_key_id = _aws_secret_key(), "AKIA" + secrets.token_hex(8).upper()
    feed, lake = tmp_path / "in", tmp_path / "lake"
    feed.mkdir()
    good = _orders(1, 12)
    good[3] = _dumps({**json.loads(good[3]), "city": HTML_PAYLOAD})  # valid data that looks like markup
    leaky = json.loads(good[0])
    leaky.update(order_id="QB-00000099", aws_secret_access_key=aws_secret)  # an unexpected field
    lines = [
        *good[:6],
        _dumps(leaky),
        f'{{"order_id":"QB-00000098","note":"key {aws_key_id} secret {aws_secret} <script>alert(1)</script>"',
        *good[6:],
    ]
    (feed / "orders_canary.jsonl").write_text("\n".join(lines) + "\n")
    with webhook_receiver(statuses=[500]) as hook:
        url = hook.endpoint(f"/services/TCANARY/BCANARY/{token}")
        monkeypatch.setenv("FEEDGUARD_SLACK_WEBHOOK_URL", url)
        code = main(
            ["ingest_files.py", "--JOB_NAME", "security", "--source", "quickbite", "--dataset", "orders",
             "--input_path", str(feed), "--lake_path", str(lake), "--alerts", "slack", "--metrics", "emf",
             "--docs", "build", "--run_id", "canary-run"]
        )  # fmt: skip
        posts = [json.dumps(p.json) for p in hook.posts]
    out, err = capfd.readouterr()
    summary = json.loads((lake / "_runs" / "canary-run.json").read_text())
    assert code == 0, summary["message"]
    assert summary["records_dead_lettered"] == 2 and posts, "the run must dead-letter and alert"

    outputs: dict[str, str] = {"job stdout": out, "job stderr and logs": err}
    outputs |= {f"alert post {i}": p for i, p in enumerate(posts)}
    outputs |= {f"table {t.relative_to(lake)}": _table_text(spark, t) for t in _delta_tables(lake)}
    outputs |= {f"file {p.relative_to(lake)}": text for p, text in _files_text(lake).items()}
    leaks = [where for where, text in outputs.items() if token in text or url in text]
    assert not leaks, f"the webhook URL leaked into: {leaks}"

    # A record's exact bytes live in the dead-letter table (its Delta log's stats too) and the error zone.
    data_outputs = ("table _dead_letter", "file _dead_letter", "file _error_zone")
    for secret in (aws_secret, aws_key_id):
        leaks = [w for w, text in outputs.items() if secret in text and not w.startswith(data_outputs)]
        assert not leaks, f"a secret from the input data leaked into: {leaks}"
    error_zone = b"".join(p.read_bytes() for p in sorted((lake / "_error_zone").rglob("part-*")))
    assert aws_secret.encode() in error_zone  # the error zone keeps the record byte for byte

    assert _files_text(lake / "_docs"), "the Data Docs site was not built"
    assert not _markup_in_docs(lake), "input text is markup in the Data Docs"


def _markup_in_docs(lake: Path) -> list[str]:
    """Data Docs files where input text shows as markup instead of escaped text."""
    docs = _files_text(lake / "_docs")
    return [
        str(p.relative_to(lake))
        for p, text in docs.items()
        if HTML_PAYLOAD in text or "<script>alert" in text
    ]


# --- input names ----------------------------------------------------------------------------------------

ODD_NAMES = {
    "x..%2F..%2Fescape.jsonl": "lines",
    "a\\..\\..\\escape.jsonl": "lines",
    "%2e%2e%2fcut.jsonl.gz": "cut_gzip",
    "x..%2F..%2Fdrift.jsonl": "drift",
    "..%2F..%2Fhidden.jsonl": "lines",  # a leading dot: skipped as hidden, like _SUCCESS and .crc files
    f"orders {HTML_PAYLOAD} köln.jsonl": "lines",  # a space, markup and a non-ASCII letter
}


def _odd_file(kind: str, start: int) -> bytes:
    good = _orders(start, 10)
    if kind == "lines":
        return ("\n".join([*good[:5], '{"order_id": "QB-bro', *good[5:], "[1,2]"]) + "\n").encode()
    if kind == "cut_gzip":
        whole = gzip.compress(("\n".join(good) + "\n").encode(), mtime=0)
        return whole[: len(whole) // 2]
    drifted = [_dumps({**json.loads(g), "loyalty_tier": "gold"}) for g in good]  # every record changed
    return ("\n".join(drifted) + "\n").encode()


def _inside(path: str | Path, folder: Path) -> bool:
    return Path(str(path).removeprefix("file://")).resolve().is_relative_to(folder.resolve())


def test_input_names_that_look_like_paths_never_steer_a_write_outside_the_lake(
    spark: SparkSession, tmp_path: Path
) -> None:
    root = tmp_path / "deep" / "er"
    feed, lake = root / "in", root / "lake"
    feed.mkdir(parents=True)
    for n, (name, kind) in enumerate(ODD_NAMES.items()):
        (feed / name).write_bytes(_odd_file(kind, 1 + 100 * n))
    code = main(
        ["ingest_files.py", "--JOB_NAME", "names", "--source", "quickbite", "--dataset", "orders",
         "--input_path", str(feed), "--lake_path", str(lake), "--skip_dq", "--run_id", "names-run",
         "--docs", "build"]
    )  # fmt: skip
    summary = json.loads((lake / "_runs" / "names-run.json").read_text())
    assert code == 4, summary["message"]  # the drifted file is a structural change

    written = [p for p in tmp_path.rglob("*") if p.is_file() and not (_inside(p, lake) or _inside(p, feed))]
    assert not written, f"files written outside the lake: {written}"
    files = {unquote(file_name(f["path"])): f for f in summary["files"]}
    assert sorted(files) == sorted(n for n in ODD_NAMES if not n.startswith("."))
    for name, entry in files.items():
        assert entry["records_read"] == entry["records_valid"] + entry["records_dead_lettered"], name
        if entry["quarantined_to"]:
            quarantine = lake / "_quarantine" / "quickbite" / "orders" / "names-run"
            assert _inside(entry["quarantined_to"], quarantine), entry["quarantined_to"]
            assert Path(entry["quarantined_to"]).read_bytes() == (feed / name).read_bytes()
    for paths in summary["drift_reports"].values():
        for path in paths.values():
            assert _inside(path, lake / "_drift" / "quickbite" / "orders" / "names-run"), path

    zone = lake / "_error_zone" / "quickbite" / "names-run"
    assert all(_inside(p, zone) for p in (lake / "_error_zone").rglob("*") if p.is_file())
    dead = [r.asDict() for r in spark.read.format("delta").load(str(lake / "_dead_letter")).collect()]
    assert not _markup_in_docs(lake), "a file name is markup in the Data Docs"
    for name in [n for n, kind in ODD_NAMES.items() if kind == "lines" and not n.startswith(".")]:
        letters = sorted(
            (d for d in dead if unquote(file_name(d["source_file"])) == name), key=lambda d: d["source_line"]
        )
        assert [d["source_line"] for d in letters] == [6, 12], name
        folders = [p for p in zone.iterdir() if unquote(p.name) == f"file={name}"]
        assert len(folders) == 1, (name, sorted(p.name for p in zone.iterdir()))
        mirrored = b"".join(p.read_bytes() for p in sorted(folders[0].glob("part-*")))
        assert mirrored == b"".join(exact_bytes(d) + b"\n" for d in letters)  # type: ignore[operator]


@pytest.mark.e2e
def test_s3_keys_with_dot_dot_hash_or_question_mark_are_read_as_named_and_quarantined_inside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = {
        "incoming/../../escape.jsonl": b"A\n",
        "incoming/a/../../../escape2.jsonl": b"B\n",
        "incoming/orders#1.jsonl": b"C\n",
        "incoming/orders": b"D (another object)\n",
        "incoming/q?x=1.jsonl": b"E\n",
        "incoming/%2e%2e%2fpct.jsonl": b"F\n",
    }
    folder = tmp_path / "lake" / "_quarantine" / "quickbite" / "orders" / "run"
    with running_moto_server() as moto:
        for key, value in {
            "AWS_ENDPOINT_URL_S3": moto.url, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
        }.items():  # fmt: skip
            monkeypatch.setenv(key, value)
        s3 = moto.client("s3")
        s3.create_bucket(Bucket="landing", CreateBucketConfiguration={"LocationConstraint": REGION})
        for key, body in keys.items():
            s3.put_object(Bucket="landing", Key=key, Body=body)
        listed = {f.uri.removeprefix("s3://landing/"): f.uri for f in list_files("s3://landing/incoming/")}
        assert sorted(listed) == sorted(keys)
        problems = []
        for key, uri in listed.items():
            try:
                with open_binary(uri) as handle:
                    read = handle.read()
                if read != keys[key]:
                    problems.append(f"{key!r}: read {read!r}, the object holds {keys[key]!r}")
            except Exception as exc:  # every key is reported, not just the first
                problems.append(f"{key!r}: reading it fails: {type(exc).__name__}: {exc}")
            try:
                target = quarantine_file(uri, str(folder))
                if not _inside(target, folder) or Path(target).read_bytes() != keys[key]:
                    problems.append(f"{key!r}: quarantined to {target}")
            except Exception as exc:
                problems.append(f"{key!r}: quarantining it fails: {type(exc).__name__}: {exc}")
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and not _inside(p, folder)]
    assert not (problems or outside), "\n".join([*problems, *map(str, outside)])
