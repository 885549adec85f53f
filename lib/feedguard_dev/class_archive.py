"""Write the driver's class archive (``make setup``): a training run of the file job, classes dumped at exit.

    python -m feedguard_dev.class_archive --out .cache/jars/driver-classes.jsa

Java's class data sharing: a JVM started with ``-XX:ArchiveClassesAtExit`` writes every class it loaded
(parsed and verified) to an archive when it exits; a JVM started with ``-XX:SharedArchiveFile`` maps them
instead of loading them from jars. The training run is the QuickBite sample job (JSON Lines, gzip, a JSON
array; quality gate, Delta writes, run log) in a temporary folder, run in this process so that the driver
JVM can be made to exit, and its dump waited for, before the archive is moved into place. Local sessions
use the archive when it exists (:func:`feedguard.runtime.session.local_conf`); it is never required.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from feedguard.runtime.session import CLASS_ARCHIVE_DUMP_ENV, class_archive_path

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 300


def train(out: Path) -> Path:
    """Run the sample job with the dump option, stop its driver JVM, move the archive to ``out``."""
    from pyspark import SparkContext

    from feedguard_dev.samples import write_samples

    sys.path.insert(0, str(ROOT))
    from jobs import ingest_files

    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    os.environ[CLASS_ARCHIVE_DUMP_ENV] = str(partial.resolve())
    with tempfile.TemporaryDirectory(prefix="feedguard-class-archive-") as work:
        write_samples(Path(work) / "samples")
        code = ingest_files.main(
            ["ingest_files.py", "--JOB_NAME", "class-archive", "--source", "quickbite", "--dataset", "orders",
             "--input_path", f"{work}/samples/quickbite", "--lake_path", f"{work}/lake",
             "--contracts_dir", str(ROOT / "contracts"), "--expectations_dir", str(ROOT / "expectations")]
        )  # fmt: skip
        if code != 0:
            raise SystemExit(f"the training run failed (exit {code}): no class archive written")
        gateway = SparkContext._gateway
        SparkContext.getOrCreate().stop()
        assert gateway is not None
        process = gateway.proc  # the driver JVM: it exits when its standard input closes
        gateway.shutdown()
        process.stdin.close()
        process.wait(timeout=WAIT_SECONDS)
    if not partial.is_file():
        raise SystemExit(f"the driver JVM wrote no class archive at {partial}")
    partial.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", default=str(class_archive_path()))
    args = parser.parse_args(argv)
    out = train(Path(args.out))
    print(f"class archive: {out} ({out.stat().st_size // (1 << 20)} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
