"""KRaft cluster ids for the test and script brokers."""

from __future__ import annotations

import base64

from feedguard_dev.kafka_broker import new_cluster_id


def test_cluster_ids_are_16_byte_uuids_never_starting_with_a_dash() -> None:
    # 1 random id in 64 starts with "-", which `kafka-storage format -t <id>` reads as an option
    # (CI failed that way once). 3,000 draws would hit one with probability 1 - (63/64)**3000.
    ids = [new_cluster_id() for _ in range(3000)]
    assert [i for i in ids if i.startswith("-")] == []
    assert {len(i) for i in ids} == {22}
    assert {len(base64.urlsafe_b64decode(i + "==")) for i in ids} == {16}
    assert len(set(ids)) == 3000
