"""The sample feeds: the default sample never changes, and order ids never repeat across files."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest

from feedguard_dev.samples import MAX_RECORDS, first_order_ids, write_samples

# sha256 of each file's (decompressed) text for the default sample (seed 7, 200 records): make run and
# the expected counts depend on it, so any change to the generator that alters it must be deliberate.
DEFAULT_SAMPLE_SHA256 = {
    "mealdash/orders_20261128.csv": "4c21799cf0b11c89a98e4b35017f933770981910a7a7f9874a528576c490188c",
    "mealdash/orders_20261128_late.csv": "b3eaae0eaf8e57f4d1b91bc92bf1e67f345014f67c9c547e1b3cb97d4a2efe27",
    "quickbite/orders_20261128_01.jsonl": "0d0f932cabf12bf06bcf24b5c1e4755eea06303cfcb8e663314d058328d3c655",
    "quickbite/orders_20261128_02.jsonl.gz": (
        "b022577c5f27160afc93633ce394512c08e195c96c8c10edf893a2dddc385db1"
    ),
    "quickbite/orders_20261128_03.json": "faf18be5bb0da4370dfd6714c1bfa884e806d9ed52f60adf00e695ad697970d9",
}


def text_of(path: Path) -> bytes:
    return gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()


def quickbite_ids(path: Path) -> set[str]:
    """Order ids of the file's records that are JSON objects (fault lines reuse the file's first id)."""
    ids = set()
    for line in text_of(path).decode().splitlines():
        try:
            record = json.loads(line.strip().rstrip(","))
        except ValueError:
            continue
        if isinstance(record, dict) and "order_id" in record:
            ids.add(record["order_id"])
    return ids


def mealdash_ids(path: Path) -> set[str]:
    """First cells of the data rows (ids are never quoted), without the empty one of a fault row."""
    lines = text_of(path).decode("utf-8-sig").splitlines()[1:]
    return {line.split(",", 1)[0] for line in lines} - {""}


def test_the_default_sample_is_unchanged(tmp_path: Path) -> None:
    expected = write_samples(tmp_path)

    digests = {
        str(p.relative_to(tmp_path)): hashlib.sha256(text_of(p)).hexdigest()
        for p in sorted(tmp_path.rglob("orders_*"))
    }
    assert digests == DEFAULT_SAMPLE_SHA256
    assert (expected["quickbite/orders"]["valid"], expected["mealdash/orders"]["valid"]) == (336, 237)


def test_order_ids_stay_unique_across_files_above_100000_records(tmp_path: Path) -> None:
    expected = write_samples(tmp_path, records=250_000)

    qb = [quickbite_ids(p) for p in sorted((tmp_path / "quickbite").iterdir())]
    md = [mealdash_ids(p) for p in sorted((tmp_path / "mealdash").iterdir())]
    # Every valid record has its own id, so the distinct ids of all files = the valid records.
    assert len(set().union(*qb)) == sum(map(len, qb)) == expected["quickbite/orders"]["valid"]
    assert len(set().union(*md)) == sum(map(len, md)) == expected["mealdash/orders"]["valid"]
    assert max(max(ids) for ids in qb) == "QB-00662500" and max(max(ids) for ids in md) == "MD0562500"


def test_first_ids_keep_the_historical_starts_up_to_100000_records() -> None:
    starts = (1, 100_001, 200_001, 1, 500_001)
    assert tuple(first_order_ids(200).values()) == tuple(first_order_ids(100_000).values()) == starts
    assert tuple(first_order_ids(100_001).values()) == (1, 200_001, 400_001, 1, 500_001)


@pytest.mark.parametrize("records", [0, MAX_RECORDS + 1])
def test_record_counts_outside_the_id_patterns_are_refused(records: int) -> None:
    with pytest.raises(ValueError, match=f"records must be between 1 and 5,000,000, got {records:,}"):
        first_order_ids(records)
