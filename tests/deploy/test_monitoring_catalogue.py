"""Every metric of every widget and alarm exists: an AWS metric of metric-catalogue.yaml with one of its
dimension sets, or a metric the project's own code published to the moto server (read back with list_metrics).

Mutation tests: renaming a metric, a dimension or the consumer group in the generator makes the check fail.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_monitoring_helpers import MONITORING, client, generator

from feedguard.kafka.config import default_consumer_group
from feedguard.metrics import CloudWatchPublisher, metrics_from_summary
from feedguard.monitoring import (
    CALLBACK_EVENTS,
    CollectClients,
    CollectConfig,
    MetricRef,
    alarm_refs,
    callback_metrics,
    collect,
    ingest_job,
    widget_refs,
)
from feedguard.summary import RunSummary

ALL = {"HasEmail", "HasSlack", "HasMsk", "HasMwaa", "HasService", "HasCollector"}
Key = tuple[str, str, frozenset[str]]


def catalogue() -> set[Key]:
    data = yaml.safe_load((MONITORING / "metric-catalogue.yaml").read_text())
    return {(ns, name, frozenset(dims)) for ns, block in data.items()
            for name, spec in block["metrics"].items() for dims in spec["dimensions"]}  # fmt: skip


def batch_setup(endpoint: str) -> None:
    ec2, iam, batch = client("ec2", endpoint), client("iam", endpoint), client("batch", endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="cat", Description="d", VpcId=vpc)["GroupId"]
    role = iam.create_role(RoleName="cat-batch", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    profile = iam.create_instance_profile(InstanceProfileName="cat-batch")["InstanceProfile"]["Arn"]
    batch.create_compute_environment(
        computeEnvironmentName="cat-ce",
        type="MANAGED",
        state="ENABLED",
        serviceRole=role,
        computeResources={
            "type": "EC2",
            "minvCpus": 0,
            "maxvCpus": 8,
            "desiredvCpus": 0,
            "instanceTypes": ["m5.xlarge"],
            "subnets": [subnet],
            "securityGroupIds": [group],
            "instanceRole": profile,
        },
    )
    batch.create_job_queue(
        jobQueueName="cat-queue",
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "cat-ce"}],
    )
    container = {"image": "busybox", "vcpus": 1, "memory": 128}
    batch.register_job_definition(
        jobDefinitionName="cat-job", type="container", containerProperties=container
    )
    job = batch.submit_job(
        jobName="feedguard-foodnow-order-events-1", jobQueue="cat-queue", jobDefinition="cat-job"
    )
    for _ in range(100):  # moto without Docker fails the job at once: a finished job with a duration
        if batch.describe_jobs(jobs=[job["jobId"]])["jobs"][0]["status"] == "FAILED":
            return
        time.sleep(0.1)


@pytest.fixture(scope="module")
def published(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> set[Key]:
    """Publish through the project's own code (job metrics, collector, Airflow callbacks); read them back."""
    summary: RunSummary = {
        "source": "", "dataset": "", "records_read": 3, "records_valid": 2, "records_dead_lettered": 1,
        "files": [], "duration_seconds": 1.0, "dq_success": True, "expectations_evaluated": 4,
        "expectations_failed": 0, "consumer_lag": 5, "downtime_seconds": 0, "messages_lost": 0,
        "ended_at": datetime.now(UTC).isoformat()}  # fmt: skip
    metrics = []
    for feed in generator.FEEDS:
        metrics += metrics_from_summary(
            summary | {"source": feed.source, "dataset": feed.dataset}, "prod", feed.job
        )
    for event in CALLBACK_EVENTS:
        metrics += callback_metrics(event, "feedguard_quickbite_orders", "ingest_glue", "prod")
    batch_setup(moto_endpoint)
    config = CollectConfig("prod", ("cat-queue",), ("cat-ce",), (ingest_job("foodnow", "order_events"),))
    clients = CollectClients(
        client("batch", moto_endpoint), client("ecs", moto_endpoint), client("glue", moto_endpoint)
    )
    metrics += collect(clients, config)
    cloudwatch = client("cloudwatch", moto_endpoint)
    spool = tmp_path_factory.mktemp("spool") / "spool.jsonl"
    result = CloudWatchPublisher(cloudwatch, spool_path=spool, strict=True).publish(metrics)
    assert result.ok and result.sent == len(metrics)
    pages = cloudwatch.get_paginator("list_metrics").paginate(Namespace="Feedguard/DataQuality")
    return {(m["Namespace"], m["MetricName"], frozenset(d["Name"] for d in m["Dimensions"]))
            for page in pages for m in page["Metrics"]}  # fmt: skip


def refs_of(body: dict[str, Any], alarms: dict[str, Any]) -> list[MetricRef]:
    refs = [r for w in body["widgets"] for r in widget_refs(w)]
    return refs + [r for name, a in alarms.items() for r in alarm_refs(a["Properties"], name)]


def unknown(refs: Iterable[MetricRef], known: set[Key]) -> list[str]:
    return [f"{r.where}: {r.namespace} {r.name} {sorted(r.dimension_names)}" for r in refs
            if (r.namespace, r.name, r.dimension_names) not in known]  # fmt: skip


def test_every_widget_and_alarm_metric_exists(published: set[Key]) -> None:
    refs = refs_of(generator.dashboard_body(ALL), generator.alarms())
    assert len(refs) > 150
    assert unknown(refs, catalogue() | published) == []
    assert {r.name for r in refs if r.namespace == "Feedguard/DataQuality"} <= {k[1] for k in published}


@pytest.mark.parametrize(("old", "new"), [("CpuUser", "CpuUsr"), ('"Cluster Name"', '"ClusterName"'),
    ("RunningTaskCount", "TaskCount"), ("TaskInstanceDuration", "TaskDuration"), ('"DAG"', '"Dag"'),
    ("BatchOldestJobAgeSeconds", "BatchOldestJobAge"), ("MaxOffsetLag", "OffsetLag")])  # fmt: skip
def test_a_renamed_metric_or_dimension_is_caught(published: set[Key], old: str, new: str) -> None:
    body = json.loads(json.dumps(generator.dashboard_body(ALL)).replace(old, new))
    alarms = json.loads(json.dumps(generator.alarms()).replace(old, new))
    assert unknown(refs_of(body, alarms), catalogue() | published)


def consumer_group_problems() -> list[str]:
    problems = []
    group = default_consumer_group("foodnow", "order_events")
    if generator.parameters()["MskConsumerGroup"]["Default"] != group:
        problems.append("the template's MskConsumerGroup is not the group the job commits to")
    glue = json.loads((MONITORING.parent / "glue" / "foodnow-order-events.json").read_text())
    batch = json.loads(
        (MONITORING.parent / "batch" / "job-definitions" / "foodnow-order-events.json").read_text()
    )
    command = batch["containerProperties"]["command"]
    if glue["DefaultArguments"].get("--consumer_group") != group:
        problems.append("deploy/glue passes another --consumer_group")
    if command[command.index("--consumer_group") + 1] != group:
        problems.append("deploy/batch passes another --consumer_group")
    return problems


def test_lag_watches_the_group_the_job_commits_to_everywhere() -> None:
    assert default_consumer_group("foodnow", "order_events") == "feedguard-foodnow-order_events"
    assert consumer_group_problems() == []


def test_a_renamed_consumer_group_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generator, "CONSUMER_GROUP", "feedguard-foodnow")  # the group of the old template
    assert consumer_group_problems() == [
        "the template's MskConsumerGroup is not the group the job commits to"
    ]


def units() -> dict[tuple[str, str], str]:
    data = yaml.safe_load((MONITORING / "metric-catalogue.yaml").read_text())
    return {(ns, name): spec["unit"] for ns, block in data.items() for name, spec in block["metrics"].items()}


def test_titles_state_the_unit_of_their_metrics() -> None:
    for w in generator.dashboard_body(ALL)["widgets"]:
        title = w["properties"].get("title", "")
        for ref in widget_refs(w):
            unit = units().get((ref.namespace, ref.name))
            if unit == "Milliseconds":
                assert "(ms)" in title, title  # MWAA timers are milliseconds, not seconds
            if "(s)" in title and unit:
                assert unit == "Seconds", title


def test_each_design_item_maps_to_a_widget_or_resource() -> None:
    assert len(generator.ITEMS) == 43
    titles = {w["properties"].get("title") for w in generator.dashboard_body(ALL)["widgets"]}
    resources = generator.template()["Resources"]
    for panel, item, kind, key in generator.ITEMS:
        assert (key in titles) if kind == "widget" else (key in resources), f"{panel}: {item} -> {key}"


def test_chatbot_payloads_follow_the_custom_notification_schema() -> None:
    event = {"detail": {"jobName": "feedguard-quickbite-orders", "jobRunId": "jr_1", "state": "FAILED",
             "message": 'exit "3"', "jobId": "j1", "statusReason": "Essential container exited",
             "container": {"exitCode": 3}, "taskArn": "arn:task/1", "stopCode": "EssentialContainerExited",
             "stoppedReason": "boom", "group": "service:foodnow-consumer"}}  # fmt: skip
    for name, rule in generator.template()["Resources"].items():
        for target in (
            rule.get("Properties", {}).get("Targets", []) if rule["Type"] == "AWS::Events::Rule" else []
        ):
            transformer = target["InputTransformer"]
            text = transformer["InputTemplate"]
            for key, path in transformer["InputPathsMap"].items():
                value: Any = event
                for part in path.removeprefix("$.").split("."):
                    value = value[part]
                text = text.replace(f"<{key}>", json.dumps(str(value))[1:-1])
            payload = json.loads(text)
            if target["Id"] == "slack":
                assert payload["version"] == "1.0" and payload["source"] == "custom", name
                assert (
                    payload["content"]["textType"] == "client-markdown" and payload["content"]["description"]
                )
                assert "<" not in payload["content"]["title"], name
            else:
                assert isinstance(payload, str) and "docs/operations.md" in payload, name


def test_catalogue_cites_a_document_for_each_namespace() -> None:
    data = yaml.safe_load(Path(MONITORING / "metric-catalogue.yaml").read_text())
    assert all(block["doc"].startswith("https://docs.aws.amazon.com/") for block in data.values())
