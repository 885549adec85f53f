"""``python -m feedguard.quality``: regenerate the suites, or rebuild the Data Docs site.

python -m feedguard.quality expectations generate [--contracts contracts] [--out expectations]
python -m feedguard.quality docs build --lake lake [--context-root lake/_gx] [--s3-target s3://b/p]
"""

from __future__ import annotations

import argparse
import sys

from feedguard.lake.storage import is_s3, join
from feedguard.quality.docs import build_docs
from feedguard.quality.suites import write_suites


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m feedguard.quality", description=__doc__.splitlines()[0])
    area = parser.add_subparsers(dest="area", required=True)
    expectations = area.add_parser("expectations").add_subparsers(dest="action", required=True)
    generate = expectations.add_parser("generate", help="write or refresh expectations/ from contracts/")
    generate.add_argument("--contracts", default="contracts")
    generate.add_argument("--out", default="expectations")
    docs = area.add_parser("docs").add_subparsers(dest="action", required=True)
    build = docs.add_parser("build", help="build GX Data Docs and the feedguard pages")
    build.add_argument("--lake", required=True)
    build.add_argument("--context-root", help="the GX file context (default <lake>/_gx; local folder)")
    build.add_argument("--s3-target", help="upload the built site under this s3:// prefix")
    args = parser.parse_args(argv)

    if args.area == "expectations":
        for path in write_suites(args.contracts, args.out):
            print(path)
        return 0
    if args.context_root is None and is_s3(args.lake):
        parser.error("--context-root (a local folder) is required for an s3:// lake")
    context_root = args.context_root or join(args.lake, "_gx")
    print(build_docs(args.lake, context_root=context_root, s3_target=args.s3_target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
