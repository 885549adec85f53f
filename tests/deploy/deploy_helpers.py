"""Shared values for the deployment tests: the job flag contract, ${TOKEN} rendering of deploy/ files."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from feedguard.runtime.args import KAFKA_JOB_ARGS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

# The job scripts and the argument spec each one resolves in feedguard.runtime.args.
JOB_SCRIPTS = {"ingest_files": "FILE_JOB_ARGS", "ingest_kafka": "KAFKA_JOB_ARGS"}

# The flags each job accepts, kept here for as long as feedguard.runtime.args does not declare the
# spec (docs/design.md "Job arguments", the Kafka issue). `accepted_flags` prefers feedguard.runtime.args.
FALLBACK_FLAGS: Mapping[str, frozenset[str]] = {
    "ingest_files": frozenset(
        {
            "JOB_NAME",
            "source",
            "dataset",
            "input_path",
            "lake_path",
            "run_id",
            "contracts_dir",
            "reprocess",
            "environment",
            "metrics",
            "metrics_namespace",
            "strict_metrics",
            "alerts",
            "sns_topic_arn",
            "slack_secret_id",
        }
    ),
    "ingest_kafka": frozenset(KAFKA_JOB_ARGS.names),  # the Kafka job declares its own spec
}

# Flags AWS Glue itself understands (special job parameters), as opposed to the job's own flags.
GLUE_SPECIAL_PARAMETERS = frozenset(
    {
        "--job-language",
        "--datalake-formats",
        "--conf",
        "--additional-python-modules",
        "--python-modules-installer-option",
        "--extra-py-files",
        "--extra-jars",
        "--extra-files",
        "--job-bookmark-option",
        "--TempDir",
        "--enable-metrics",
        "--enable-observability-metrics",
        "--enable-continuous-cloudwatch-log",
        "--enable-continuous-log-filter",
        "--continuous-log-logGroup",
        "--enable-job-insights",
        "--enable-spark-ui",
        "--spark-event-logs-path",
        "--enable-glue-datacatalog",
        "--enable-auto-scaling",
        "--user-jars-first",
    }
)

# Values for the ${TOKENS} in the deploy/ JSON files (what `envsubst` fills in at deploy time).
SAMPLE_TOKENS: Mapping[str, str] = {
    "FEEDGUARD_ENV": "prod",
    "FEEDGUARD_GLUE_ROLE_ARN": "arn:aws:iam::123456789012:role/feedguard-glue",
    "FEEDGUARD_ARTIFACTS": "s3://feedguard-artifacts-123456789012/feedguard/0.1.0",
    "FEEDGUARD_GLUE_TEMP": "s3://feedguard-glue-temp-123456789012",
    "FEEDGUARD_LAKE": "s3://feedguard-lake-123456789012/lake",
    "FEEDGUARD_LANDING": "s3://feedguard-landing-123456789012",
    "FEEDGUARD_ALERTS_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:feedguard-alerts",
    "FEEDGUARD_SLACK_SECRET_ID": "feedguard/slack-webhook",
    "FEEDGUARD_MSK_CONNECTION": "feedguard-msk",
    "FOODNOW_BOOTSTRAP_SERVERS": "b-1.msk.example:9096,b-2.msk.example:9096",  # MSK's SASL/SCRAM port
    "FOODNOW_TOPIC": "foodnow.order-events",
    "FOODNOW_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "FOODNOW_KAFKA_SECRET_ID": "AmazonMSK_feedguard-foodnow",
    "FEEDGUARD_IMAGE": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/feedguard:0.1.0",
    "FEEDGUARD_BATCH_JOB_ROLE_ARN": "arn:aws:iam::123456789012:role/feedguard-batch-job",
    "AWS_REGION": "eu-west-1",
}

TOKEN = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def accepted_flags(job: str) -> frozenset[str]:
    """The flag names (without ``--``, ``-`` spelt ``_``) the job's argument parser accepts."""
    try:
        from feedguard.runtime import args as job_args
    except ImportError:
        return FALLBACK_FLAGS[job]
    spec = getattr(job_args, JOB_SCRIPTS[job], None)
    if spec is None:
        return FALLBACK_FLAGS[job]
    return frozenset(spec.names)


def flag_name(flag: str) -> str:
    return flag.removeprefix("--").replace("-", "_")


def render(text: str, values: Mapping[str, str] = SAMPLE_TOKENS) -> str:
    """Substitute ``${NAME}`` tokens like ``envsubst``; an unknown token fails the test."""
    unknown = sorted(set(TOKEN.findall(text)) - set(values))
    assert not unknown, f"undocumented tokens: {unknown}"
    return TOKEN.sub(lambda m: values[m.group(1)], text)


def load_rendered(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render(path.read_text()))
    return data


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def matches(pattern: str, value: str | None) -> bool:
    """Batch's evaluateOnExit matching: exact, or a prefix when the pattern ends with ``*``."""
    if value is None:
        return False
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return value == pattern


def batch_decision(
    rules: list[dict[str, str]],
    *,
    exit_code: int | None = None,
    status_reason: str | None = None,
    reason: str | None = None,
) -> str:
    """What AWS Batch does with a failed attempt: the first rule whose conditions all match; RETRY if none."""
    observed = {
        "onExitCode": None if exit_code is None else str(exit_code),
        "onStatusReason": status_reason,
        "onReason": reason,
    }
    for rule in rules:
        conditions = {k: v for k, v in rule.items() if k != "action"}
        if all(matches(pattern, observed[key]) for key, pattern in conditions.items()):
            return rule["action"].upper()
    return "RETRY"
