"""Job arguments resolved with Glue's own getResolvedOptions, with the flags Glue adds."""

from __future__ import annotations

import pytest

from feedguard.args import FILE_JOB_ARGS, resolve_args
from feedguard.errors import UsageError

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
