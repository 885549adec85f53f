"""Job arguments resolved with Glue's own getResolvedOptions, with the flags Glue adds."""

from __future__ import annotations

import pytest

from feedguard.errors import UsageError
from feedguard.runtime.args import FILE_JOB_ARGS, KAFKA_JOB_ARGS, JobArgs, resolve_args

# What AWS Glue 5 passes to a script: our job parameters plus its reserved ones.
GLUE_ARGV = [
    "/tmp/ingest_files.py",
    "--JOB_ID", "j_0123456789abcdef",
    "--JOB_RUN_ID", "jr_0123456789abcdef",
    "--job-bookmark-option", "job-bookmark-disable",
    "--JOB_NAME", "feedguard-ingest-quickbite",
    "--TempDir", "s3://aws-glue-temporary-123/admin",
    "--enable-metrics", "true",
    "--enable-continuous-cloudwatch-log", "true",
    "--enable-glue-datacatalog", "true",
    "--datalake-formats", "delta",
    "--source", "quickbite",
    "--dataset", "orders",
    "--input_path", "s3://partner-landing/quickbite/orders/",
    "--lake_path", "s3://lake/",
    "--reprocess", "false",
    "--metrics", "emf",
]  # fmt: skip


def test_glue_argument_list_resolves() -> None:
    opts = resolve_args(GLUE_ARGV, FILE_JOB_ARGS)
    assert {k: opts[k] for k in ("JOB_NAME", "source", "dataset", "input_path", "lake_path", "metrics")} == {
        "JOB_NAME": "feedguard-ingest-quickbite",
        "source": "quickbite",
        "dataset": "orders",
        "input_path": "s3://partner-landing/quickbite/orders/",
        "lake_path": "s3://lake/",
        "metrics": "emf",
    }
    assert opts["reprocess"] is False
    assert opts["run_id"] is None
    assert opts["contracts_dir"] == "contracts"


def test_spark_submit_style_flags() -> None:
    argv = ["job", "--source", "mealdash", "--dataset", "orders", "--input_path", "in", "--lake_path", "lake",
            "--reprocess", "--strict-metrics", "--run_id", "r1"]  # fmt: skip
    opts = resolve_args(argv, FILE_JOB_ARGS)
    assert (opts["reprocess"], opts["strict_metrics"], opts["run_id"], opts["JOB_NAME"]) == (
        True,
        True,
        "r1",
        "feedguard-ingest-files",
    )


def test_missing_required_argument_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="the following arguments are required: --input_path, --lake_path"):
        resolve_args(["job", "--source", "s", "--dataset", "d"], FILE_JOB_ARGS)


def test_bad_boolean_is_a_usage_error() -> None:
    argv = [
        "job",
        "--source",
        "s",
        "--dataset",
        "d",
        "--input_path",
        "i",
        "--lake_path",
        "l",
        "--reprocess",
        "maybe",
    ]
    with pytest.raises(UsageError, match="--reprocess expects true or false, got 'maybe'"):
        resolve_args(argv, FILE_JOB_ARGS)


FILE_ARGV = ["job", "--source", "s", "--dataset", "d", "--input_path", "i", "--lake_path", "l"]
KAFKA_ARGV = ["job", "--source", "foodnow", "--dataset", "order_events", "--bootstrap_servers", "b:9092",
              "--topic", "t", "--lake_path", "l"]  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "argv", "typo", "meant"),
    [
        (FILE_JOB_ARGS, FILE_ARGV, ["--reprocesss"], "--reprocess"),
        (FILE_JOB_ARGS, FILE_ARGV, ["--reprocess=true", "--run-id", "r1"], "--run_id"),
        (FILE_JOB_ARGS, FILE_ARGV, ["--contract-version", "2"], "--contract_version"),
        (FILE_JOB_ARGS, FILE_ARGV, ["--enable-metrics", "--skip-dqq"], "--skip_dq"),
        (KAFKA_JOB_ARGS, KAFKA_ARGV, ["--expected_downtime_minute", "5"], "--expected_downtime_minutes"),
        (KAFKA_JOB_ARGS, KAFKA_ARGV, ["--bootstrap_server", "b:9092"], "--bootstrap_servers"),
        (KAFKA_JOB_ARGS, KAFKA_ARGV, ["--TempDr", "s3://tmp/"], "--TempDir"),
    ],
)
def test_a_mistyped_flag_is_a_usage_error_naming_the_closest_known_flag(
    spec: JobArgs, argv: list[str], typo: list[str], meant: str
) -> None:
    flag = next(t for t in typo if t.startswith("--") and "=" not in t and t != "--enable-metrics")
    with pytest.raises(
        UsageError, match=f"^bad job arguments: unknown flag {flag}: did you mean {meant}\\?$"
    ):
        resolve_args([*argv, *typo], spec)


def test_a_flag_close_to_nothing_lists_the_jobs_flags() -> None:
    with pytest.raises(UsageError) as raised:
        resolve_args([*KAFKA_ARGV, "--reprocess"], KAFKA_JOB_ARGS)  # a file-job flag
    assert str(raised.value).startswith(
        "bad job arguments: unknown flag --reprocess: this job's flags: --source"
    )
    assert "--bootstrap_servers" in str(raised.value) and "--JOB_NAME" not in str(raised.value)


# Every special parameter a Glue 5 run may pass to the script, with values as Glue passes them.
GLUE_SPECIAL = [
    "--JOB_ID", "j_1", "--JOB_RUN_ID", "jr_1", "--JOB_NAME", "feedguard-ingest",
    "--SECURITY_CONFIGURATION", "sec", "--job-bookmark-option", "job-bookmark-disable",
    "--TempDir", "s3://tmp/", "--RedshiftTempDir", "s3://tmp/", "--encryption-type", "sse-s3",
    "--enable-metrics", "", "--enable-observability-metrics", "true", "--enable-job-insights", "true",
    "--enable-spark-ui", "true", "--spark-event-logs-path", "s3://logs/", "--enable-glue-datacatalog", "true",
    "--enable-continuous-cloudwatch-log", "true", "--continuous-log-logGroup", "/aws-glue/jobs",
    "--enable-auto-scaling", "true", "--datalake-formats", "delta", "--job-language", "python",
    "--conf", "spark.sql.shuffle.partitions=8 --conf spark.sql.session.timeZone=UTC",
    "--extra-py-files", "s3://code/feedguard.whl", "--extra-jars", "s3://code/a.jar",
    "--additional-python-modules", "great-expectations==1.3.0",
    "--python-modules-installer-option", "--no-index", "--user-jars-first", "true",
    "--extra-files", "s3://code/contracts.zip", "--scriptLocation", "s3://code/job.py",
]  # fmt: skip


@pytest.mark.parametrize(("spec", "argv"), [(FILE_JOB_ARGS, FILE_ARGV), (KAFKA_JOB_ARGS, KAFKA_ARGV)])
def test_every_glue_special_parameter_passes_through(spec: JobArgs, argv: list[str]) -> None:
    opts = resolve_args([argv[0], *GLUE_SPECIAL, *argv[1:], "--strict-metrics"], spec)

    assert (opts["JOB_NAME"], opts["source"], opts["lake_path"], opts["strict_metrics"]) == (
        "feedguard-ingest", argv[2], "l", True,
    )  # fmt: skip


def test_name_equals_value_is_resolved_like_name_space_value() -> None:
    opts = resolve_args([*FILE_ARGV, "--reprocess=true", "--run_id=r-1", "--metrics=emf"], FILE_JOB_ARGS)
    assert (opts["reprocess"], opts["run_id"], opts["metrics"]) == (True, "r-1", "emf")


def test_a_flag_without_its_value_is_not_taken_for_a_value() -> None:
    with pytest.raises(UsageError, match="unknown flag --reprocesss: did you mean --reprocess"):
        resolve_args([*FILE_ARGV, "--run_id", "--reprocesss"], FILE_JOB_ARGS)
