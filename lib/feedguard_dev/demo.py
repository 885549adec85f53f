"""``make run``: the design's three failures end to end, on this machine, then the health site.

1. Sample feeds with seeded faults (``feedguard_dev.samples``): QuickBite JSON with malformed records,
   MealDash CSV with corrupted rows plus one file whose producer added a column (a structural change:
   quarantined, with its drift report and proposed contract; the job exits 4).
2. FoodNow on a local Kafka broker (``feedguard_dev.demo_kafka``): events, an outage inside the
   expected-downtime window (waited out), one past it (exit 75), the run after it catching up.
3. Alerts go to a local Slack-compatible webhook and an SNS-compatible email sink
   (``feedguard_dev.sinks``), saved under ``<lake>/_alerts/sinks/``; metrics to ``<lake>/_metrics``, and
   to CloudWatch too when ``FEEDGUARD_CLOUDWATCH_ENDPOINT`` names one.
4. ``feedguard docs build``: GX Data Docs and the health site, then one line per feed.

Every job runs through its ``main(argv)`` in this process (one SparkSession for all). Nothing needs the
network. Command line (what ``make run`` runs)::

    python -m feedguard_dev.demo --lake lake --samples samples [--outage-seconds 6] [--window-seconds 60]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from feedguard_dev.demo_kafka import KafkaOutcome, KafkaPlan, load_job, run_foodnow
from feedguard_dev.kafka_broker import KafkaBroker
from feedguard_dev.samples import write_drifted_samples, write_samples
from feedguard_dev.sinks import email_sink, slack_sink

CHANGED_HEADER = ("mealdash_added_column", "orders_added.csv")
SNS_TOPIC = "arn:aws:sns:eu-west-1:000000000000:feedguard-local-alerts"
# What the three FoodNow runs must end with: inside-window outage, past-window outage, catch-up.
FOODNOW_EXIT_CODES = [0, 75, 0]
EXPECTED_FILE_EXITS = {"quickbite": 0, "mealdash": 4}


def write_demo_samples(samples: Path) -> dict[str, Any]:
    """The sample feeds plus MealDash's changed-header file; expected counts include it (all dead)."""
    if samples.exists():
        shutil.rmtree(samples)
    expected = write_samples(samples)
    drifted = write_drifted_samples(samples / "_drifted")
    folder, name = CHANGED_HEADER
    shutil.copy(samples / "_drifted" / folder / name, samples / "mealdash" / name)
    changed = drifted[folder]["records"]
    mealdash = expected["mealdash/orders"]
    mealdash["records"] += changed
    mealdash["dead_lettered"] += changed
    (samples / "expected.json").write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")
    return expected


def local_environment(slack_url: str, email_url: str) -> dict[str, str]:
    """Where this process's jobs send alerts (the local sinks), with dummy AWS settings for the SNS client."""
    return {
        "FEEDGUARD_SLACK_WEBHOOK_URL": slack_url + "/services/T0LOCAL/B0LOCAL/feedguard-demo",
        "FEEDGUARD_SNS_ENDPOINT": email_url,
        "FEEDGUARD_SNS_TOPIC_ARN": SNS_TOPIC,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-west-1"),
    }


def reporting_flags() -> list[str]:
    metrics = "cloudwatch" if os.environ.get("FEEDGUARD_CLOUDWATCH_ENDPOINT") else "none"
    return ["--alerts", "slack,email", "--metrics", metrics, "--environment", "local"]


def run_file_feeds(lake: str, samples: Path) -> dict[str, int]:
    """QuickBite, then MealDash (its changed-header file makes that run exit 4)."""
    job = load_job("ingest_files")
    codes = {}
    for source in ("quickbite", "mealdash"):
        argv = [
            "ingest_files.py",
            "--JOB_NAME",
            f"feedguard-ingest-{source}",
            "--source",
            source,
            "--dataset",
            "orders",
            "--input_path",
            str(samples / source),
            "--lake_path",
            lake,
            *reporting_flags(),
        ]
        codes[source] = job(argv)
        print(f"{source}: exit {codes[source]}", flush=True)
    return codes


def build_site(lake: str, bootstrap: str) -> str:
    from feedguard.cli import main as cli

    done = cli(["docs", "build", "--lake", lake, "--kafka-bootstrap", bootstrap])
    if done != 0:
        raise SystemExit(f"feedguard docs build failed (exit {done})")
    return str((Path(lake) / "_docs" / "health" / "index.html").resolve())


def latest_runs(lake: Path) -> dict[str, dict[str, Any]]:
    found = [json.loads(p.read_text()) for p in (lake / "_runs").glob("*.json")]
    latest: dict[str, dict[str, Any]] = {}
    for run in sorted(found, key=lambda r: str(r.get("ended_at") or r.get("started_at") or "")):
        latest[f"{run['source']}/{run['dataset']}"] = run
    return latest


def feed_totals(lake: Path) -> dict[str, tuple[int, int, int]]:
    """read, valid, dead-lettered per feed over every run (a Kafka feed's runs add up)."""
    totals: dict[str, tuple[int, int, int]] = {}
    for path in (lake / "_runs").glob("*.json"):
        run = json.loads(path.read_text())
        key = f"{run['source']}/{run['dataset']}"
        old = totals.get(key, (0, 0, 0))
        new = (
            run.get("records_read") or 0,
            run.get("records_valid") or 0,
            run.get("records_dead_lettered") or 0,
        )
        totals[key] = (old[0] + new[0], old[1] + new[1], old[2] + new[2])
    return totals


def feed_lines(lake: Path, expected: dict[str, Any], kafka: KafkaOutcome) -> tuple[list[str], bool]:
    """One line per feed: latest status, counts, and whether they match what was sent."""
    want = {k: (v["records"], v["valid"], v["dead_lettered"]) for k, v in expected.items() if "/" in k}
    sent = kafka.valid + kafka.malformed
    want["foodnow/order_events"] = (sent, kafka.valid, kafka.malformed)
    latest, totals = latest_runs(lake), feed_totals(lake)
    lines, ok = [], True
    for key in sorted(want):
        run = latest.get(key, {})
        got = (
            totals.get(key, (0, 0, 0))
            if key.startswith("foodnow")
            else (run.get("records_read"), run.get("records_valid"), run.get("records_dead_lettered"))
        )
        match = got == want[key]
        ok = ok and match
        lines.append(
            f"{key:<22} {run.get('status', 'no run'):<28} read {got[0]} valid {got[1]} dead-lettered "
            f"{got[2]}  {'counts match' if match else f'EXPECTED {want[key]}'}"
        )
    return lines, ok


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m feedguard_dev.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--lake", default="lake", help="the lake (emptied first)")
    parser.add_argument("--samples", type=Path, default=Path("samples"), help="sample feeds (rewritten)")
    parser.add_argument(
        "--outage-seconds",
        type=float,
        default=KafkaPlan.outage_seconds,
        help="broker downtime inside the expected window",
    )
    parser.add_argument(
        "--window-seconds",
        type=float,
        default=KafkaPlan.window_seconds,
        help="the expected-downtime window (the real default is 30 minutes)",
    )
    parser.add_argument(
        "--short-window-seconds",
        type=float,
        default=KafkaPlan.short_window_seconds,
        help="the window the outage outlasts (that run exits 75)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    lake = Path(args.lake)
    shutil.rmtree(lake, ignore_errors=True)
    expected = write_demo_samples(args.samples)
    plan = KafkaPlan(
        outage_seconds=args.outage_seconds,
        window_seconds=args.window_seconds,
        short_window_seconds=args.short_window_seconds,
    )
    sinks = lake / "_alerts" / "sinks"
    broker = KafkaBroker(args.samples / "_kafka")
    with slack_sink(sinks / "slack") as slack, email_sink(sinks / "email") as email:
        os.environ.update(local_environment(slack.url, email.url))
        quiet = logging.getLogger("kafka")  # the client's own reconnect errors: the job logs the outage
        quiet.addHandler(logging.NullHandler())
        quiet.propagate = False
        from feedguard.runtime.session import build_session

        build_session("feedguard-make-run", kafka=True)  # every job below reuses it (Kafka jars included)
        try:
            file_codes = run_file_feeds(str(lake), args.samples)
            kafka = run_foodnow(broker, str(lake), reporting_flags(), plan)
            site = build_site(str(lake), broker.bootstrap)
        finally:
            broker.stop()
        alerts = (len(slack.saved), len(email.saved))
    lines, counts_ok = feed_lines(lake, expected, kafka)
    print("\n" + "\n".join(lines))
    print(f"\nalerts:       {alerts[0]} Slack messages in {sinks / 'slack'},")
    print(f"              {alerts[1]} e-mails in {sinks / 'email'}")
    print(f"lake:         {lake.resolve()}")
    print(f"health site:  {site}")
    print(f"took {time.monotonic() - started:.0f} s")
    ok = counts_ok and file_codes == EXPECTED_FILE_EXITS and kafka.exit_codes == FOODNOW_EXIT_CODES
    if not ok:
        print(f"UNEXPECTED: file exits {file_codes}, FoodNow exits {kafka.exit_codes}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
