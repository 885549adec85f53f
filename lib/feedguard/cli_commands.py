"""Sub-commands: contracts (check, diff), replay, docs and expectations (registered by the CLI)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any


def _contracts_check(args: argparse.Namespace) -> int:
    from feedguard.contracts.evolution import check_contracts

    problems = check_contracts(args.dir)
    for problem in problems:
        print(f"problem: {problem}")
    print("contracts OK" if not problems else f"{len(problems)} problem(s)")
    return 2 if problems else 0


def _contracts_diff(args: argparse.Namespace) -> int:
    from feedguard.contracts.contract import load_contract
    from feedguard.contracts.evolution import diff_contracts

    old, new = load_contract(args.old), load_contract(args.new)
    diff = diff_contracts(old, new)
    print(f"{old.key} v{old.version} -> v{new.version}: {diff.compatibility}"
          f"{' (breaking)' if diff.breaking else ''}")  # fmt: skip
    print(diff.to_markdown())
    return 0


def _contracts_infer(args: argparse.Namespace) -> int:
    from feedguard.contracts.infer import InferRequest, infer_contract, write_contract
    from feedguard.quality.suites import generate_suite, load_suite, refresh_suite, save_suite, suite_path
    from feedguard.runtime.session import build_session

    since = dt.date.fromisoformat(args.effective_from) if args.effective_from else None
    request = InferRequest(
        args.source, args.dataset, args.input, args.format, args.delimiter, args.max_lines, since
    )
    result = infer_contract(build_session("feedguard-contracts-infer"), request)
    print(result.report)
    path = write_contract(result, args.out, force=args.force)
    target = suite_path(args.expectations_dir, result.contract)
    suite = (
        refresh_suite(load_suite(target), result.contract)
        if target.exists()
        else generate_suite(result.contract)
    )
    print(f"wrote {path}\nwrote {save_suite(target, suite)}\nreview both before the first ingest")
    return 0


def _register_contracts_infer(csub: Any) -> None:
    infer = csub.add_parser(
        "infer", help="infer a first contract (and its suite) from sample files of a new feed"
    )
    infer.add_argument("--source", required=True)
    infer.add_argument("--dataset", required=True)
    infer.add_argument("--input", required=True, help="sample file, folder or glob (local or s3://)")
    infer.add_argument("--format", choices=("json", "csv"), help="default: from the file names")
    infer.add_argument("--delimiter", help="CSV delimiter (default: from the header line)")
    infer.add_argument(
        "--out", default="contracts", help="contracts folder: writes <out>/<source>/<dataset>.v1.yaml"
    )
    infer.add_argument("--expectations-dir", dest="expectations_dir", default="expectations")
    infer.add_argument(
        "--max-lines", dest="max_lines", type=int, default=100_000, help="read at most this many lines"
    )
    infer.add_argument("--effective-from", dest="effective_from", help="YYYY-MM-DD (default: today)")
    infer.add_argument("--force", action="store_true", help="replace an existing contract file")
    infer.set_defaults(func=_contracts_infer)


def _replay(args: argparse.Namespace) -> int:
    from feedguard.contracts.registry import load_versions, select_version
    from feedguard.ingest.replay import ReplayFilter, run_replay
    from feedguard.ingest.routing import RunContext
    from feedguard.lake.layout import Lake
    from feedguard.lake.lease import hold_lease
    from feedguard.lake.lifecycle import close_run, recover_inflight
    from feedguard.lake.runlog import iso, new_run_id, utc_now
    from feedguard.runtime.session import build_session

    versions = load_versions(args.contracts_dir, args.source, args.dataset)
    contract = select_version(versions, dt.date.today())
    run_id = args.run_id_new or f"replay-{new_run_id()}"
    ctx = RunContext(contract.source, contract.dataset, contract.version, run_id, iso(utc_now()))
    since = dt.date.fromisoformat(args.since) if args.since else None
    lake = Lake(args.lake)
    spark = build_session("feedguard-replay")
    # A replay changes the feed's tables: it holds the feed's lease like an ingest run does.
    with hold_lease(lake.lease(contract.source, contract.dataset), run_id, feed=contract.key):
        recover_inflight(spark, lake, contract.source, contract.dataset)
        summary = run_replay(spark, contract, lake, ctx, ReplayFilter(args.run_id, args.error_type, since))
        close_run(spark, lake, summary)
    print(
        json.dumps(
            {k: summary[k] for k in ("run_id", "records_read", "records_valid", "records_dead_lettered")}
        )
    )
    print(summary["message"])
    return 0


def _aws_options(args: argparse.Namespace) -> Any:
    """The health site's AWS source from the docs build flags (None when none of them is given)."""
    from feedguard.health import AwsOptions

    queues = tuple(q.strip() for item in args.batch_queue or () for q in item.split(",") if q.strip())
    given = (args.aws_region, args.aws_endpoint_url, args.environment, queues, args.ecs_cluster)
    if not any(given):
        return None
    return AwsOptions(
        args.aws_region, args.aws_endpoint_url, args.environment, queues, args.ecs_cluster, args.ecs_service
    )


def _docs_build(args: argparse.Namespace) -> int:
    from feedguard.health import HealthOptions, build_health_site
    from feedguard.lake.layout import Lake
    from feedguard.quality.docs import build_docs
    from feedguard.runtime.session import build_session

    options = HealthOptions(
        args.lake,
        args.contracts_dir,
        kafka_bootstrap=args.kafka_bootstrap,
        aws=_aws_options(args),
        service_health_url=args.service_health_url,
    )
    spark = build_session("feedguard-docs")
    index = build_docs(
        args.lake,
        context_root=Lake(args.lake).gx_context_root,
        s3_target=args.s3_target,
        extra_pages=lambda site: build_health_site(spark, site, options),
    )
    print(index)
    return 0


def _expectations_generate(args: argparse.Namespace) -> int:
    from feedguard.quality import write_suites

    for path in write_suites(args.contracts_dir, args.expectations_dir):
        print(f"wrote {path}")
    return 0


def _monitoring_collect(args: argparse.Namespace) -> int:
    from feedguard.monitoring.command import Endpoint, config_from, run_collect

    config = config_from(args.environment, args.queues, args.compute_environments, args.feeds, args.window)
    endpoint = Endpoint(args.region, args.endpoint_url)
    result = run_collect(
        config,
        publisher_kind=args.metrics,
        namespace=args.namespace,
        spool_path=args.spool,
        endpoint=endpoint,
    )
    print(json.dumps(result.summary_fields()))
    return 0 if result.ok else 75


def _register_monitoring(sub: Any) -> None:
    from feedguard.monitoring.command import DEFAULT_FEEDS

    monitoring = sub.add_parser("monitoring", help="platform figures AWS does not publish (Batch, Airflow)")
    msub = monitoring.add_subparsers(dest="monitoring_command", required=True)
    collect = msub.add_parser("collect", help="count Batch jobs, compute use, running ingests; publish")
    collect.add_argument("--environment", required=True, help="the Environment dimension (prod, dev, ...)")
    collect.add_argument("--queues", default="", help="comma-separated Batch job queues")
    collect.add_argument("--compute-environments", dest="compute_environments", default="")
    collect.add_argument("--feeds", default=DEFAULT_FEEDS, help="source/dataset,... whose ingest is watched")
    collect.add_argument("--window", type=int, default=300, help="seconds between runs (finished-job window)")
    collect.add_argument("--metrics", default="cloudwatch", choices=("cloudwatch", "emf", "none"))
    collect.add_argument("--namespace", default="Feedguard/DataQuality")
    collect.add_argument("--spool", default="/tmp/feedguard-monitoring.spool.jsonl")
    collect.add_argument("--region", default=None)
    collect.add_argument("--endpoint-url", dest="endpoint_url", default=None, help="a local emulator only")
    collect.set_defaults(func=_monitoring_collect)


def _register_docs_sources(build: Any) -> None:
    """The health site's optional live sources: AWS (Airflow, Batch, Fargate panels), the consumer service."""
    aws = build.add_argument_group("AWS panels (default credentials, or an endpoint such as moto)")
    aws.add_argument("--aws-region", dest="aws_region", help="region of the AWS calls")
    aws.add_argument("--aws-endpoint-url", dest="aws_endpoint_url", help="a local emulator only")
    aws.add_argument("--environment", help="Airflow panel: the callbacks' Environment dimension (prod, ...)")
    aws.add_argument(
        "--batch-queue", dest="batch_queue", action="append", help="Batch panel: a job queue (repeatable)"
    )
    aws.add_argument("--ecs-cluster", dest="ecs_cluster", help="Fargate panel: the ECS cluster's tasks")
    aws.add_argument("--ecs-service", dest="ecs_service", help="Fargate panel: only this service's tasks")
    build.add_argument(
        "--service-health-url",
        dest="service_health_url",
        help="Fargate panel: the consumer service's /healthz (e.g. http://127.0.0.1:8080/healthz)",
    )


def register(sub: Any) -> None:
    """Add the contracts, replay, docs, expectations and monitoring sub-commands."""
    _register_monitoring(sub)
    docs = sub.add_parser("docs", help="the Data Docs site for analysts")
    dsub = docs.add_subparsers(dest="docs_command", required=True)
    build = dsub.add_parser("build", help="rebuild the GX Data Docs, the run pages and the health site")
    build.add_argument("--lake", default="lake")
    build.add_argument("--s3-target", dest="s3_target", help="also upload the site to this s3:// prefix")
    build.add_argument("--contracts-dir", dest="contracts_dir", default="contracts")
    build.add_argument(
        "--kafka-bootstrap", dest="kafka_bootstrap", help="a broker to show on the Kafka panel (host:port)"
    )
    _register_docs_sources(build)
    build.set_defaults(func=_docs_build)

    expectations = sub.add_parser("expectations", help="Great Expectations suites kept in expectations/")
    esub = expectations.add_subparsers(dest="expectations_command", required=True)
    generate = esub.add_parser("generate", help="write or refresh the suites from the contracts")
    generate.add_argument("--contracts-dir", dest="contracts_dir", default="contracts")
    generate.add_argument("--expectations-dir", dest="expectations_dir", default="expectations")
    generate.set_defaults(func=_expectations_generate)

    contracts = sub.add_parser("contracts", help="validate and compare data contracts")
    csub = contracts.add_subparsers(dest="contracts_command", required=True)
    check = csub.add_parser(
        "check", help="validate every contract file, version order and compatibility claims"
    )
    check.add_argument("--dir", default="contracts")
    check.set_defaults(func=_contracts_check)
    diff = csub.add_parser("diff", help="the changes between two contract files and their compatibility")
    diff.add_argument("old")
    diff.add_argument("new")
    diff.set_defaults(func=_contracts_diff)
    _register_contracts_infer(csub)

    replay = sub.add_parser("replay", help="re-parse open dead letters against the current contract")
    replay.add_argument("--source", required=True)
    replay.add_argument("--dataset", required=True)
    replay.add_argument("--lake", default="lake")
    replay.add_argument("--contracts-dir", "--contracts_dir", dest="contracts_dir", default="contracts")
    replay.add_argument("--run-id", "--run_id", dest="run_id", help="only dead letters of this ingest run")
    replay.add_argument("--error-type", "--error_type", dest="error_type", help="only this error type")
    replay.add_argument("--since", help="only dead letters ingested on or after this date (YYYY-MM-DD)")
    replay.add_argument("--replay-run-id", dest="run_id_new", help="run id of the replay (default generated)")
    replay.set_defaults(func=_replay)
