"""Job arguments, resolved the way AWS Glue resolves them.

Glue passes ``--NAME value`` pairs plus reserved flags of its own (``--JOB_ID``,
``--job-bookmark-option``, ``--TempDir`` ...). ``awsglue.utils.getResolvedOptions`` resolves
required names and tolerates the reserved ones; optional names are resolved only when present
(the usual Glue idiom), so the same flags work under Glue, ``spark-submit`` and AWS Batch.
Glue's resolver ignores every other flag, so a mistyped one (``--reprocesss``) would be dropped
silently: a flag that is neither the job's nor one of Glue's special parameters
(:data:`GLUE_PARAMETERS`, ``--enable-*``, ``--continuous-log-*``) is a usage error (exit 2) that
names the closest known flag.

Example::

    opts = resolve_args(["job.py", "--JOB_NAME", "j", "--source", "quickbite"], FILE_JOB_ARGS)
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from awsglue.utils import GlueArgumentError, getResolvedOptions

from feedguard.errors import UsageError

# The special parameters AWS Glue passes to a job script (docs: "Using job parameters in AWS Glue jobs",
# and awsglue.job.Job's reserved options), without the leading "--"; plus every name with a prefix below.
GLUE_PARAMETERS = frozenset(
    {
        "JOB_ID", "JOB_RUN_ID", "JOB_NAME", "SECURITY_CONFIGURATION", "TempDir", "RedshiftTempDir",
        "job-bookmark-option", "job-bookmark-from", "job-bookmark-to", "continuation-option",
        "encryption-type", "additional-python-modules", "python-modules-installer-option",
        "auto-scale-within-microbatch", "class", "conf", "custom-logGroup-prefix",
        "customer-driver-env-vars", "customer-executor-env-vars", "datalake-formats", "disable-proxy-v2",
        "executor-cores", "extra-files", "extra-jars", "extra-py-files", "job-language", "scriptLocation",
        "spark-event-logs-path", "use-postgres-driver", "user-jars-first", "write-shuffle-files-to-s3",
        "write-shuffle-spills-to-s3",
    }
)  # fmt: skip
GLUE_PREFIXES = ("enable-", "continuous-log-")
GLUE_FLAG_LIKE_VALUES = frozenset({"python-modules-installer-option"})  # its value is pip's options
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
    """``--name=value`` becomes ``--name value``; ``--reprocess`` alone becomes ``--reprocess true``;
    ``--strict-metrics`` is spelt either way."""
    items: list[str] = []
    for item in argv:
        flag, sep, value = item.partition("=")
        items += [flag, value] if sep and item.startswith("--") else [item]
    out: list[str] = []
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


def is_platform_flag(name: str) -> bool:
    """True for a special parameter of AWS Glue (``name`` without its leading ``--``)."""
    return name in GLUE_PARAMETERS or name.startswith(GLUE_PREFIXES)


def reject_unknown_flags(args: Sequence[str], spec: JobArgs) -> None:
    """A usage error for the first flag that is neither the job's nor Glue's, naming the closest one.

    Values are not flags: only the value of a Glue parameter in :data:`GLUE_FLAG_LIKE_VALUES` may
    start with ``--`` (``--python-modules-installer-option --no-index``).
    """
    known = set(spec.names)
    skip_next = False
    for item in args[1:]:
        if skip_next or not item.startswith("--"):
            skip_next = False
            continue
        name = item[2:]
        skip_next = name in GLUE_FLAG_LIKE_VALUES
        if name not in known and not is_platform_flag(name):
            raise UsageError(unknown_flag_message(name, spec))


def unknown_flag_message(name: str, spec: JobArgs) -> str:
    """``unknown flag --reprocesss: did you mean --reprocess?`` (or the job's flags when nothing is close)."""
    ours = [n for n in spec.names if n != "JOB_NAME"]
    candidates = {n.replace("_", "-").lower(): n for n in (*ours, *sorted(GLUE_PARAMETERS))}
    close = difflib.get_close_matches(name.replace("_", "-").lower(), list(candidates), n=1, cutoff=0.6)
    hint = (
        f"did you mean --{candidates[close[0]]}?"
        if close
        else "this job's flags: " + ", ".join(f"--{n}" for n in ours)
    )
    return f"bad job arguments: unknown flag --{name}: {hint}"


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise UsageError(f"--{name} expects true or false, got {value!r}")


def resolve_args(argv: Sequence[str], spec: JobArgs) -> dict[str, Any]:
    """Resolve ``argv`` (``argv[0]`` is the program) against ``spec``; Glue's own flags pass through,
    unknown ones are a :class:`UsageError`."""
    args = _normalise_flags(argv, spec.flags)
    reject_unknown_flags(args, spec)
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
        "kafka_security_protocol": "PLAINTEXT",  # PLAINTEXT, SSL or SASL_SSL (feedguard.kafka.security)
        "kafka_sasl_mechanism": None,  # with SASL_SSL: SCRAM-SHA-512 (MSK) by default
        "kafka_secret_id": None,  # the Secrets Manager secret with the SASL credentials (never the values)
        "max_offsets_per_partition": None,
        "expected_downtime_minutes": "30",
        "maintenance_windows": None,  # comma-separated ISO-8601 intervals START/END (UTC)
        "lease_wait_seconds": "0",  # wait this long for another run of the feed to finish
        "lease_ttl_seconds": "600",  # a lease not renewed for this long belongs to a dead run
        # --continuous (feedguard.kafka.service): a long-running consumer instead of one batch
        "interval": "60",  # seconds between polls once caught up
        "health_address": "127.0.0.1:8080",  # HOST:PORT of /healthz ("none": no endpoint)
        "unhealthy_after_seconds": None,  # default: the outage window plus 5 minutes
        "stop_timeout_seconds": "100",  # after SIGTERM, abandon the batch and exit 0 by then
    },
    flags=("strict_metrics", "continuous"),
)
