"""deploy/glue/*.json are valid `aws glue create-job --cli-input-json` inputs whose flags the jobs accept."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import validate_parameters
from deploy_helpers import (
    DEPLOY,
    GLUE_SPECIAL_PARAMETERS,
    ROOT,
    accepted_flags,
    flag_name,
    load_rendered,
)

GLUE_JOBS = sorted((DEPLOY / "glue").glob("*.json"))
# The runtime the Spark stack is pinned to (pyproject.toml: pyspark 3.5.6 / delta-spark 3.3.2 = Glue 5.1).
GLUE_VERSION = "5.1"
EXPECTED_FEEDS = {
    "feedguard-quickbite-orders": ("ingest_files", "quickbite", "orders"),
    "feedguard-mealdash-orders": ("ingest_files", "mealdash", "orders"),
    "feedguard-foodnow-order-events": ("ingest_kafka", "foodnow", "order_events"),
}


def job_script(job: dict[str, Any]) -> str:
    return Path(job["Command"]["ScriptLocation"]).stem


@pytest.fixture(scope="module")
def create_job_shape() -> Any:
    model = botocore.session.get_session().get_service_model("glue")
    return model.operation_model("CreateJob").input_shape


def test_there_is_one_definition_per_feed() -> None:
    names = {load_rendered(path)["Name"] for path in GLUE_JOBS}
    assert names == set(EXPECTED_FEEDS)


@pytest.mark.parametrize("path", GLUE_JOBS, ids=lambda p: p.stem)
def test_definition_matches_the_glue_create_job_shape(path: Path, create_job_shape: Any) -> None:
    validate_parameters(load_rendered(path), create_job_shape)


@pytest.mark.parametrize("path", GLUE_JOBS, ids=lambda p: p.stem)
def test_definition_runs_the_pinned_spark_stack_with_delta(path: Path) -> None:
    job = load_rendered(path)
    args = job["DefaultArguments"]
    assert job["GlueVersion"] == GLUE_VERSION
    assert job["Command"] == {
        "Name": "glueetl",
        "ScriptLocation": job["Command"]["ScriptLocation"],
        "PythonVersion": "3",
    }
    assert job["Command"]["ScriptLocation"].startswith("s3://")
    assert args["--datalake-formats"] == "delta"
    assert "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension" in args["--conf"]
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    wheel = args["--additional-python-modules"].split(",")[0]
    assert wheel.endswith(f"/feedguard-{version}-py3-none-any.whl")


@pytest.mark.parametrize("path", GLUE_JOBS, ids=lambda p: p.stem)
def test_runs_one_at_a_time_without_glue_retries_or_bookmarks(path: Path) -> None:
    """Runs must not overlap (ledger, offsets); Glue retries every failure alike, so retries are Airflow's."""
    job = load_rendered(path)
    assert job["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
    assert job["MaxRetries"] == 0
    assert 0 < job["Timeout"] <= 180
    assert job["DefaultArguments"]["--job-bookmark-option"] == "job-bookmark-disable"
    assert job["WorkerType"] in {"G.1X", "G.2X"} and job["NumberOfWorkers"] >= 2


@pytest.mark.parametrize("path", GLUE_JOBS, ids=lambda p: p.stem)
def test_every_job_flag_is_one_the_job_accepts(path: Path) -> None:
    job = load_rendered(path)
    script, source, dataset = EXPECTED_FEEDS[job["Name"]]
    assert job_script(job) == script
    args = job["DefaultArguments"]
    job_flags = {flag_name(k) for k in args if k not in GLUE_SPECIAL_PARAMETERS}
    assert job_flags - accepted_flags(script) == set()
    assert args["--source"] == source and args["--dataset"] == dataset
    assert args["--metrics"] == "cloudwatch"
    assert args["--metrics_namespace"] == "Feedguard/DataQuality"
    # Glue sets --JOB_NAME itself (to the job's Name): the metrics' Job dimension.
    assert "--JOB_NAME" not in args


@pytest.mark.parametrize("path", GLUE_JOBS, ids=lambda p: p.stem)
def test_no_secret_in_the_definition(path: Path) -> None:
    text = path.read_text().lower()
    for word in ("hooks.slack.com", "password", "secret_access_key", "aws_access_key_id", "token="):
        assert word not in text
    assert "${" in path.read_text(), "account-specific values stay ${TOKENS} filled in at deploy time"


def test_kafka_job_reaches_the_broker_through_a_glue_connection() -> None:
    job = json.loads((DEPLOY / "glue" / "foodnow-order-events.json").read_text())
    args = job["DefaultArguments"]
    assert job["Connections"] == {"Connections": ["${FEEDGUARD_MSK_CONNECTION}"]}
    assert args["--expected_downtime_minutes"] == "30"
    # The job waits out a 30-minute outage itself, so its timeout leaves room for that plus the catch-up.
    assert job["Timeout"] >= 30 + 60
    assert "spark-sql-kafka-0-10_2.12-" in args["--extra-jars"]
