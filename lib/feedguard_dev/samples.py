"""Built-in sample feeds with seeded, known faults, and the counts a run must reproduce.

``python -m feedguard_dev.samples --out samples`` writes QuickBite JSON (JSON Lines, a JSON array and a
gzip file) and MealDash CSV, plus ``expected.json`` with, per source, the records written, the
valid ones and the dead letters by error type, so tests and ``make run`` check conservation exactly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CITIES = ("Berlin", "Hamburg", "Munich", "Cologne", "Leipzig")
STATUSES = ("placed", "accepted", "preparing", "delivered", "cancelled")
PAYMENTS = ("card", "cash", "wallet", "voucher")
ORDER_STATUSES = ("completed", "cancelled", "refunded")
ID_BLOCK = 100_000  # each sample file's order ids start at a multiple of this (1, 100_001, 200_001, ...)
MEALDASH_LATE_BLOCK = 5  # the late MealDash file starts at block 5 (MD0500001) unless the main file is longer
MAX_RECORDS = 5_000_000  # keeps every id inside the contracts' patterns (QB-8 digits, MD7 digits)
MEALDASH_HEADER = (
    "order_id,menu_id,quantity,price,promotion_id,payment_method,order_status,customer_phone,order_datetime"
)


@dataclass
class Feed:
    """Lines of one sample file and the expected outcome of each record."""

    lines: list[str] = field(default_factory=list)
    expected: Counter[str] = field(default_factory=Counter)

    def add(self, line: str, outcome: str = "valid") -> None:
        self.lines.append(line)
        self.expected[outcome] += 1


def quickbite_order(rng: random.Random, n: int, day: dt.date) -> dict[str, Any]:
    items = [
        {
            "sku": f"SKU-{rng.randint(1, 500):04d}",
            "qty": rng.randint(1, 4),
            "price": round(rng.uniform(2, 25), 2),
        }
        for _ in range(rng.randint(1, 4))
    ]
    subtotal = round(sum(int(str(i["qty"])) * float(str(i["price"])) for i in items), 2)
    tip = round(rng.choice((0, 0, 1, 2, 3.5, 5)), 2)
    ts = dt.datetime.combine(day, dt.time(0, 0), dt.UTC) + dt.timedelta(seconds=rng.randint(0, 86_399))
    return {
        "order_id": f"QB-{n:08d}",
        "customer_id": f"C{rng.randint(1, 999_999):06d}",
        "customer_email": f"customer{n}@mail.example",
        "restaurant_id": f"R{rng.randint(1, 300):04d}",
        "items": items,
        "subtotal": subtotal,
        "tip": tip,
        "total": round(subtotal + tip, 2),
        "status": rng.choice(STATUSES),
        "city": rng.choice(CITIES),
        "ordered_at": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"))


def quickbite_faults(rng: random.Random, n: int, day: dt.date) -> list[tuple[str, str]]:
    """One (line, expected error type) per kind of fault a JSON feed shows."""
    base = quickbite_order(rng, n, day)
    text = _dumps(base)
    wrong_type = dict(base, total="twelve")
    missing = {k: v for k, v in base.items() if k != "order_id"}
    case = {("Order_Id" if k == "order_id" else k): v for k, v in base.items()}
    unknown = dict(base, promo_code="SPRING")
    bad_status = dict(base, status="lost")
    return [
        (text[: len(text) // 2], "malformed_json"),
        (_dumps(wrong_type), "type_mismatch"),
        (_dumps(missing), "missing_required_field"),
        (text + " trailing", "malformed_json"),
        (text + "}", "malformed_json"),
        (_dumps(case), "field_case_mismatch"),
        (_dumps(unknown), "unexpected_field"),
        ("[" + text + "," + text + "]", "not_an_object"),
        (_dumps(bad_status), "constraint_violation"),
    ]


def quickbite_lines(rng: random.Random, count: int, start: int, day: dt.date, fault_every: int) -> Feed:
    feed = Feed()
    faults = quickbite_faults(rng, start, day)
    for i in range(count):
        n = start + i
        if fault_every and i % fault_every == fault_every - 1:
            line, outcome = faults[(i // fault_every) % len(faults)]
            feed.add(line, outcome)
        else:
            feed.add(_dumps(quickbite_order(rng, n, day)))
    return feed


def mealdash_row(rng: random.Random, n: int, day: dt.date) -> list[str]:
    ts = dt.datetime.combine(day, dt.time(0, 0)) + dt.timedelta(seconds=rng.randint(0, 86_399))
    promo = rng.choice(("", "", "PROMO10", "FREESHIP"))
    menu = rng.choice(("Margherita", "Pad Thai", 'Burger "Deluxe"', "Sushi, 12 pcs", "Falafel"))
    return [
        f"MD{n:07d}",
        menu,
        str(rng.randint(1, 5)),
        f"{rng.uniform(3, 40):.2f}",
        promo,
        rng.choice(PAYMENTS),
        rng.choice(ORDER_STATUSES),
        f"+49-170-{rng.randint(0, 9_999_999):07d}",
        ts.strftime("%Y-%m-%d %H:%M:%S"),
    ]


def csv_line(cells: list[str]) -> str:
    """RFC 4180: quote cells holding a delimiter or quote, doubling inner quotes."""
    out = []
    for cell in cells:
        if any(c in cell for c in ',"\n'):
            cell = '"' + cell.replace('"', '""') + '"'
        out.append(cell)
    return ",".join(out)


def mealdash_faults(rng: random.Random, n: int, day: dt.date) -> list[tuple[str, str]]:
    row = mealdash_row(rng, n, day)
    wrong_type = [*row[:2], "two", *row[3:]]
    bad_enum = [*row[:5], "bitcoin", *row[6:]]
    no_id = ["", *row[1:]]
    return [
        (csv_line(row) + ",EXTRA", "extra_columns"),
        (csv_line(row[:-2]), "missing_columns"),
        (csv_line(wrong_type), "type_mismatch"),
        (f'{row[0]},"Unbalanced quote,{",".join(row[2:])}', "malformed_csv"),
        (csv_line(bad_enum), "constraint_violation"),
        (csv_line(no_id), "missing_required_field"),
    ]


def mealdash_lines(rng: random.Random, count: int, start: int, day: dt.date, fault_every: int) -> Feed:
    feed = Feed()
    faults = mealdash_faults(rng, start, day)
    for i in range(count):
        if fault_every and i % fault_every == fault_every - 1:
            line, outcome = faults[(i // fault_every) % len(faults)]
            feed.add(line, outcome)
        else:
            feed.add(csv_line(mealdash_row(rng, start + i, day)))
    return feed


def _summary(feeds: list[Feed]) -> dict[str, Any]:
    total: Counter[str] = Counter()
    for feed in feeds:
        total.update(feed.expected)
    valid = total.pop("valid", 0)
    return {
        "records": valid + sum(total.values()),
        "valid": valid,
        "dead_lettered": sum(total.values()),
        "dead_letters_by_type": dict(sorted(total.items())),
    }


def id_block(records: int) -> int:
    """The id range of one sample file: ``ID_BLOCK``, or ``records`` rounded up to a multiple of it.

    >>> id_block(200), id_block(100_000), id_block(250_000)
    (100000, 100000, 300000)
    """
    return max(1, -(-records // ID_BLOCK)) * ID_BLOCK


def first_order_ids(records: int) -> dict[str, int]:
    """The first order id of each sample file: the files' id ranges never overlap.

    The defaults (``records`` up to 100,000) keep the historical starts, so the default sample is
    unchanged; longer files move the later ranges up instead of running into them.
    """
    if not 1 <= records <= MAX_RECORDS:
        raise ValueError(f"records must be between 1 and {MAX_RECORDS:,}, got {records:,}")
    block = id_block(records)
    return {
        "quickbite_jsonl": 1,
        "quickbite_gzip": block + 1,
        "quickbite_array": 2 * block + 1,
        "mealdash_csv": 1,
        "mealdash_late": max(MEALDASH_LATE_BLOCK * ID_BLOCK, block) + 1,
    }


def write_samples(
    out: Path, *, seed: int = 7, records: int = 200, day: dt.date | None = None
) -> dict[str, Any]:
    """Write the sample feeds under ``out``; return (and write) the expected counts."""
    day = day or dt.date(2026, 11, 28)
    first = first_order_ids(records)
    rng = random.Random(seed)
    qb_dir, md_dir = out / "quickbite", out / "mealdash"
    qb_dir.mkdir(parents=True, exist_ok=True)
    md_dir.mkdir(parents=True, exist_ok=True)

    jsonl = quickbite_lines(rng, records, first["quickbite_jsonl"], day, fault_every=20)
    (qb_dir / f"orders_{day:%Y%m%d}_01.jsonl").write_text("\n".join(jsonl.lines) + "\n", encoding="utf-8")
    gz = quickbite_lines(rng, records // 2, first["quickbite_gzip"], day, fault_every=25)
    with gzip.open(qb_dir / f"orders_{day:%Y%m%d}_02.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write("\n".join(gz.lines) + "\n")
    array = Feed()
    for n in range(first["quickbite_array"], first["quickbite_array"] + records // 4):
        array.add(_dumps(quickbite_order(rng, n, day)))
    (qb_dir / f"orders_{day:%Y%m%d}_03.json").write_text(
        "[\n" + ",\n".join("  " + line for line in array.lines) + "\n]\n", encoding="utf-8"
    )

    csv_feed = mealdash_lines(rng, records, first["mealdash_csv"], day, fault_every=15)
    (md_dir / f"orders_{day:%Y%m%d}.csv").write_text(
        MEALDASH_HEADER + "\n" + "\n".join(csv_feed.lines) + "\n", encoding="utf-8"
    )
    crlf = mealdash_lines(rng, records // 4, first["mealdash_late"], day, fault_every=0)
    (md_dir / f"orders_{day:%Y%m%d}_late.csv").write_bytes(
        ("\ufeff" + MEALDASH_HEADER + "\r\n" + "\r\n".join(crlf.lines) + "\r\n").encode("utf-8")
    )
    expected = {
        "seed": seed,
        "quickbite/orders": _summary([jsonl, gz, array]),
        "mealdash/orders": _summary([csv_feed, crlf]),
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")
    return expected


def write_drifted_samples(out: Path, *, seed: int = 11, records: int = 40) -> dict[str, dict[str, Any]]:
    """Feeds whose producer changed the format, and one with scattered corruption.

    Returns ``{folder: {"source", "verdict", "records"}}``: one folder per case, one file each.
    """
    day = dt.date(2026, 11, 28)
    rng = random.Random(seed)
    cases: dict[str, dict[str, Any]] = {}

    def put(folder: str, name: str, text: str, source: str, verdict: str, count: int) -> None:
        (out / folder).mkdir(parents=True, exist_ok=True)
        (out / folder / name).write_text(text, encoding="utf-8")
        cases[folder] = {"source": source, "verdict": verdict, "records": count}

    v2 = []
    for n in range(1, records + 1):
        order = quickbite_order(rng, 300_000 + n, day)
        order["customer_ref"] = order.pop("customer_id")
        order["loyalty_tier"] = rng.choice(("gold", "silver", None))
        v2.append(_dumps(order))
    put("quickbite_v2", "orders_v2.jsonl", "\n".join(v2) + "\n", "quickbite", "structural_change", records)

    scattered = quickbite_lines(rng, records * 2, 400_000, day, fault_every=16)
    put("quickbite_scattered", "orders_scattered.jsonl", "\n".join(scattered.lines) + "\n", "quickbite",
        "intermittent_corruption", records * 2)  # fmt: skip

    rows = [mealdash_row(rng, 600_000 + n, day) for n in range(records)]
    header = MEALDASH_HEADER.split(",")
    added = [",".join([*header, "tip"])] + [csv_line([*r, f"{rng.uniform(0, 5):.2f}"]) for r in rows]
    put("mealdash_added_column", "orders_added.csv", "\n".join(added) + "\n", "mealdash", "structural_change",
        records)  # fmt: skip
    positions = [1, 0, *range(2, len(header))]
    reordered = [",".join(header[i] for i in positions)] + [csv_line([r[i] for i in positions]) for r in rows]
    put("mealdash_reordered", "orders_reordered.csv", "\n".join(reordered) + "\n", "mealdash",
        "structural_change", records)  # fmt: skip
    semicolon = [";".join(header)] + [";".join(c.replace(";", ",") for c in r) for r in rows]
    put("mealdash_semicolon", "orders_semicolon.csv", "\n".join(semicolon) + "\n", "mealdash",
        "structural_change", records)  # fmt: skip
    typed = [MEALDASH_HEADER] + [csv_line([*r[:2], f"{r[2]}.5", *r[3:]]) for r in rows]
    put("mealdash_type_change", "orders_type_change.csv", "\n".join(typed) + "\n", "mealdash",
        "structural_change", records)  # fmt: skip
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", default="samples", help="folder to write the sample feeds to")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--records", type=int, default=200, help=f"records per main file (1 to {MAX_RECORDS:,})"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.records <= MAX_RECORDS:
        parser.error(f"--records must be between 1 and {MAX_RECORDS:,}, got {args.records:,}")
    expected = write_samples(Path(args.out), seed=args.seed, records=args.records)
    print(json.dumps(expected, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
