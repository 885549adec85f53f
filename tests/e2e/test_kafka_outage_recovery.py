"""A Kafka run that dies at the end of its life cycle: nothing lost, nothing counted twice.

A Kafka run is never undone (its batch is re-executed, see test_kafka_ingest.py); what a dead run can
leave is its run log row and its report. The run closes first (run log + pending report), then reports:
the next run closes a batch whose run died before closing, and sends a report whose run died before or
while sending it, without adding a metrics row or an alert twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from test_kafka_ingest import assert_exactly_once, job_argv, malformed_at, run_job, summaries, table

from feedguard.contracts.registry import load_versions, select_version
from feedguard.ingest.routing import RunContext
from feedguard.kafka.config import kafka_feed, outage_policy
from feedguard.kafka.ingest import kafka_guard, run_kafka_ingest
from feedguard.kafka.report import report_kafka_run
from feedguard.lake.layout import Lake
from feedguard.lake.lifecycle import close_run
from feedguard.lake.runlog import iso, utc_now
from feedguard.runtime.args import KAFKA_JOB_ARGS, resolve_args
from feedguard.runtime.reporting import reporters_from_args
from feedguard.summary import RunSummary
from feedguard_dev.foodnow_producer import produce_events
from feedguard_dev.kafka_broker import KafkaBroker
from feedguard_dev.sinks import webhook_receiver

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
NewTopic = Callable[..., str]
DEAD = "dead-run"


class Crash(BaseException):
    """Stands for the process dying: nothing after it runs."""


def records_read(spark: SparkSession, lake: Path) -> list[tuple[str, float]]:
    rows = table(spark, lake, "_metrics")
    return sorted((r["run_id"], r["value"]) for r in rows if r["metric_name"] == "RecordsRead")


def dead_run_until(
    spark: SparkSession, lake: Path, bootstrap: str, topic: str, last_step: str, environ: dict[str, str]
) -> RunSummary:
    """Run ``DEAD`` in process up to ``last_step`` (ingest, close or report), as a job that then died."""
    opts = resolve_args(job_argv(bootstrap, topic, lake, "--run_id", DEAD, "--alerts",
                                 "slack" if environ else "none"), KAFKA_JOB_ARGS)  # fmt: skip
    contract = select_version(load_versions(ROOT / "contracts", "foodnow", "order_events"), date.today())
    ctx = RunContext("foodnow", "order_events", contract.version, DEAD, iso(utc_now()))
    summary = run_kafka_ingest(spark, contract, Lake(str(lake)), kafka_feed(opts), ctx, job_name="test",
                               guard=kafka_guard(outage_policy("1", None)))  # fmt: skip
    if last_step in ("close", "report"):
        close_run(spark, Lake(str(lake)), summary, awaiting_report=True)
    if last_step == "report":  # metrics rows and alerts out, the pending report not yet dropped
        reporters = reporters_from_args(opts, Lake(str(lake)), environ)
        summary = report_kafka_run(spark, summary, contract, Lake(str(lake)), reporters)
    return summary


def test_a_run_that_dies_after_committing_its_batch_is_closed_and_reported_by_the_next_run(
    spark: SparkSession, kafka: KafkaBroker, new_topic: NewTopic, tmp_path: Path
) -> None:
    topic = new_topic(partitions=2)
    sent = produce_events(kafka.bootstrap, topic, 30, seed=41)
    opts = resolve_args(job_argv(kafka.bootstrap, topic, tmp_path), KAFKA_JOB_ARGS)
    contract = select_version(load_versions(ROOT / "contracts", "foodnow", "order_events"), date.today())
    ctx = RunContext("foodnow", "order_events", contract.version, DEAD, iso(utc_now()))

    def die_after_commit(stage: str) -> None:
        if stage == "offsets_commit":
            raise Crash(stage)

    with pytest.raises(Crash):
        run_kafka_ingest(
            spark, contract, Lake(str(tmp_path)), kafka_feed(opts), ctx, job_name="test",
            guard=kafka_guard(outage_policy("1", None)), after_write=die_after_commit,
        )  # fmt: skip
    assert run_job(kafka.bootstrap, topic, tmp_path) == 0

    dead, rerun = summaries(tmp_path)
    assert (dead["run_id"], dead["batch_seq"], dead["records_read"], dead["records_dead_lettered"]) == (
        DEAD, 1, 30, sent.malformed,
    )  # fmt: skip
    assert dead["closed_by_run_id"] == rerun["run_id"] and "died before closing" in dead["message"]
    assert dead["partitions"][0]["messages"] + dead["partitions"][1]["messages"] == 30
    assert (rerun["records_read"], rerun["batch_seq"], rerun["consumer_group_committed"]) == (0, None, True)
    assert records_read(spark, tmp_path) == sorted([(DEAD, 30.0), (rerun["run_id"], 0.0)])
    assert sorted(r["run_id"] for r in table(spark, tmp_path, "_runs")) == sorted([DEAD, rerun["run_id"]])
    assert_exactly_once(spark, tmp_path, kafka.bootstrap, topic, malformed_at(sent))


@pytest.mark.parametrize("last_step", ["close", "report"])
def test_a_run_that_dies_before_its_report_is_done_is_reported_once_by_the_next_run(
    spark: SparkSession,
    kafka: KafkaBroker,
    new_topic: NewTopic,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    last_step: str,
) -> None:
    topic = new_topic()
    sent = produce_events(kafka.bootstrap, topic, 40, seed=42)
    with webhook_receiver() as hook:
        environ = {"FEEDGUARD_SLACK_WEBHOOK_URL": hook.endpoint()}
        dead_run_until(spark, tmp_path, kafka.bootstrap, topic, last_step, environ)
        monkeypatch.setenv("FEEDGUARD_SLACK_WEBHOOK_URL", hook.endpoint())
        assert run_job(kafka.bootstrap, topic, tmp_path, "--alerts", "slack") == 0

    dead, rerun = summaries(tmp_path)
    assert (dead["run_id"], dead["records_read"], rerun["records_read"]) == (DEAD, 40, 0)
    assert records_read(spark, tmp_path) == sorted([(DEAD, 40.0), (rerun["run_id"], 0.0)])
    problems = [p for p in hook.posts if "closes the earlier alert" not in p.json["text"]]
    assert len(problems) == 1 and DEAD in problems[0].json["text"]  # sent once, by whichever run sent it
    assert dead["alerts"] == (["intermittent_corruption"] if last_step == "close" else [])
    assert not list((tmp_path / "_runs" / "_pending_reports").rglob("*.json"))
    assert_exactly_once(spark, tmp_path, kafka.bootstrap, topic, malformed_at(sent))


def test_a_retry_of_a_finished_run_with_the_same_run_id_does_nothing(
    spark: SparkSession, kafka: KafkaBroker, new_topic: NewTopic, tmp_path: Path
) -> None:
    topic = new_topic()
    sent = produce_events(kafka.bootstrap, topic, 20, seed=43)
    assert run_job(kafka.bootstrap, topic, tmp_path, "--run_id", "r-1") == 0
    produce_events(kafka.bootstrap, topic, 5, seed=44, malformed={})

    assert run_job(kafka.bootstrap, topic, tmp_path, "--run_id", "r-1") == 0

    assert [r["run_id"] for r in table(spark, tmp_path, "_runs")] == ["r-1"]
    assert records_read(spark, tmp_path) == [("r-1", 20.0)]
    assert {r["batch_seq"] for r in table(spark, tmp_path, "_kafka_offsets")} == {1}
    valid = table(spark, tmp_path, "foodnow/order_events")
    assert len(valid) == 20 - sent.malformed
