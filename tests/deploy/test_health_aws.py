"""The health site's Airflow, Batch and Fargate panels filled from a moto server: the exact numbers shown.

As in the collector's test (test_monitoring_collector.py), moto runs no Batch container, so the jobs are
submitted through the API and then put in their state at their times in the server's own records, moto's
state machines frozen meanwhile. The Airflow figures are the callbacks' own metrics (``callback_metrics``)
published with the project's CloudWatch publisher; the ECS tasks run on Fargate, their health set in moto.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import requests
from test_monitoring_helpers import ACCOUNT, REGION, client

from feedguard.health import AwsOptions, HealthData, write_pages
from feedguard.health.aws import read_aws
from feedguard.health.model import AwsFigures
from feedguard.metrics import CloudWatchPublisher
from feedguard.monitoring import callback_metrics

QUEUE, CLUSTER, SERVICE, ENV = "health-queue", "health-fg", "foodnow-consumer", "health-test"
FROZEN = {"progression": "manual", "times": 10**9}
# job name -> (state, created, started, stopped): seconds before the site is built
JOBS: dict[str, tuple[str, int, int | None, int | None]] = {
    "submitted": ("SUBMITTED", 40, None, None),
    "runnable-old": ("RUNNABLE", 500, None, None),
    "runnable-new": ("RUNNABLE", 100, None, None),
    "running": ("RUNNING", 900, 250, None),  # waits since started: 250 s
    "succeeded-1h": ("SUCCEEDED", 4000, 3900, 3600),
    "succeeded-2h": ("SUCCEEDED", 8000, 7500, 7200),
    "succeeded-30h": ("SUCCEEDED", 30 * 3600 + 90, 30 * 3600 + 60, 30 * 3600),  # outside the 24 h window
    "failed-10min": ("FAILED", 700, 650, 600),
}
# (event, dag, task, hours ago): the DAG callbacks' events
EVENTS = [
    *[("dag_success", "feedguard_quickbite_orders", None, h) for h in (1, 2, 3)],
    ("dag_failure", "feedguard_quickbite_orders", None, 4),
    *[("task_success", "feedguard_quickbite_orders", t, 1) for t in ("choose_runner", "ingest_glue")],
    *[("task_success", "feedguard_quickbite_orders", t, 2) for t in ("choose_runner", "verify_run")],
    ("task_failure", "feedguard_quickbite_orders", "ingest_glue", 4),
    ("task_failure", "feedguard_quickbite_orders", "verify_run", 4),
    ("task_retry", "feedguard_quickbite_orders", "ingest_glue", 4),
    ("sla_miss", "feedguard_quickbite_orders", "ingest_glue", 5),
    ("dag_failure", "feedguard_mealdash_orders", None, 6),
    ("dag_success", "feedguard_mealdash_orders", None, 30),  # outside the window
]


def freeze(endpoint: str, models: tuple[str, ...], frozen: bool) -> None:
    for model in models:
        if frozen:
            body: dict[str, Any] = {"model_name": model, "transition": FROZEN}
            requests.post(f"{endpoint}/moto-api/state-manager/set-transition", json=body, timeout=10)
        else:
            body = {"model_name": model}
            requests.post(f"{endpoint}/moto-api/state-manager/unset-transition", json=body, timeout=10)


def submit_jobs(endpoint: str) -> dict[str, Any]:
    """An unmanaged compute environment, its queue and ``JOBS`` submitted (moto's records of them)."""
    from moto.batch.models import batch_backends

    batch = client("batch", endpoint)
    role = client("iam", endpoint).create_role(RoleName="health-batch", AssumeRolePolicyDocument="{}")
    batch.create_compute_environment(
        computeEnvironmentName="health-ce", type="UNMANAGED", state="ENABLED", serviceRole=role["Role"]["Arn"]
    )
    order = [{"order": 1, "computeEnvironment": "health-ce"}]
    batch.create_job_queue(jobQueueName=QUEUE, state="ENABLED", priority=1, computeEnvironmentOrder=order)
    batch.register_job_definition(
        jobDefinitionName="health-job",
        type="container",
        containerProperties={"image": "busybox", "vcpus": 1, "memory": 128},
    )
    backend = batch_backends[ACCOUNT][REGION]
    jobs = {
        name: backend._jobs[
            batch.submit_job(jobName=name, jobQueue=QUEUE, jobDefinition="health-job")["jobId"]
        ]
        for name in JOBS
    }
    for job in jobs.values():
        job.join(timeout=30)  # no Docker daemon: moto's job thread fails at once
        assert not job.is_alive()
    return jobs


def set_jobs(jobs: dict[str, Any], now: datetime) -> None:
    """Each job in its state with its times, in moto's own records (its state machine frozen)."""
    never = datetime(1970, 1, 1, tzinfo=UTC)
    for name, (state, created, started, stopped) in JOBS.items():
        job = jobs[name]
        job.job_created_at = now - timedelta(seconds=created)
        job.job_started_at = now - timedelta(seconds=started) if started else never
        job.job_stopped = stopped is not None
        job.job_stopped_at = now - timedelta(seconds=stopped) if stopped else never
        job.status = state


def fargate_tasks(endpoint: str) -> None:
    """Four tasks of the service (two healthy, one unhealthy, one stopped) and one task of another group."""
    from moto.ecs.models import ecs_backends

    ecs = client("ecs", endpoint)
    ecs.create_cluster(clusterName=CLUSTER)
    container = {"name": "consumer", "image": "busybox", "cpu": 256, "memory": 512}
    ecs.register_task_definition(family="consumer", containerDefinitions=[container])
    ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition="consumer", desiredCount=3)
    group = f"service:{SERVICE}"
    tasks = ecs.run_task(
        cluster=CLUSTER, taskDefinition="consumer", count=4, launchType="FARGATE", group=group
    )
    ecs.run_task(cluster=CLUSTER, taskDefinition="consumer", launchType="FARGATE")  # group family:consumer
    arns = [t["taskArn"] for t in tasks["tasks"]]
    ecs.stop_task(cluster=CLUSTER, task=arns[3], reason="Essential container in task exited")
    backend = ecs_backends[ACCOUNT][REGION]
    for arn, health in zip(arns, ("HEALTHY", "HEALTHY", "UNHEALTHY", "UNKNOWN"), strict=True):
        cast(Any, backend.tasks[CLUSTER][arn]).health_status = health  # moto's Task does not declare it
    service = backend.services[f"{CLUSTER}:{SERVICE}"]
    service.running_count, service.pending_count = 3, 0


def callback_figures(endpoint: str, now: datetime, tmp: Path) -> None:
    metrics = [
        m
        for event, dag, task, hours in EVENTS
        for m in callback_metrics(event, dag, task, ENV, now=now - timedelta(hours=hours))
    ]
    cloudwatch = client("cloudwatch", endpoint)
    result = CloudWatchPublisher(cloudwatch, spool_path=tmp / "spool.jsonl", strict=True).publish(metrics)
    assert result.ok and result.sent == len(metrics)


def fake_keys(patch: pytest.MonkeyPatch) -> None:
    """The site's clients use the default credential chain: fake keys, never a real account."""
    patch.setenv("AWS_ACCESS_KEY_ID", "testing")
    patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    patch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="module")
def figures(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsFigures]:
    """Batch jobs, Fargate tasks and callback metrics on moto, then what ``read_aws`` reads of them."""
    now = datetime.now(UTC).replace(microsecond=0)
    models = ("batch::job", "ecs::task")
    jobs = submit_jobs(moto_endpoint)
    freeze(moto_endpoint, models, True)
    try:
        with pytest.MonkeyPatch.context() as patch:
            fake_keys(patch)
            set_jobs(jobs, now)
            fargate_tasks(moto_endpoint)
            callback_figures(moto_endpoint, now, tmp_path_factory.mktemp("health-aws"))
            options = AwsOptions(REGION, moto_endpoint, ENV, (QUEUE, "no-such-queue"), CLUSTER, SERVICE)
            yield read_aws(options, now=now)
    finally:
        freeze(moto_endpoint, models, False)


def rows(page: str, table_id: str) -> list[list[str]]:
    """The body rows of the table ``table_id`` as the reader sees them (tags dropped, entities decoded)."""
    found = re.search(rf"<table id='{table_id}'>.*?<tbody>(.*?)</tbody>", page, re.S)
    assert found, table_id
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell))
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)
    ]


def index(figures: AwsFigures, tmp_path: Path) -> str:
    return write_pages(HealthData(lake="/lake", runs=[], aws=figures), tmp_path).read_text()


def test_the_batch_panel_counts_jobs_per_state_of_the_queue(figures: AwsFigures, tmp_path: Path) -> None:
    page = index(figures, tmp_path)
    # SUBMITTED PENDING RUNNABLE STARTING RUNNING, the oldest wait, SUCCEEDED and FAILED in the last 24 h
    assert rows(page, "batch-aws") == [[QUEUE, "1", "0", "2", "0", "1", "500.0", "2", "1"]]
    error = re.search(r"<p class='bad' id='batch-aws-error-1'>(.*?)</p>", page)
    assert error and html.unescape(error.group(1)) == (
        "Failed: Batch ListJobs (queue no-such-queue): ClientException: An error occurred (ClientException) "
        "when calling the ListJobs operation: Job queue no-such-queue does not exist"
    )


def test_the_fargate_panel_shows_the_services_tasks_and_their_health(
    figures: AwsFigures, tmp_path: Path
) -> None:
    page = index(figures, tmp_path)
    assert rows(page, "fargate-service") == [[SERVICE, "ACTIVE", "3", "3", "0"]]
    summary = re.search(r"<p id='fargate-aws-summary'>(.*?)</p>", page)
    assert summary and summary.group(1) == (
        f"Cluster {CLUSTER}: 4 task(s), 3 running, 2 healthy (66.67%), 1 unhealthy, 0 without a health "
        "status; 1 stopping or stopped."
    )
    shown = [(r[1], r[2], r[3], r[4], r[5], r[7]) for r in rows(page, "fargate-tasks")]
    group = f"service:{SERVICE}"
    assert sorted(shown) == [
        (group, "FARGATE", "RUNNING", "RUNNING", "HEALTHY", "—"),
        (group, "FARGATE", "RUNNING", "RUNNING", "HEALTHY", "—"),
        (group, "FARGATE", "RUNNING", "RUNNING", "UNHEALTHY", "—"),
        (group, "FARGATE", "STOPPED", "STOPPED", "UNKNOWN", "Essential container in task exited"),
    ]


def test_the_airflow_panel_shows_each_dags_success_rate_over_24_hours(
    figures: AwsFigures, tmp_path: Path
) -> None:
    page = index(figures, tmp_path)
    # DAG, runs succeeded, runs failed, success rate, task successes, task failures, retries, SLA misses
    assert rows(page, "airflow-aws") == [
        ["feedguard_mealdash_orders", "0", "1", "0%", "0", "0", "0", "0"],
        ["feedguard_quickbite_orders", "3", "1", "75%", "4", "2", "1", "1"],
    ]
    assert "Only in AWS:" not in page.split("id='panel-kafka'")[0].split("id='panel-airflow'")[1]


def test_an_aws_endpoint_that_does_not_answer_is_named_on_each_panel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_keys(monkeypatch)
    options = AwsOptions(REGION, "http://127.0.0.1:9", ENV, (QUEUE,), CLUSTER)
    page = index(read_aws(options), tmp_path)
    refused = 'EndpointConnectionError: Could not connect to the endpoint URL: "http://127.0.0.1:9/'
    for ident, call in (
        ("batch-aws-error-0", f"Batch ListJobs (queue {QUEUE})"),
        ("fargate-aws-error", f"ECS ListTasks/DescribeTasks (cluster {CLUSTER})"),
        ("airflow-aws-error", "CloudWatch ListMetrics/GetMetricData"),
    ):
        shown = re.search(rf"<p class='bad' id='{ident}'>(.*?)</p>", page)
        assert shown and html.unescape(shown.group(1)).startswith(f"Failed: {call}: {refused}"), ident
    assert "Traceback" not in page
