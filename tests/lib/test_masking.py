"""Masking runs in linear time on any input, and no phone, e-mail address or secret reaches an alert."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from feedguard.alerts import AlertState, AlertThresholds, alerts_for_run, format_alert, mask_text
from feedguard.alerts.message import DeadLetterSample
from feedguard.summary import RunSummary

Summary = Callable[..., RunSummary]
MB = 1024 * 1024
THRESHOLDS = AlertThresholds(warning_ratio=0.05, owner="orders-team@quickbite.example")


def timed(fn: Callable[[], str]) -> tuple[str, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


# Each shape made the old patterns scan to the end of the run from every position (100 KB of letters
# took 14 s, so 2 MB would take well over an hour); linear masking takes about a second on a busy machine.
LONG_RUNS = {
    "letters": "a" * (2 * MB),
    "letters_and_digits": "abc123XYZ" * (2 * MB // 9),
    "dotted": "ab1." * (2 * MB // 4),
    "hyphenated": "a-" * (MB),
    "secret_word_repeated": "password" * (2 * MB // 8),
    "key_then_spaces": "password=" + " " * (2 * MB),
    "json_string": '{"note": "' + "x1" * MB + '"}',
    "json_escapes": '{"customer_email": "' + '\\"' * MB + '"}',
    "json_nesting": '{"customer_email": ' + "[" * MB + "]" * MB + "}",
    "digit_groups": "1 " * MB,
    "unterminated_quote": "token='" + "y" * (2 * MB),
}


@pytest.mark.parametrize("shape", sorted(LONG_RUNS))
def test_mask_text_is_linear_on_long_runs(shape: str) -> None:
    text = LONG_RUNS[shape]

    _, seconds = timed(lambda: mask_text(text, ["customer_email", "phone"]))

    assert seconds < 10, f"{shape}: {seconds:.1f}s for {len(text):,} characters"


def test_mask_text_masks_a_50_mb_string_within_a_minute() -> None:
    run = "abc123XYZ" * (50 * MB // 9)
    text = run + ' {"phone": "0207 946 0958", "note": "ann@example.com"}'

    out, seconds = timed(lambda: mask_text(text, ["phone"]))

    assert seconds < 60, f"{seconds:.1f}s"
    assert out == run + ' {"phone": "***", "note": "***"}'


def test_an_alert_with_50_mb_records_is_rendered_within_two_seconds(make_summary: Summary) -> None:
    summary = make_summary(records_dead_lettered=20, records_valid=180)
    huge = "ann@example.com " + "abc123XYZ" * (50 * MB // 9)
    samples: list[DeadLetterSample] = [
        {"error_type": "malformed_json", "error_detail": huge, "source_file": "in/a.json", "source_line": 1,
         "raw_text": '{"customer_email": "' + huge + '"}'},
        {"error_type": "malformed_json", "error_detail": "x", "source_file": "in/a.json", "source_line": 2,
         "raw_text": huge},
    ]  # fmt: skip
    alerts, _ = alerts_for_run(summary, AlertState(), THRESHOLDS)

    text, seconds = timed(lambda: format_alert(alerts[0], summary, samples=samples, pii_fields=["x"]).text)

    assert seconds < 2, f"{seconds:.1f}s"
    assert "ann@example.com" not in text and len(text) < 5_000


@pytest.mark.parametrize(
    "phone",
    [
        "+44 20 7946 0958",
        "+1 (415) 555-2671",
        "(415) 555-2671",
        "415-555-2671",
        "415.555.2671",
        "+4917612345678",
        "+49-170-1234567",
        "0176 12345678",
        "+44 (0)20 7946 0958",
    ],
)
def test_phone_numbers_are_masked_in_any_text(phone: str) -> None:
    text = f'note: "call {phone} after 5", tel={phone};'

    assert mask_text(text, []) == 'note: "call *** after 5", tel=***;'


@pytest.mark.parametrize(
    "text",
    [
        "ordered_at 2026-11-01 10:00:00 is in the future",
        "date 01.11.2026 and 2026-11-01T10:00:00Z",
        "order ORD-2026-000123 total 1234567.89",
        "read 1234567 records, run 20261129T131500Z-1a2b3c",
        "quantity 12 of 50, price 9.50, version 1.2.3",
        "uuid 123e4567-e89b-12d3-a456-426614174000",
        "file in/orders-2026-11-01.csv line 12345",
    ],
)
def test_numbers_that_are_not_phone_numbers_stay(text: str) -> None:
    assert mask_text(text, []) == text


def test_emails_and_phones_in_non_pii_csv_columns_are_masked() -> None:
    columns = ["order_id", "menu_id", "note", "contact"]

    out = mask_text("MD1,Falafel,ann.lee@mail.example.com,+49-170-1234567", [], csv_columns=columns)

    assert out == "MD1,Falafel,***,***"


CANARIES = {
    "slack_webhook": "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "aws_access_key": "AKIAIOSFODNN7EXAMPLE",
    "aws_secret_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "bearer": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    "url_password": "s3cr3t-canary",
}


def test_no_secret_canary_reaches_an_alert(make_summary: Summary) -> None:
    leak = (
        f"post {CANARIES['slack_webhook']} key {CANARIES['aws_access_key']} "
        f"secret {CANARIES['aws_secret_key']} auth {CANARIES['bearer']} "
        f"db https://admin:{CANARIES['url_password']}@db.internal/x"
    )
    summary = make_summary(
        run_id="r9",
        status="failed",
        exit_code=1,
        message=f"boom: {leak}",
        docs_path=f"https://admin:{CANARIES['url_password']}@docs.internal/index.html",
    )
    samples: list[DeadLetterSample] = [
        {"error_type": "malformed_json", "error_detail": leak, "source_file": "in/a.json", "source_line": 1,
         "raw_text": leak},
    ]  # fmt: skip
    alerts, _ = alerts_for_run(summary, AlertState(), THRESHOLDS)
    assert [a.kind for a in alerts] == ["run_failed"]

    message = format_alert(alerts[0], summary, samples=samples)

    for name, canary in CANARIES.items():
        assert canary not in message.text and canary not in message.subject, name
    assert "T00000000" not in message.text and "EXAMPLEKEY" not in message.text


def test_the_contract_owner_address_stays_in_the_alert(make_summary: Summary) -> None:
    summary = make_summary(exit_code=4, status="structural_change")
    alerts, _ = alerts_for_run(summary, AlertState(), THRESHOLDS)

    text = format_alert(alerts[0], summary).text

    assert "Contract owner: orders-team@quickbite.example (action needed)" in text
