"""The ``feedguard`` command: run summary, sample feeds, contracts, replay, docs, expectations.

``make run`` calls ``feedguard samples``, the ingest job for each sample feed, then
``feedguard summary`` to print what landed where.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from feedguard.errors import FeedguardError
from feedguard.summary import RunSummary, summary_from_json


def load_summaries(lake: Path) -> list[RunSummary]:
    """Every run summary JSON in the lake, oldest first."""
    found = [summary_from_json(p.read_text()) for p in (lake / "_runs").glob("*.json")]
    return sorted(found, key=lambda d: d["ended_at"])


def _summary(args: argparse.Namespace) -> int:
    """Print the latest run of each feed; with --expected, check the counts match the samples."""
    lake = Path(args.lake)
    latest: dict[str, RunSummary] = {}
    for summary in load_summaries(lake):
        latest[f"{summary['source']}/{summary['dataset']}"] = summary
    expected = json.loads(Path(args.expected).read_text()) if args.expected else {}
    print(f"{'feed':<22} {'status':<28} {'read':>6} {'valid':>6} {'dead':>6}  {'run id'}")
    mismatches = []
    for key, s in sorted(latest.items()):
        print(
            f"{key:<22} {s['status']:<28} {s['records_read']:>6} {s['records_valid']:>6} "
            f"{s['records_dead_lettered']:>6}  {s['run_id']}"
        )
        want = expected.get(key)
        got = (s["records_read"], s["records_valid"], s["records_dead_lettered"])
        if want and got != (want["records"], want["valid"], want["dead_lettered"]):
            mismatches.append(f"{key}: got read/valid/dead {got}, expected {want}")
    root = lake.resolve()
    print(f"\nlake:         {root}")
    print(f"dead letters: {root / '_dead_letter'} (Delta)")
    print(f"error zone:   {root / '_error_zone'}")
    print(f"run log:      {root / '_runs'} (Delta + one JSON per run)")
    docs = root / "_docs" / "feedguard" / "index.html"
    if docs.exists():
        print(f"data docs:    {docs}")
    if expected:
        print(
            "\n"
            + ("\n".join(mismatches) if mismatches else "every sample record is accounted for: counts match")
        )
    return 1 if mismatches or not latest else 0


def _samples(args: argparse.Namespace) -> int:
    try:
        from feedguard_dev.samples import write_samples
    except ImportError:
        print("feedguard: error: `feedguard samples` is a development tool: run it from a checkout "
              "(make run), where lib/feedguard_dev is on the path", file=sys.stderr)  # fmt: skip
        return 2

    print(json.dumps(write_samples(Path(args.out), seed=args.seed, records=args.records), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feedguard", description="Loss-free, contract-driven feed ingest.")
    sub = parser.add_subparsers(dest="command", required=True)

    summary = sub.add_parser("summary", help="print the latest run of each feed in a lake")
    summary.add_argument("--lake", default="lake")
    summary.add_argument("--expected", help="expected.json written with the samples: check the counts")
    summary.set_defaults(func=_summary)

    samples = sub.add_parser("samples", help="write the sample feeds with seeded faults")
    samples.add_argument("--out", default="samples")
    samples.add_argument("--seed", type=int, default=7)
    samples.add_argument("--records", type=int, default=200)
    samples.set_defaults(func=_samples)

    from feedguard.cli_commands import register

    register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except FeedguardError as exc:
        print(f"feedguard: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
