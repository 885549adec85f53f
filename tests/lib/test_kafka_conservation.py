"""Conservation of a Kafka batch: offsets in the range = messages read = rows written."""

from __future__ import annotations

import pytest

from feedguard.errors import ConservationError
from feedguard.ingest.routing import RunContext
from feedguard.kafka.conservation import prove_conservation
from feedguard.kafka.offsets import plan_batch
from feedguard.kafka.report import BatchResult
from feedguard.kafka.state import Batch
from feedguard.lake.layout import Lake

CTX = RunContext("foodnow", "order_events", 1, "run-1", "2025-06-01T12:00:00Z")
BATCH = Batch(3, plan_batch("orders", {0: 10, 1: 0}, earliest={0: 0, 1: 0}, latest={0: 16, 1: 4}))
MEASURED = {
    (0, None): 5,
    (0, "malformed_json"): 1,
    (1, None): 2,
    (1, "type_mismatch"): 1,
    (1, "malformed_json"): 1,
}


def prove(measured: dict[tuple[int, str | None], int], valid: int, dead: int) -> BatchResult:
    written: dict[str, int | None] = {"valid": valid, "dead_letter": dead}
    return prove_conservation(None, Lake("unused"), CTX, BATCH, measured, written)  # type: ignore[arg-type]


def test_a_batch_that_adds_up_reports_its_dead_letters_by_type_and_partition() -> None:
    assert prove(MEASURED, 7, 3) == BatchResult(7, 3, {"malformed_json": 2, "type_mismatch": 1}, {0: 1, 1: 2})


@pytest.mark.parametrize(
    ("measured", "valid", "dead"),
    [
        ({**MEASURED, (1, None): 1}, 6, 3),  # a message of the range was never read
        (MEASURED, 6, 3),  # a valid row did not land
        (MEASURED, 7, 4),  # one dead letter too many
    ],
    ids=["read-short", "valid-short", "dead-extra"],
)
def test_any_difference_fails_the_run_and_leaves_the_batch_planned(
    measured: dict[tuple[int, str | None], int], valid: int, dead: int
) -> None:
    with pytest.raises(ConservationError, match=r"batch 3 of orders .* the next run re-executes it"):
        prove(measured, valid, dead)
