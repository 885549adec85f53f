"""The health site's live sources without AWS: the consumer service's real ``/healthz`` server, in process,
and the ``feedguard docs build`` flags that turn the AWS panels on (no JVM, no network beyond 127.0.0.1)."""

from __future__ import annotations

import html
import re
import socket
from pathlib import Path

from feedguard.cli import build_parser
from feedguard.cli_commands import _aws_options
from feedguard.health import AwsOptions, HealthData, write_pages
from feedguard.health.model import AwsFigures, ServiceStatus
from feedguard.health.service import service_status
from feedguard.kafka.health import ServiceHealth, serve_health

STARTED = 1_800_000_000.0  # 2027-01-15T08:00:00Z


class Clock:
    def __init__(self) -> None:
        self.now = STARTED

    def __call__(self) -> float:
        return self.now


def fargate_text(status: ServiceStatus | None, tmp_path: Path) -> str:
    page = write_pages(HealthData(lake="/lake", runs=[], service=status), tmp_path).read_text()
    section = re.search(r"<section class='panel' id='panel-fargate'.*?</section>", page, re.S)
    assert section
    return section.group(0)


def rows(fragment: str, table_id: str) -> list[list[str]]:
    found = re.search(rf"<table id='{table_id}'>.*?<tbody>(.*?)</tbody>", fragment, re.S)
    assert found, table_id
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)
    ]


def test_the_fargate_panel_shows_the_running_services_health(tmp_path: Path) -> None:
    clock = Clock()
    health = ServiceHealth(unhealthy_after=600, clock=clock)
    with serve_health(health, ("127.0.0.1", 0)) as address:
        assert address
        clock.now += 90
        health.batch_done({"run_id": "k-7", "status": "succeeded", "exit_code": 0,
                           "batch_seq": 3, "consumer_lag_after_run": {"0": 5, "1": 2}})  # fmt: skip
        clock.now += 30
        health.idle()
        status = service_status(f"http://{address[0]}:{address[1]}")

    assert status.reachable and status.http_status == 200
    assert status.url == f"http://{address[0]}:{address[1]}/healthz"
    assert rows(fargate_text(status, tmp_path), "service-health") == [
        ["status", "healthy"],
        ["state", "idle"],
        ["last successful batch", "2027-01-15T08:01:30Z"],
        ["seconds since progress", "30.0"],
        ["broker reachable", "yes"],
        ["consumer lag", "7"],
        ["last run", "k-7"],
        ["last run status", "succeeded"],
        ["last error", "—"],
        ["batches", "1"],
        ["consumer restarts", "0"],
    ]


def test_an_unhealthy_service_answers_503_and_the_panel_shows_why(tmp_path: Path) -> None:
    clock = Clock()
    health = ServiceHealth(unhealthy_after=600, clock=clock)
    with serve_health(health, ("127.0.0.1", 0)) as address:
        assert address
        health.restarting("NoBrokersAvailable: past the 30-minute window")
        clock.now += 601
        status = service_status(f"http://{address[0]}:{address[1]}/healthz")

    assert status.reachable and status.http_status == 503
    shown = dict(rows(fargate_text(status, tmp_path), "service-health"))
    assert shown["status"] == "unhealthy"
    assert shown["state"] == "restarting_consumer"
    assert shown["broker reachable"] == "no"
    assert shown["last successful batch"] == "—"
    assert shown["last error"] == "NoBrokersAvailable: past the 30-minute window"
    assert shown["consumer restarts"] == "1"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_service_that_does_not_answer_is_said_so(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/healthz"
    status = service_status(url, timeout=1.0)

    assert not status.reachable
    text = html.unescape(re.sub(r"<[^>]+>", "", fargate_text(status, tmp_path)))
    assert f"The consumer service at {url} did not answer when the site was built: URLError: " in text
    assert "Connection refused" in text


def test_an_answer_that_is_not_the_services_health_is_named() -> None:
    with serve_health(ServiceHealth(unhealthy_after=600), ("127.0.0.1", 0)) as address:
        assert address
        status = service_status(f"http://{address[0]}:{address[1]}/metrics")

    assert not status.reachable
    assert status.error == (
        "NotAHealthAnswer: HTTP 404, but not the service's /healthz JSON: b'not found: try /healthz\\n'"
    )


def test_without_a_url_the_fargate_panel_names_the_flag(tmp_path: Path) -> None:
    text = fargate_text(None, tmp_path)
    assert "--service-health-url http://127.0.0.1:8080/healthz" in text
    assert "--ecs-cluster CLUSTER [--ecs-service SERVICE]" in text


def test_the_docs_build_flags_configure_aws_only_when_given() -> None:
    parse = build_parser().parse_args
    assert _aws_options(parse(["docs", "build"])) is None
    args = parse(["docs", "build", "--aws-endpoint-url", "http://127.0.0.1:5000", "--aws-region", "eu-west-1",
                  "--environment", "dev", "--batch-queue", "feedguard,feedguard-spot", "--batch-queue", "big",
                  "--ecs-cluster", "fg", "--ecs-service", "foodnow-consumer",
                  "--service-health-url", "http://127.0.0.1:8080/healthz"])  # fmt: skip
    assert _aws_options(args) == AwsOptions(
        "eu-west-1",
        "http://127.0.0.1:5000",
        "dev",
        ("feedguard", "feedguard-spot", "big"),
        "fg",
        "foodnow-consumer",
    )
    assert args.service_health_url == "http://127.0.0.1:8080/healthz"


def test_an_environment_without_callback_metrics_is_said_so(tmp_path: Path) -> None:
    figures = AwsFigures(AwsOptions("eu-west-1", environment="dev"), "the default AWS credentials", dags=[])
    page = write_pages(HealthData(lake="/lake", runs=[], aws=figures), tmp_path).read_text()
    assert "No callback metric for Environment=dev in Feedguard/DataQuality in the window" in page
    assert "--batch-queue QUEUE" in page  # the Batch panel was not configured: it names its flag
