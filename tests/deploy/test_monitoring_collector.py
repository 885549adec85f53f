"""``feedguard monitoring collect`` against a moto server (Batch, ECS, Glue, CloudWatch): exact values.

moto runs no Batch container without Docker (a job fails at once), so the test submits the jobs through the
API and then puts each one in the state and at the times it needs in the server's own job records (moto's
state machine frozen meanwhile); the collector reads everything back through the AWS APIs. The compute
environment's cluster gets two container instances (4096 CPU units, 7482 MiB each) and three ECS tasks of
1024 units / 2048 MiB; a Glue run of the FoodNow job is left running.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from test_monitoring_helpers import ACCOUNT, REGION, client

from feedguard.metrics import CloudWatchPublisher
from feedguard.monitoring import CollectClients, CollectConfig, collect, ingest_job

QUEUE, CE, ENV = "col-queue", "col-ce", "collector-test"
FOODNOW = ingest_job("foodnow", "order_events")  # feedguard-foodnow-order-events
QUICKBITE = ingest_job("quickbite", "orders")
FROZEN = {"progression": "manual", "times": 10**9}  # moto's state machine: never advance on its own
GLUE_RUNNING_FOR = 1234.0  # the collection runs this many seconds after the Glue run started
# job name -> (state, created, started, stopped): seconds before the collection
JOBS: dict[str, tuple[str, int, int | None, int | None]] = {
    "other-submitted": ("SUBMITTED", 50, None, None),
    "other-runnable-old": ("RUNNABLE", 600, None, None),
    "other-runnable-new": ("RUNNABLE", 120, None, None),
    f"{FOODNOW.job_name}-20250101T060000": ("RUNNING", 900, 300, None),
    "other-succeeded": ("SUCCEEDED", 700, 400, 100),
    "other-failed-recent": ("FAILED", 200, 190, 10),
    "other-failed-long-ago": ("FAILED", 5000, 4000, 3600),  # outside the 300 s window
}


def state_transitions(endpoint: str, transition: dict[str, Any] | None) -> None:
    for model in ("batch::job", "glue::job_run"):
        if transition:
            body = {"model_name": model, "transition": transition}
            requests.post(f"{endpoint}/moto-api/state-manager/set-transition", json=body, timeout=10)
        else:
            requests.post(
                f"{endpoint}/moto-api/state-manager/unset-transition", json={"model_name": model}, timeout=10
            )


def batch_environment(endpoint: str) -> str:
    """The EC2 compute environment, its queue and job definition; returns the environment's ECS cluster."""
    ec2, iam, batch = client("ec2", endpoint), client("iam", endpoint), client("batch", endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.0.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="col", Description="d", VpcId=vpc)["GroupId"]
    role = iam.create_role(RoleName="col-batch", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    profile = iam.create_instance_profile(InstanceProfileName="col-batch")["InstanceProfile"]["Arn"]
    resources = {
        "type": "EC2",
        "minvCpus": 0,
        "maxvCpus": 16,
        "desiredvCpus": 0,
        "instanceTypes": ["m5.xlarge"],
        "subnets": [subnet],
        "securityGroupIds": [group],
        "instanceRole": profile,
    }
    batch.create_compute_environment(
        computeEnvironmentName=CE,
        type="MANAGED",
        state="ENABLED",
        serviceRole=role,
        computeResources=resources,
    )
    batch.create_job_queue(
        jobQueueName=QUEUE,
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": CE}],
    )
    batch.register_job_definition(
        jobDefinitionName="col-job",
        type="container",
        containerProperties={"image": "busybox", "vcpus": 1, "memory": 128},
    )
    return str(
        batch.describe_compute_environments(computeEnvironments=[CE])["computeEnvironments"][0][
            "ecsClusterArn"
        ]
    )


def occupy(endpoint: str, cluster: str) -> None:
    """Two container instances in the cluster, three tasks of 1 vCPU and 2048 MiB placed on them."""
    ec2, ecs = client("ec2", endpoint), client("ecs", endpoint)
    image = ec2.describe_images()["Images"][0]["ImageId"]
    for instance in ec2.run_instances(ImageId=image, MinCount=2, MaxCount=2)["Instances"]:
        ecs.register_container_instance(
            cluster=cluster, instanceIdentityDocument=json.dumps({"instanceId": instance["InstanceId"]})
        )
    container = {"name": "c", "image": "busybox", "cpu": 1024, "memory": 2048}
    ecs.register_task_definition(family="col-task", containerDefinitions=[container])
    placed = ecs.run_task(cluster=cluster, taskDefinition="col-task", count=3, launchType="EC2")["tasks"]
    assert len(placed) == 3


def submit_jobs(endpoint: str) -> dict[str, Any]:
    """Submit ``JOBS`` and wait for moto's job threads to end (no Docker daemon: each job fails at once)."""
    from moto.batch.models import batch_backends

    batch = client("batch", endpoint)
    backend = batch_backends[ACCOUNT][REGION]
    ids = {
        name: batch.submit_job(jobName=name, jobQueue=QUEUE, jobDefinition="col-job")["jobId"]
        for name in JOBS
    }
    jobs = {name: backend._jobs[job_id] for name, job_id in ids.items()}
    for job in jobs.values():
        job.join(timeout=30)
        assert not job.is_alive()
    return jobs


def set_jobs(jobs: dict[str, Any], now: datetime) -> None:
    """Put each job in its state with its times, in moto's own records (its state machine frozen)."""
    never = datetime(1970, 1, 1, tzinfo=UTC)
    for name, (state, created, started, stopped) in JOBS.items():
        job = jobs[name]
        job.job_created_at = now - timedelta(seconds=created)
        job.job_started_at = now - timedelta(seconds=started) if started else never
        job.job_stopped = stopped is not None
        job.job_stopped_at = now - timedelta(seconds=stopped) if stopped else never
        job.status = state


def start_glue_run(endpoint: str) -> datetime:
    glue = client("glue", endpoint)
    glue.create_job(
        Name=FOODNOW.job_name, Role="r", Command={"Name": "glueetl", "ScriptLocation": "s3://b/s.py"}
    )
    run_id = glue.start_job_run(JobName=FOODNOW.job_name)["JobRunId"]
    run = glue.get_job_run(JobName=FOODNOW.job_name, RunId=run_id)["JobRun"]
    assert run["JobRunState"] == "STARTING"
    return run["StartedOn"].astimezone(UTC)  # type: ignore[no-any-return]


Key = tuple[str, tuple[tuple[str, str], ...]]


def keyed(metrics: Any) -> dict[Key, float]:
    out: dict[Key, float] = {}
    for m in metrics:
        dims = tuple((k, v) for k, v in m.dimensions if k != "Environment")
        assert (m.name, dims) not in out, (m.name, dims)
        out[(m.name, dims)] = m.value
    return out


def expected() -> dict[Key, float]:
    def q(status: str | None = None) -> tuple[tuple[str, str], ...]:
        return (("JobQueue", QUEUE),) + ((("Status", status),) if status else ())

    ce = (("ComputeEnvironment", CE),)
    ingest: dict[Key, float] = {
        ("IngestRunningSeconds", (("DAG", j.dag_id), ("Task", t))): 0.0
        for j in (FOODNOW, QUICKBITE)
        for t in ("ingest_glue", "ingest_batch")
    }
    ingest[("IngestRunningSeconds", (("DAG", FOODNOW.dag_id), ("Task", "ingest_glue")))] = GLUE_RUNNING_FOR
    ingest[("IngestRunningSeconds", (("DAG", FOODNOW.dag_id), ("Task", "ingest_batch")))] = (
        900.0  # since submitted
    )
    return {
        ("BatchJobs", q("SUBMITTED")): 1.0,
        ("BatchOldestJobAgeSeconds", q("SUBMITTED")): 50.0,
        ("BatchJobs", q("PENDING")): 0.0,
        ("BatchOldestJobAgeSeconds", q("PENDING")): 0.0,
        ("BatchJobs", q("RUNNABLE")): 2.0,
        ("BatchOldestJobAgeSeconds", q("RUNNABLE")): 600.0,
        ("BatchJobs", q("STARTING")): 0.0,
        ("BatchOldestJobAgeSeconds", q("STARTING")): 0.0,
        ("BatchJobs", q("RUNNING")): 1.0,
        ("BatchOldestJobAgeSeconds", q("RUNNING")): 300.0,  # since started
        ("BatchJobsFinished", q("SUCCEEDED")): 1.0,
        ("BatchJobsFinished", q("FAILED")): 1.0,
        ("BatchJobDurationSeconds", q()): 300.0 + 180.0,  # two data points: 300 s (succeeded), 180 s (failed)
        ("ComputeEnvironmentVcpusMax", ce): 16.0,
        ("ComputeEnvironmentVcpusDesired", ce): 0.0,
        ("ComputeEnvironmentVcpusInUse", ce): 3.0,
        ("ComputeEnvironmentMemoryInUseMiB", ce): 3 * 2048.0,
        ("ComputeEnvironmentMemoryMaxMiB", ce): 2 * 7482.0,
        **ingest,
    }


@pytest.fixture(scope="module")
def collected(moto_endpoint: str) -> Iterator[tuple[datetime, list[Any]]]:
    occupy(moto_endpoint, batch_environment(moto_endpoint))
    jobs = submit_jobs(moto_endpoint)
    state_transitions(moto_endpoint, FROZEN)
    try:
        now = start_glue_run(moto_endpoint) + timedelta(seconds=GLUE_RUNNING_FOR)
        set_jobs(jobs, now)
        clients = CollectClients(*(client(s, moto_endpoint) for s in ("batch", "ecs", "glue")))
        config = CollectConfig(ENV, (QUEUE,), (CE,), (FOODNOW, QUICKBITE))
        yield now, collect(clients, config, now=now)
    finally:
        state_transitions(moto_endpoint, None)


def test_collect_counts_jobs_waits_compute_use_and_running_ingests_exactly(
    collected: tuple[datetime, list[Any]],
) -> None:
    _, metrics = collected
    durations = sorted(m.value for m in metrics if m.name == "BatchJobDurationSeconds")
    assert durations == [180.0, 300.0]
    merged = keyed([m for m in metrics if m.name != "BatchJobDurationSeconds"])
    merged[("BatchJobDurationSeconds", (("JobQueue", QUEUE),))] = sum(durations)
    assert merged == expected()
    assert {m.unit for m in metrics if m.name.endswith("Seconds")} == {"Seconds"}
    assert {dict(m.dimensions)["Environment"] for m in metrics} == {ENV}


def test_published_collection_reads_back_with_the_same_values(
    collected: tuple[datetime, list[Any]], moto_endpoint: str, tmp_path: Any
) -> None:
    now, metrics = collected
    cloudwatch = client("cloudwatch", moto_endpoint)
    result = CloudWatchPublisher(cloudwatch, spool_path=tmp_path / "spool.jsonl", strict=True).publish(
        metrics
    )
    assert result.ok and result.sent == len(metrics)
    listed = [
        m
        for page in cloudwatch.get_paginator("list_metrics").paginate(
            Namespace="Feedguard/DataQuality", Dimensions=[{"Name": "Environment", "Value": ENV}]
        )
        for m in page["Metrics"]
    ]
    queries = [
        {"Id": f"m{i}", "MetricStat": {"Metric": m, "Period": 600, "Stat": "Sum"}}
        for i, m in enumerate(listed)
    ]
    data = {
        r["Id"]: r["Values"]
        for r in cloudwatch.get_metric_data(
            MetricDataQueries=queries,
            StartTime=now - timedelta(minutes=5),
            EndTime=now + timedelta(minutes=5),
        )["MetricDataResults"]
    }
    got = {}
    for i, m in enumerate(listed):
        dims = tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"] if d["Name"] != "Environment"))
        got[(m["MetricName"], dims)] = sum(data[f"m{i}"])
    assert got == {(name, tuple(sorted(dims))): value for (name, dims), value in expected().items()}
