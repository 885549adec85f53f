"""The feed lease on a local disk (no Spark): one holder, expiry and takeover, loss detected, races."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from feedguard.errors import LeaseHeldError, LeaseLostError
from feedguard.lake.lease import acquire_lease
from feedguard.lake.lease_store import LeaseRecord, LocalLeaseStore


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_second_run_is_refused_with_the_holder_named(tmp_path: Path) -> None:
    store, clock = LocalLeaseStore(str(tmp_path / "feed.json")), Clock()
    first = acquire_lease(store, "run-1", feed="quickbite/orders", ttl_seconds=60, clock=clock)
    with pytest.raises(
        LeaseHeldError, match=r"quickbite/orders is being ingested by run run-1 .*expires in 60 s"
    ):
        acquire_lease(store, "run-2", feed="quickbite/orders", ttl_seconds=60, clock=clock)
    first.release()
    second = acquire_lease(store, "run-2", feed="quickbite/orders", ttl_seconds=60, clock=clock)
    assert second.record.run_id == "run-2"


def test_a_waiting_run_gets_the_lease_when_the_holder_lets_go(tmp_path: Path) -> None:
    store, clock = LocalLeaseStore(str(tmp_path / "feed.json")), Clock()
    holder = acquire_lease(store, "run-1", feed="f", ttl_seconds=600, clock=clock)

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now > 1010:
            holder.release()

    waiter = acquire_lease(store, "run-2", feed="f", wait_seconds=30, clock=clock, sleep=sleep)
    assert waiter.record.run_id == "run-2"
    with pytest.raises(LeaseHeldError):
        acquire_lease(store, "run-3", feed="f", wait_seconds=5, clock=clock, sleep=clock.sleep)


def test_an_expired_lease_is_taken_over_and_its_old_holder_stops(tmp_path: Path) -> None:
    store, clock = LocalLeaseStore(str(tmp_path / "feed.json")), Clock()
    stalled = acquire_lease(store, "stalled", feed="f", ttl_seconds=60, clock=clock)
    clock.now += 61
    fresh = acquire_lease(store, "fresh", feed="f", ttl_seconds=60, clock=clock)
    assert store.read() is not None and store.read()[0].run_id == "fresh"  # type: ignore[index]
    with pytest.raises(LeaseLostError, match="taken over"):
        stalled.check()
    stalled.release()  # must not remove the new holder's lease
    fresh.check()
    assert store.read()[0].run_id == "fresh"  # type: ignore[index]


def test_a_renewed_lease_does_not_expire(tmp_path: Path) -> None:
    store, clock = LocalLeaseStore(str(tmp_path / "feed.json")), Clock()
    lease = acquire_lease(store, "run-1", feed="f", ttl_seconds=60, clock=clock)
    for _ in range(5):
        clock.now += 50
        lease.renew()
    with pytest.raises(LeaseHeldError):
        acquire_lease(store, "run-2", feed="f", ttl_seconds=60, clock=clock)
    lease.check()


def test_a_half_written_lease_counts_as_expired(tmp_path: Path) -> None:
    path = tmp_path / "feed.json"
    path.write_text('{"run_id": "crashed", "tok')
    lease = acquire_lease(LocalLeaseStore(str(path)), "run-2", feed="f", clock=Clock())
    assert lease.record.run_id == "run-2"


@pytest.mark.parametrize("expired", [False, True])
def test_of_many_runs_racing_for_the_lease_exactly_one_wins(tmp_path: Path, expired: bool) -> None:
    store = LocalLeaseStore(str(tmp_path / "feed.json"))
    if expired:
        store.create(LeaseRecord("dead", "tok-dead", "h", 1, 0.0, 0.0, 1.0))
    winners: list[str] = []
    barrier = threading.Barrier(8)

    def race(name: str) -> None:
        barrier.wait()
        try:
            acquire_lease(LocalLeaseStore(str(tmp_path / "feed.json")), name, feed="f")
            winners.append(name)
        except LeaseHeldError:
            pass

    threads = [threading.Thread(target=race, args=(f"run-{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    assert store.read()[0].run_id == winners[0]  # type: ignore[index]
