"""AWS Batch figures CloudWatch lacks: jobs per queue and state, the oldest wait, compute-environment use.

AWS Batch publishes no job-count, queue or utilisation metric, so ``feedguard monitoring collect`` derives
them from the Batch API (``ListJobs``, ``DescribeComputeEnvironments``) and, for EC2 compute environments,
from the ECS container instances of the environment's cluster (registered minus remaining CPU and memory:
what the running jobs hold).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from feedguard.metrics.model import Metric, Unit

ACTIVE_STATES: Final = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING")
FINISHED_STATES: Final = ("SUCCEEDED", "FAILED")
CPU_UNITS_PER_VCPU: Final = 1024

BATCH_JOBS: Final = "BatchJobs"
BATCH_OLDEST_JOB_AGE: Final = "BatchOldestJobAgeSeconds"
BATCH_JOBS_FINISHED: Final = "BatchJobsFinished"
BATCH_JOB_DURATION: Final = "BatchJobDurationSeconds"
CE_VCPUS_IN_USE: Final = "ComputeEnvironmentVcpusInUse"
CE_VCPUS_MAX: Final = "ComputeEnvironmentVcpusMax"
CE_VCPUS_DESIRED: Final = "ComputeEnvironmentVcpusDesired"
CE_MEMORY_IN_USE: Final = "ComputeEnvironmentMemoryInUseMiB"
CE_MEMORY_MAX: Final = "ComputeEnvironmentMemoryMaxMiB"


@dataclass(frozen=True)
class JobSummary:
    """One ``ListJobs`` entry: name, state and its times (epoch milliseconds as AWS gives them)."""

    name: str
    status: str
    created_ms: int
    started_ms: int | None = None
    stopped_ms: int | None = None

    @classmethod
    def from_api(cls, item: Mapping[str, Any], status: str) -> JobSummary:
        return cls(
            name=str(item.get("jobName", "")),
            status=str(item.get("status") or status),
            created_ms=int(item.get("createdAt") or 0),
            started_ms=int(item["startedAt"]) if item.get("startedAt") else None,
            stopped_ms=int(item["stoppedAt"]) if item.get("stoppedAt") else None,
        )

    def waiting_since_ms(self) -> int:
        """When the job entered its current wait: started for RUNNING, created for the states before."""
        return self.started_ms if self.status == "RUNNING" and self.started_ms else self.created_ms


def list_jobs(batch: Any, queue: str, status: str) -> Iterator[JobSummary]:
    """Every job of ``queue`` in ``status`` (paginated)."""
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"jobQueue": queue, "jobStatus": status}
        if token:
            kwargs["nextToken"] = token
        page = batch.list_jobs(**kwargs)
        for item in page.get("jobSummaryList", []):
            yield JobSummary.from_api(item, status)
        token = page.get("nextToken")
        if not token:
            return


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def queue_metrics(
    queue: str, jobs: Mapping[str, Sequence[JobSummary]], now: datetime, window_s: int, environment: str
) -> list[Metric]:
    """Counts and oldest wait per active state, jobs finished in the last ``window_s``, their durations."""
    now_ms = epoch_ms(now)

    def metric(name: str, value: float, unit: Unit, status: str | None = None) -> Metric:
        dims = (
            [("JobQueue", queue)] + ([("Status", status)] if status else []) + [("Environment", environment)]
        )
        return Metric(name, value, unit, tuple(dims), now)

    out: list[Metric] = []
    for status in ACTIVE_STATES:
        active = [j for j in jobs.get(status, ()) if j.status == status]
        oldest = max(((now_ms - j.waiting_since_ms()) / 1000 for j in active), default=0.0)
        out += [
            metric(BATCH_JOBS, float(len(active)), "Count", status),
            metric(BATCH_OLDEST_JOB_AGE, max(oldest, 0.0), "Seconds", status),
        ]
    since_ms = now_ms - window_s * 1000
    for status in FINISHED_STATES:
        finished = [j for j in jobs.get(status, ()) if j.stopped_ms and j.stopped_ms > since_ms]
        out.append(metric(BATCH_JOBS_FINISHED, float(len(finished)), "Count", status))
        out += [
            metric(BATCH_JOB_DURATION, (j.stopped_ms - j.started_ms) / 1000, "Seconds")
            for j in finished
            if j.started_ms and j.stopped_ms and j.stopped_ms >= j.started_ms
        ]
    return out


def _resource(resources: Sequence[Mapping[str, Any]], name: str) -> float:
    return float(sum(r.get("integerValue", 0) for r in resources if r.get("name") == name))


def container_instance_use(ecs: Any, cluster_arn: str) -> tuple[float, float, float, float] | None:
    """(vCPUs in use, vCPUs registered, MiB in use, MiB registered) of a cluster; None without instances."""
    arns: list[str] = []
    for page in ecs.get_paginator("list_container_instances").paginate(cluster=cluster_arn):
        arns += page.get("containerInstanceArns", [])
    if not arns:
        return None
    cpu_used = cpu_total = mem_used = mem_total = 0.0
    for start in range(0, len(arns), 100):
        described = ecs.describe_container_instances(
            cluster=cluster_arn, containerInstances=arns[start : start + 100]
        )
        for instance in described.get("containerInstances", []):
            registered, remaining = instance["registeredResources"], instance["remainingResources"]
            cpu_total += _resource(registered, "CPU")
            cpu_used += _resource(registered, "CPU") - _resource(remaining, "CPU")
            mem_total += _resource(registered, "MEMORY")
            mem_used += _resource(registered, "MEMORY") - _resource(remaining, "MEMORY")
    return cpu_used / CPU_UNITS_PER_VCPU, cpu_total / CPU_UNITS_PER_VCPU, mem_used, mem_total


def compute_environment_metrics(
    batch: Any, ecs: Any, names: Sequence[str], now: datetime, environment: str
) -> list[Metric]:
    """vCPUs (in use, desired, maximum) and memory (in use, registered) of each compute environment."""
    if not names:
        return []
    out: list[Metric] = []
    described = batch.describe_compute_environments(computeEnvironments=list(names))
    for env in described.get("computeEnvironments", []):
        dims = (("ComputeEnvironment", str(env["computeEnvironmentName"])), ("Environment", environment))
        resources = env.get("computeResources", {})
        out += [
            Metric(CE_VCPUS_MAX, float(resources.get("maxvCpus", 0)), "Count", dims, now),
            Metric(CE_VCPUS_DESIRED, float(resources.get("desiredvCpus", 0)), "Count", dims, now),
        ]
        if str(resources.get("type", "EC2")).startswith("FARGATE"):
            continue  # no container instances: Fargate jobs show in the Fargate panel (Container Insights)
        use = container_instance_use(ecs, env["ecsClusterArn"]) if env.get("ecsClusterArn") else None
        use = use or (0.0, 0.0, 0.0, 0.0)  # no instance up: nothing runs, nothing registered
        vcpus_used, _vcpus_registered, mem_used, mem_registered = use
        out += [
            Metric(CE_VCPUS_IN_USE, vcpus_used, "Count", dims, now),
            Metric(CE_MEMORY_IN_USE, mem_used, "None", dims, now),
            Metric(CE_MEMORY_MAX, mem_registered, "None", dims, now),
        ]
    return out
