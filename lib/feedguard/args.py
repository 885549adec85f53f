"""Job arguments, resolved the way AWS Glue resolves them.

Glue passes ``--NAME value`` pairs plus reserved flags of its own (``--JOB_ID``,
``--job-bookmark-option``, ``--TempDir`` ...). ``awsglue.utils.getResolvedOptions`` resolves
required names and tolerates the reserved ones; optional names are resolved only when present
(the usual Glue idiom), so the same flags work under Glue, ``spark-submit`` and AWS Batch.

Example::

    opts = resolve_args(["job.py", "--JOB_NAME", "j", "--source", "quickbite"], FILE_JOB_ARGS)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from awsglue.utils import GlueArgumentError, getResolvedOptions

from feedguard.errors import UsageError

TRUE_WORDS = {"true", "1", "yes", "y", "on"}
FALSE_WORDS = {"false", "0", "no", "n", "off"}


@dataclass(frozen=True)
class JobArgs:
    """What a job accepts: required names, and optional names with their defaults."""

    required: tuple[str, ...]
    optional: Mapping[str, str | None]
    flags: tuple[str, ...] = ()  # booleans: ``--name`` alone means true, or ``--name true|false``

    @property
    def names(self) -> tuple[str, ...]:
        return (*self.required, *self.optional, *self.flags)


FILE_JOB_ARGS = JobArgs(
    required=("source", "dataset", "input_path", "lake_path"),
    optional={
        "JOB_NAME": "feedguard-ingest-files",
        "run_id": None,
        "contracts_dir": "contracts",
        "contract_version": None,
        "environment": "local",
        "metrics": "none",
        "metrics_namespace": "Feedguard/DataQuality",
        "expectations_dir": "expectations",
        "docs": "skip",
        "alerts": "none",
        "sns_topic_arn": None,
        "slack_secret_id": None,
        "lease_wait_seconds": "0",  # wait this long for another run of the feed to finish
        "lease_ttl_seconds": "600",  # a lease not renewed for this long belongs to a dead run
    },
    flags=("reprocess", "strict_metrics", "skip_dq"),
)


def _normalise_flags(argv: Sequence[str], flags: Sequence[str]) -> list[str]:
    """``--reprocess`` alone becomes ``--reprocess true``; ``--strict-metrics`` spelt either way."""
    out: list[str] = []
    items = list(argv)
    for index, item in enumerate(items):
        name = item[2:].replace("-", "_") if item.startswith("--") else None
        if name in flags:
            out.append(f"--{name}")
            following = items[index + 1] if index + 1 < len(items) else None
            if following is None or following.startswith("--"):
                out.append("true")
            continue
        out.append(item)
    return out


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise UsageError(f"--{name} expects true or false, got {value!r}")


def resolve_args(argv: Sequence[str], spec: JobArgs) -> dict[str, Any]:
    """Resolve ``argv`` (``argv[0]`` is the program) against ``spec``; unknown flags pass through."""
    args = _normalise_flags(argv, spec.flags)
    present = {a[2:] for a in args[1:] if a.startswith("--")}
    wanted = [*spec.required, *[n for n in (*spec.optional, *spec.flags) if n in present]]
    try:
        resolved = getResolvedOptions(args, wanted)
    except GlueArgumentError as exc:
        raise UsageError(f"bad job arguments: {exc}") from None
    result: dict[str, Any] = {name: resolved[name] for name in spec.required}
    for name, default in spec.optional.items():
        result[name] = resolved.get(name, default) if name in present else default
    for name in spec.flags:
        result[name] = _bool(name, resolved[name]) if name in present else False
    for name in spec.required:
        if not str(result[name]).strip():
            raise UsageError(f"bad job arguments: --{name} is empty")
    return result


KAFKA_JOB_ARGS = JobArgs(
    required=("source", "dataset", "bootstrap_servers", "topic", "lake_path"),
    optional={
        "JOB_NAME": "feedguard-ingest-kafka",
        "run_id": None,
        "contracts_dir": "contracts",
        "environment": "local",
        "metrics": "none",
        "metrics_namespace": "Feedguard/DataQuality",
        "alerts": "none",
        "sns_topic_arn": None,
        "slack_secret_id": None,
        "consumer_group": None,  # default: feedguard-<source>-<dataset>
        "max_offsets_per_partition": None,
        "expected_downtime_minutes": "30",
        "maintenance_windows": None,  # comma-separated ISO-8601 intervals START/END (UTC)
    },
    flags=("strict_metrics",),
)
