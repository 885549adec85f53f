"""Build the deployable artifacts of feedguard into one folder (``make package`` -> ``dist/``).

``dist/`` mirrors the S3 artifacts prefix the Glue job definitions point at (``${FEEDGUARD_ARTIFACTS}``), so
deploying is ``aws s3 sync dist/ s3://<artifacts bucket>/feedguard/<version>/``:

- ``feedguard-<v>-py3-none-any.whl``: the library. Glue ``--additional-python-modules`` (pip installs it), or
  ``--extra-py-files`` / ``spark-submit --py-files`` (pure Python, importable as a zip).
- ``feedguard-jobs.zip``: ``jobs/*.py``, ``contracts/**`` and ``expectations/**`` in one file (the Batch image
  unpacks it; ``spark-submit --py-files`` accepts it).
- ``jobs/*.py``: the job scripts one by one (Glue ``Command.ScriptLocation``).
- ``contracts/**``, ``expectations/**``: the trees unpacked (``--contracts_dir``, ``--expectations_dir``)
- ``jars/*.jar``: the JSON flag's JVM jar (``jvm/``), the Delta and Kafka-source jars from the ``make setup`` cache (Glue ``--extra-jars``,
  ``spark-submit --jars``, the Batch image).
- ``MANIFEST.json``: every file above with its size and SHA-256.

Example::

    python deploy/package.py --out dist
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
JOBS_ZIP = "feedguard-jobs.zip"
TREES = ("contracts", "expectations")
# The jars the jobs need at run time (the same prefixes as feedguard.runtime.session); Spark itself is in pyspark.
JAR_PREFIXES = (
    "feedguard-jvm-",
    "delta-spark_2.12-",
    "delta-storage-",
    "spark-sql-kafka-0-10_2.12-",
    "spark-token-provider-kafka-0-10_2.12-",
    "kafka-clients-",
    "commons-pool2-",
)
# A fixed timestamp keeps the zip byte-for-byte reproducible.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


class PackagingError(RuntimeError):
    """The artifacts cannot be built (missing input or a failed wheel build)."""


def build_wheel(project_root: Path, out_dir: Path) -> Path:
    """Build the feedguard wheel (no dependencies, no network: the build backend comes from the venv)."""
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp,
             str(project_root)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise PackagingError(f"wheel build failed:\n{result.stdout}\n{result.stderr}")
        wheels = list(Path(tmp).glob("feedguard-*.whl"))
        if len(wheels) != 1:
            raise PackagingError(f"expected one feedguard wheel, got {wheels}")
        target = out_dir / wheels[0].name
        shutil.move(str(wheels[0]), target)
        return target


def job_scripts(project_root: Path) -> list[Path]:
    """Every module of ``jobs/`` (the job scripts, ``__init__.py`` and private helpers they may import)."""
    return sorted((project_root / "jobs").glob("*.py"))


def tree_files(project_root: Path) -> list[Path]:
    """Every file of the contracts and expectations trees that exist, relative to the project root."""
    files: list[Path] = []
    for tree in TREES:
        folder = project_root / tree
        if folder.is_dir():
            files += [
                p.relative_to(project_root)
                for p in sorted(folder.rglob("*"))
                if p.is_file() and "__pycache__" not in p.parts
            ]
    return files


def build_jobs_zip(project_root: Path, target: Path) -> list[str]:
    """Write ``jobs/*.py`` and the contract and expectation trees into one reproducible zip; return names."""
    scripts = job_scripts(project_root)
    if not any(not p.name.startswith("_") for p in scripts):
        raise PackagingError(f"no job scripts under {project_root / 'jobs'}")
    entries = [p.relative_to(project_root) for p in scripts] + tree_files(project_root)
    names = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for rel in entries:
            info = zipfile.ZipInfo(rel.as_posix(), date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, (project_root / rel).read_bytes())
            names.append(rel.as_posix())
    return names


def copy_loose(project_root: Path, out_dir: Path) -> None:
    """Copy the job scripts and the contract/expectation trees unpacked (Glue reads them one by one)."""
    (out_dir / "jobs").mkdir(parents=True, exist_ok=True)
    for script in job_scripts(project_root):
        shutil.copy2(script, out_dir / "jobs" / script.name)
    for rel in tree_files(project_root):
        (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(project_root / rel, out_dir / rel)


def copy_jars(jar_dir: Path, out_dir: Path) -> list[Path]:
    """Copy the runtime jars from the ``make setup`` cache."""
    jars = sorted(p for p in jar_dir.glob("*.jar") if p.name.startswith(JAR_PREFIXES))
    missing = [prefix for prefix in JAR_PREFIXES if not any(j.name.startswith(prefix) for j in jars)]
    if missing:
        raise PackagingError(f"jars missing from {jar_dir} (run `make setup`): {', '.join(missing)}")
    (out_dir / "jars").mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy2(jar, out_dir / "jars" / jar.name)) for jar in jars]


def write_manifest(out_dir: Path) -> Path:
    """List every artifact with its size and SHA-256 (what was deployed, checkable after the upload)."""
    files = {
        p.relative_to(out_dir).as_posix(): {
            "bytes": p.stat().st_size,
            "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
        }
        for p in sorted(out_dir.rglob("*"))
        if p.is_file() and p.name != "MANIFEST.json"
    }
    manifest = out_dir / "MANIFEST.json"
    manifest.write_text(json.dumps({"files": files}, indent=2) + "\n")
    return manifest


def clean(out_dir: Path) -> None:
    """Remove what an earlier run of this script wrote (and nothing else)."""
    for old in out_dir.glob("feedguard-*.whl"):
        old.unlink()
    for name in (JOBS_ZIP, "MANIFEST.json"):
        (out_dir / name).unlink(missing_ok=True)
    for name in ("jobs", "jars", *TREES):
        shutil.rmtree(out_dir / name, ignore_errors=True)


def package(out_dir: Path, project_root: Path = PROJECT_ROOT, jar_dir: Path | None = None) -> dict[str, Path]:
    """Build every artifact into ``out_dir``; return the main ones by kind."""
    out_dir.mkdir(parents=True, exist_ok=True)
    clean(out_dir)
    wheel = build_wheel(project_root, out_dir)
    jobs_zip = out_dir / JOBS_ZIP
    build_jobs_zip(project_root, jobs_zip)
    copy_loose(project_root, out_dir)
    copy_jars(jar_dir or project_root / ".cache" / "jars" / "spark", out_dir)
    return {"wheel": wheel, "jobs_zip": jobs_zip, "manifest": write_manifest(out_dir)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "dist", help="output folder (dist)")
    parser.add_argument("--project-root", type=Path, default=PROJECT_ROOT)
    parser.add_argument("--jars-dir", type=Path, default=None, help="jar cache (.cache/jars/spark)")
    args = parser.parse_args(argv)
    try:
        built = package(args.out.resolve(), args.project_root.resolve(), args.jars_dir)
    except PackagingError as exc:
        print(f"package: {exc}", file=sys.stderr)
        return 2
    for kind, path in built.items():
        print(f"{kind:9} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
