"""Alert rules (change of state only), PII masking, message text, state files, channel setup."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from feedguard.alerts import (
    AlertConfigError,
    AlertState,
    AlertThresholds,
    DeliveryReport,
    DeliveryResult,
    OpenProblem,
    SlackWebhookNotifier,
    alerts_for_run,
    format_alert,
    load_alert_state,
    mask_text,
    observe,
    save_alert_state,
    slack_webhook_url,
)
from feedguard.alerts.message import DeadLetterSample
from feedguard.summary import RunSummary

Summary = Callable[..., RunSummary]
NOW = datetime(2024, 5, 1, 10, 1, tzinfo=UTC)
THRESHOLDS = AlertThresholds(warning_ratio=0.05, owner="orders-team@quickbite.example")
PII = ["customer_email", "customer_name", "phone"]


def kinds(alerts: list[Any]) -> list[str]:
    return [a.kind for a in alerts]


# --- masking -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"order_id": 7, "customer_email": "ann@example.com", "phone": 442079460958, "city": "Leeds"}',
            '{"order_id": 7, "customer_email": "***", "phone": "***", "city": "Leeds"}',
        ),
        (
            '{"customer": {"customer_name": "Ann \\"Nan\\" Lee", "tier": "gold"}, "n": 2}',
            '{"customer": {"customer_name": "***", "tier": "gold"}, "n": 2}',
        ),
        ('{"phone": ["+44 1", "+44 2"], "n": 1}', '{"phone": "***", "n": 1}'),
        ('{"order_id": 9, "customer_name": "Ann Le', '{"order_id": 9, "customer_name": "***"'),
        ('{"note": "mail me at bob.smith+x@mail.example.co.uk"}', '{"note": "mail me at ***"}'),
        ('{"api_key": "k-123", "Password": "hunter2"}', '{"api_key": "***", "Password": "***"}'),
        ("bad value customer_name=Ann Lee, amount=3", "bad value customer_name=***, amount=3"),
        ("cannot parse phone: '+44 20 7946 0958' (row 3)", "cannot parse phone: *** (row 3)"),
        ("Authorization: Bearer abc.def.ghi", "Authorization: ***"),
        ("sent with bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "sent with ***"),
        ("key AKIAABCDEFGHIJKLMNOP leaked", "key *** leaked"),
        ("posted to https://hooks.slack.com/services/T0/B0/abc", "posted to ***"),
        ("from https://admin:s3cr3t@db.internal/x", "from https://***@db.internal/x"),
        (
            "Unrecognized token 'abc': was expecting a value",
            "Unrecognized token 'abc': was expecting a value",
        ),
    ],
)
def test_mask_text_masks_pii_values_emails_and_secrets(text: str, expected: str) -> None:
    assert mask_text(text, PII) == expected


def test_mask_text_masks_nested_pii_fields_by_their_leaf_name() -> None:
    text = '{"customer": {"email": "a@b.io", "id": 4}}'

    assert mask_text(text, ["customer.email"]) == '{"customer": {"email": "***", "id": 4}}'


def test_mask_text_masks_csv_columns_by_position() -> None:
    columns = ["order_id", "customer_name", "amount", "phone"]

    assert mask_text('7,"Lee, Ann",12.50,0207', PII, csv_columns=columns) == "7,***,12.50,***"
    assert mask_text("7;Ann;12.50;0207", PII, csv_columns=columns, delimiter=";") == "7;***;12.50;***"


def test_mask_text_masks_every_csv_field_when_positions_are_unknown() -> None:
    columns = ["order_id", "customer_name", "amount", "phone"]

    assert mask_text("7,Ann,12.50", PII, csv_columns=columns) == "***,***,***"
    assert mask_text("7,Ann,12.50,0207,extra", PII, csv_columns=columns) == "***,***,***,***,***"


# --- rules ---------------------------------------------------------------------------------------


def test_first_failure_alerts_then_stays_quiet_then_one_resolved(make_summary: Summary) -> None:
    failed = make_summary(run_id="r1", status="failed", exit_code=1, message="boom")

    alerts1, state1 = alerts_for_run(failed, AlertState(), THRESHOLDS, now=NOW)
    alerts2, state2 = alerts_for_run({**failed, "run_id": "r2"}, state1, THRESHOLDS, now=NOW)
    alerts3, state3 = alerts_for_run(make_summary(run_id="r3"), state2, THRESHOLDS, now=NOW)
    alerts4, state4 = alerts_for_run(make_summary(run_id="r4"), state3, THRESHOLDS, now=NOW)

    assert (kinds(alerts1), kinds(alerts2), kinds(alerts3), kinds(alerts4)) == (
        ["run_failed"],
        [],
        ["resolved"],
        [],
    )
    assert state2.for_dataset("quickbite", "orders") == {
        "run_failed": OpenProblem("run_failed", "r1", NOW.isoformat(), "r2", runs=2)
    }
    assert alerts3[0].resolved == (OpenProblem("run_failed", "r1", NOW.isoformat(), "r2", runs=2),)
    assert state3 == state4 == AlertState({})


def test_several_problems_clear_in_one_resolved_alert(make_summary: Summary) -> None:
    bad = make_summary(
        run_id="r1",
        exit_code=3,
        status="failed",
        dq_success=False,
        records_dead_lettered=20,
        records_valid=180,
    )
    alerts1, state1 = alerts_for_run(bad, AlertState(), THRESHOLDS, now=NOW)
    alerts2, _ = alerts_for_run(make_summary(run_id="r2", dq_success=True), state1, THRESHOLDS, now=NOW)

    assert kinds(alerts1) == ["intermittent_corruption", "dq_failed"]
    assert kinds(alerts2) == ["resolved"]
    assert [p.kind for p in alerts2[0].resolved] == ["intermittent_corruption", "dq_failed"]


def test_structural_change_is_addressed_to_the_contract_owner(make_summary: Summary) -> None:
    summary = make_summary(exit_code=4, verdicts={"in/orders-3.json": "structural_change"})

    alerts, _ = alerts_for_run(summary, AlertState(), THRESHOLDS, now=NOW)

    assert [(a.kind, a.severity, a.recipients) for a in alerts] == [
        ("structural_change", "critical", ("oncall", "owner:orders-team@quickbite.example"))
    ]


@pytest.mark.parametrize(("dead", "fires"), [(10, False), (11, True)])
def test_corruption_alerts_only_above_the_warning_ratio(
    make_summary: Summary, dead: int, fires: bool
) -> None:
    summary = make_summary(records_dead_lettered=dead, records_valid=200 - dead)  # 5% is the threshold

    alerts, _ = alerts_for_run(summary, AlertState(), THRESHOLDS, now=NOW)

    assert kinds(alerts) == (["intermittent_corruption"] if fires else [])


def test_unsent_metrics_alert_once_and_resolve(make_summary: Summary) -> None:
    spooled = make_summary(
        run_id="r1", metrics_spooled=7, metrics_dropped=0, metrics_error="EndpointConnectionError"
    )

    alerts1, state1 = alerts_for_run(spooled, AlertState(), THRESHOLDS, now=NOW)
    alerts2, state2 = alerts_for_run(make_summary(run_id="r2"), state1, THRESHOLDS, now=NOW)
    alerts3, _ = alerts_for_run(make_summary(run_id="r3", metrics_spooled=0), state2, THRESHOLDS, now=NOW)

    assert (kinds(alerts1), kinds(alerts2), kinds(alerts3)) == (["metrics_unsent"], [], ["resolved"])


def test_a_run_that_stopped_before_reading_data_keeps_data_problems_open(make_summary: Summary) -> None:
    summary = make_summary(exit_code=4, verdicts={"x": "structural_change"})
    _, state = alerts_for_run(summary, AlertState(), THRESHOLDS, now=NOW)

    seen = observe(make_summary(exit_code=2, status="failed"), THRESHOLDS)
    alerts, after = alerts_for_run(make_summary(run_id="r2", exit_code=2, status="failed"), state, THRESHOLDS)

    assert seen == {
        "run_failed": True,
        "structural_change": None,
        "file_corrupt": None,
        "intermittent_corruption": None,
        "dq_failed": None,
        "metrics_unsent": None,
    }
    assert kinds(alerts) == ["run_failed"]
    assert sorted(after.for_dataset("quickbite", "orders")) == ["run_failed", "structural_change"]


def test_an_undelivered_alert_fires_again_on_the_next_run(make_summary: Summary) -> None:
    failed = make_summary(run_id="r1", exit_code=1, status="failed")
    _, state = alerts_for_run(failed, AlertState(), THRESHOLDS, now=NOW)
    state = state.mark_unnotified("quickbite", "orders", ["run_failed"])

    again, state2 = alerts_for_run({**failed, "run_id": "r2"}, state, THRESHOLDS, now=NOW)
    quiet, _ = alerts_for_run({**failed, "run_id": "r3"}, state2, THRESHOLDS, now=NOW)

    assert (kinds(again), kinds(quiet)) == (["run_failed"], [])


def test_a_run_that_read_nothing_keeps_data_problems_open(make_summary: Summary) -> None:
    corrupt = make_summary(run_id="r1", records_dead_lettered=20, records_valid=180)
    _, state = alerts_for_run(corrupt, AlertState(), THRESHOLDS, now=NOW)
    nothing = make_summary(
        run_id="r2",
        records_read=0,
        records_valid=0,
        records_dead_lettered=0,
        dead_letters_by_type={},
        files=[],
        files_skipped_already_processed=2,
    )

    quiet, state2 = alerts_for_run(nothing, state, THRESHOLDS, now=NOW)
    healthy, _ = alerts_for_run(make_summary(run_id="r3", records_dead_lettered=0), state2, THRESHOLDS)

    assert observe(nothing, THRESHOLDS)["intermittent_corruption"] is None
    assert quiet == [] and sorted(state2.for_dataset("quickbite", "orders")) == ["intermittent_corruption"]
    assert kinds(healthy) == ["resolved"]


def quarantined_summary(make_summary: Summary, run_id: str = "r1") -> RunSummary:
    """A truncated gzip beside a clean file, as the ingest job reports it."""
    files = [
        {"path": "in/a.jsonl.gz", "records_read": 1, "records_valid": 0, "records_dead_lettered": 1,
         "verdict": "file_corrupt"},
        {"path": "in/b.jsonl", "records_read": 9, "records_valid": 9, "records_dead_lettered": 0,
         "verdict": "clean"},
    ]  # fmt: skip
    return make_summary(
        run_id=run_id,
        exit_code=6,
        status="file_quarantined",
        records_read=10,
        records_valid=9,
        records_dead_lettered=1,
        dead_letters_by_type={"file_corrupt": 1},
        corrupt_ratio_pct=10.0,
        files=files,
        verdicts={f["path"]: f["verdict"] for f in files},
    )


def test_a_quarantined_file_is_a_file_level_alert_not_intermittent_corruption(make_summary: Summary) -> None:
    summary = quarantined_summary(make_summary)

    alerts, state = alerts_for_run(summary, AlertState(), THRESHOLDS, now=NOW)
    message = format_alert(alerts[0], summary)
    cleared, _ = alerts_for_run(make_summary(run_id="r2", records_dead_lettered=0), state, THRESHOLDS)

    assert [(a.kind, a.severity, a.recipients) for a in alerts] == [
        ("file_corrupt", "critical", ("oncall", "owner:orders-team@quickbite.example"))
    ]
    assert message.subject == "[feedguard] CRITICAL quickbite/orders: file(s) quarantined as corrupt (run r1)"
    assert message.text.splitlines()[0] == (
        "File(s) quarantined as corrupt: 1 file(s) of quickbite/orders were unreadable or had more bad "
        "records than the contract allows; run r1 loaded nothing of them."
    )
    assert "Status: file_quarantined (exit 6)" in message.text
    assert "feedguard replay --source quickbite --dataset orders --run-id r1 --error-type file_corrupt" in (
        message.text
    )
    assert (
        kinds(cleared) == ["resolved"] and cleared[0].recipients[1] == "owner:orders-team@quickbite.example"
    )


def test_a_run_that_loaded_no_file_does_not_resolve_corruption(make_summary: Summary) -> None:
    _, state = alerts_for_run(make_summary(run_id="r1", records_dead_lettered=20), AlertState(), THRESHOLDS)
    only_quarantined = quarantined_summary(make_summary, "r2")
    only_quarantined["files"] = only_quarantined["files"][:1]
    only_quarantined["verdicts"] = {"in/a.jsonl.gz": "file_corrupt"}

    alerts, after = alerts_for_run(only_quarantined, state, THRESHOLDS)

    assert kinds(alerts) == ["file_corrupt"]
    assert sorted(after.for_dataset("quickbite", "orders")) == ["file_corrupt", "intermittent_corruption"]


def test_datasets_are_tracked_separately(make_summary: Summary) -> None:
    _, state = alerts_for_run(make_summary(exit_code=1), AlertState(), THRESHOLDS, now=NOW)

    alerts, state2 = alerts_for_run(make_summary(dataset="menus", exit_code=1), state, THRESHOLDS, now=NOW)

    assert kinds(alerts) == ["run_failed"]
    assert sorted(state2.open) == ["quickbite/menus", "quickbite/orders"]


# --- message text ----------------------------------------------------------------------------------


def test_structural_change_message_says_what_happened_and_what_to_do(make_summary: Summary) -> None:
    summary = make_summary(
        exit_code=4,
        status="structural_change",
        records_read=80,
        records_valid=0,
        records_dead_lettered=0,
        dead_letters_by_type={},
        files=[
            {
                "path": "in/orders-3.json",
                "records_read": 80,
                "records_valid": 0,
                "records_dead_lettered": 0,
                "verdict": "structural_change",
            }
        ],
        docs_path="lake/_docs/index.html",
    )
    samples: list[DeadLetterSample] = [
        {
            "error_type": "missing_required_field",
            "error_detail": "customer_email is required; got customer_mail='ann@example.com'",
            "source_file": "in/orders-3.json",
            "source_line": 1,
            "raw_text": '{"order_id": 1, "customer_mail": "ann@example.com", "customer_name": "Ann Lee"}',
        }
    ]
    alerts, _ = alerts_for_run(summary, AlertState(), THRESHOLDS, now=NOW)

    message = format_alert(alerts[0], summary, samples=samples, pii_fields=PII)

    assert message.subject == "[feedguard] CRITICAL quickbite/orders: structural change (run r-20240501-1)"
    assert message.text == "\n".join(
        [
            "Structural change: 1 file(s) of quickbite/orders no longer match contract version 1 and were "
            "quarantined whole by run r-20240501-1.",
            "",
            "Source: quickbite | Dataset: orders | Run: r-20240501-1 | Contract: v1 | "
            "Status: structural_change (exit 4)",
            "Counts: read 80, valid 0, dead-lettered 0 (0.00%)",
            "Files:",
            "- in/orders-3.json: structural_change (read 80, valid 0, dead-lettered 0)",
            "First dead-letter reasons (1 of 1 sampled):",
            "1. missing_required_field at in/orders-3.json:1: customer_email is required; got "
            """customer_mail='***' | raw: {"order_id": 1, "customer_mail": "***", "customer_name": "***"}""",
            "",
            "What to do: Nothing of the changed files was loaded; they are kept byte for byte under "
            "_quarantine/quickbite/orders/r-20240501-1/ in the lake. The contract owner agrees the change "
            "with the partner and publishes the next contract version (the drift report proposes one), then: "
            "feedguard replay --source quickbite --dataset orders --run-id r-20240501-1",
            "Contract owner: orders-team@quickbite.example (action needed)",
            "Data Docs: lake/_docs/index.html",
        ]
    )


def test_corruption_message_lists_the_first_reasons_masked_and_unclean_files_first(
    make_summary: Summary,
) -> None:
    summary = make_summary(
        records_dead_lettered=20, records_valid=180, dead_letters_by_type={"malformed_csv": 20}
    )
    samples: list[DeadLetterSample] = [
        {
            "error_type": "malformed_csv",
            "error_detail": f"expected 3 fields, got {n}",
            "source_file": "in/orders-2.csv",
            "source_line": line,
            "raw_text": raw,
        }
        for n, line, raw in [(3, 4, "4,Ann Lee,0207"), (2, 9, "9,Bob"), (3, 12, "12,Cy,0208"), (3, 15, "x")]
    ]
    alerts, _ = alerts_for_run(summary, AlertState(), THRESHOLDS, now=NOW)

    text = format_alert(
        alerts[0],
        summary,
        samples=samples,
        pii_fields=PII,
        csv_columns=["order_id", "customer_name", "phone"],
    ).text

    assert text.splitlines()[:9] == [
        "Intermittent corruption: 10.00% of the records of quickbite/orders were dead-lettered by run "
        "r-20240501-1, above the contract's warning threshold.",
        "",
        "Source: quickbite | Dataset: orders | Run: r-20240501-1 | Contract: v1 | Status: succeeded (exit 0)",
        "Counts: read 200, valid 180, dead-lettered 20 (10.00%) [malformed_csv 20]",
        "Files:",
        "- in/orders-2.json: intermittent_corruption (read 80, valid 74, dead-lettered 6)",
        "- in/orders-1.json: clean (read 120, valid 120, dead-lettered 0)",
        "First dead-letter reasons (3 of 4 sampled):",
        "1. malformed_csv at in/orders-2.csv:4: expected 3 fields, got 3 | raw: 4,***,***",
    ]
    assert text.splitlines()[9:11] == [
        "2. malformed_csv at in/orders-2.csv:9: expected 3 fields, got 2 | raw: ***,***",
        "3. malformed_csv at in/orders-2.csv:12: expected 3 fields, got 3 | raw: 12,***,***",
    ]
    assert "Data Docs: none for this run" in text


def test_resolved_message_names_what_cleared(make_summary: Summary) -> None:
    _, state = alerts_for_run(
        make_summary(run_id="r1", exit_code=75, status="failed"), AlertState(), THRESHOLDS
    )
    alerts, _ = alerts_for_run(make_summary(run_id="r2"), state, THRESHOLDS)

    message = format_alert(alerts[0], make_summary(run_id="r2"))

    assert message.subject == "[feedguard] INFO quickbite/orders: resolved (run r2)"
    assert message.text.splitlines()[0] == (
        "Resolved: quickbite/orders is healthy again after run r2. Cleared: run failed (open since run r1)."
    )
    assert "What to do: Nothing; this message closes the earlier alert(s)." in message.text


# --- state -----------------------------------------------------------------------------------------


def test_state_round_trips_through_the_lake(tmp_path: Path, make_summary: Summary) -> None:
    lake = str(tmp_path / "lake")
    _, state = alerts_for_run(make_summary(run_id="r1", exit_code=1), AlertState(), THRESHOLDS, now=NOW)

    written = save_alert_state(lake, state)

    assert written == f"{lake}/_alerts/state.json"
    assert json.loads(Path(written).read_text()) == {
        "version": 1,
        "open": {
            "quickbite/orders": {
                "run_failed": {
                    "opened_run_id": "r1",
                    "opened_at": "2024-05-01T10:01:00+00:00",
                    "last_run_id": "r1",
                    "runs": 1,
                    "notified": True,
                }
            }
        },
    }
    assert load_alert_state(lake) == state


def test_missing_or_unreadable_state_starts_empty(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert load_alert_state(str(tmp_path)) == AlertState()
    (tmp_path / "_alerts").mkdir()
    (tmp_path / "_alerts" / "state.json").write_text("{not json")

    with caplog.at_level(logging.WARNING):
        assert load_alert_state(str(tmp_path)) == AlertState()
    assert "unreadable (JSONDecodeError); starting afresh" in caplog.text


# --- channels --------------------------------------------------------------------------------------


def test_webhook_url_comes_from_the_environment_mapping_first() -> None:
    env = {"FEEDGUARD_SLACK_WEBHOOK_URL": " https://hooks.example/T/B/secret \n"}

    assert slack_webhook_url(env) == "https://hooks.example/T/B/secret"
    assert slack_webhook_url({}) is None
    with pytest.raises(
        AlertConfigError, match="secret 'feedguard/slack' given without a Secrets Manager client"
    ):
        slack_webhook_url({}, secret_id="feedguard/slack")


def test_slack_notifier_hides_its_url_and_refuses_other_schemes() -> None:
    notifier = SlackWebhookNotifier("https://hooks.example/T/B/very-secret")

    assert repr(notifier) == "SlackWebhookNotifier(url='***')"
    public = {name: value for name, value in vars(notifier).items() if not name.startswith("_")}
    assert "very-secret" not in repr(notifier) + str(notifier) + repr(public)
    with pytest.raises(AlertConfigError, match=r"must be http\(s\)$"):
        SlackWebhookNotifier("file:///etc/passwd")


def test_delivery_report_finds_alerts_that_reached_nobody() -> None:
    report = DeliveryReport(
        (
            DeliveryResult("slack", "run_failed", False, attempts=4, status_code=500, error="HTTP 500"),
            DeliveryResult("sns-email", "run_failed", True, status_code=200),
            DeliveryResult(
                "slack", "metrics_unsent", False, attempts=4, error="URLError: ConnectionRefusedError"
            ),
        )
    )

    assert report.undelivered_kinds == ["metrics_unsent"]
    assert report.summary_fields()["alerts_failed"] == [
        {
            "channel": "slack",
            "kind": "run_failed",
            "delivered": False,
            "attempts": 4,
            "status_code": 500,
            "error": "HTTP 500",
        },
        {
            "channel": "slack",
            "kind": "metrics_unsent",
            "delivered": False,
            "attempts": 4,
            "status_code": None,
            "error": "URLError: ConnectionRefusedError",
        },
    ]
