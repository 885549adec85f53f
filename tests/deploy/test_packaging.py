"""deploy/package.py (`make package`): the wheel, the jobs zip, loose scripts, jars and a manifest."""

from __future__ import annotations

import importlib.util
import json
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from deploy_helpers import DEPLOY, ROOT

JOBS = ("ingest_files", "ingest_kafka")
JARS = ROOT / ".cache" / "jars" / "spark"


def load_packager() -> ModuleType:
    spec = importlib.util.spec_from_file_location("feedguard_package", DEPLOY / "package.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


packager = load_packager()


def fake_project(root: Path) -> Path:
    """A project tree with two jobs, a private helper, contracts and expectations."""
    (root / "jobs").mkdir(parents=True)
    for job in JOBS:
        (root / "jobs" / f"{job}.py").write_text(f"print('{job}')\n")
    (root / "jobs" / "_helpers.py").write_text("")
    (root / "contracts" / "quickbite").mkdir(parents=True)
    (root / "contracts" / "quickbite" / "orders.v1.yaml").write_text("source: quickbite\n")
    (root / "expectations").mkdir()
    (root / "expectations" / "quickbite.orders.v1.json").write_text("{}\n")
    return root


def test_jobs_zip_holds_the_job_scripts_and_contract_trees(tmp_path: Path) -> None:
    project = fake_project(tmp_path / "project")
    target = tmp_path / "feedguard-jobs.zip"

    names = packager.build_jobs_zip(project, target)

    expected = [
        "jobs/_helpers.py",
        "jobs/ingest_files.py",
        "jobs/ingest_kafka.py",
        "contracts/quickbite/orders.v1.yaml",
        "expectations/quickbite.orders.v1.json",
    ]
    assert names == expected
    with zipfile.ZipFile(target) as archive:
        assert archive.namelist() == expected
        assert archive.read("jobs/ingest_files.py") == b"print('ingest_files')\n"


def test_jobs_zip_is_reproducible(tmp_path: Path) -> None:
    project = fake_project(tmp_path / "project")
    packager.build_jobs_zip(project, tmp_path / "a.zip")
    packager.build_jobs_zip(project, tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_a_project_without_jobs_is_refused(tmp_path: Path) -> None:
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "__init__.py").write_text("")
    with pytest.raises(packager.PackagingError, match="no job scripts"):
        packager.build_jobs_zip(tmp_path, tmp_path / "x.zip")


def test_missing_jars_name_the_setup_step(tmp_path: Path) -> None:
    (tmp_path / "jars").mkdir()
    with pytest.raises(packager.PackagingError, match="make setup"):
        packager.copy_jars(tmp_path / "jars", tmp_path / "out")


def test_wheel_of_the_real_package_contains_feedguard(tmp_path: Path) -> None:
    wheel = packager.build_wheel(ROOT, tmp_path)
    assert wheel.name.startswith("feedguard-") and wheel.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {
        "feedguard/__init__.py",
        "feedguard/runtime/session.py",
        "feedguard/runtime/log4j2.properties",
        "feedguard/ingest/flow.py",
        "feedguard/kafka/ingest.py",
        "feedguard/py.typed",
    } <= names
    # Tests, jobs and the local-development tools (broker launcher, sample generator) stay out.
    assert not any(name.startswith(("tests/", "jobs/", "feedguard_dev/")) for name in names)


def test_make_package_builds_every_artifact(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    assert packager.main(["--out", str(out)]) == 0

    wheel = next(out.glob("feedguard-*-py3-none-any.whl"))
    with zipfile.ZipFile(wheel) as archive:
        assert "feedguard/__init__.py" in archive.namelist()
    with zipfile.ZipFile(out / "feedguard-jobs.zip") as archive:
        names = set(archive.namelist())
    assert {f"jobs/{job}.py" for job in JOBS} <= names
    assert any(name.startswith("contracts/") for name in names)
    assert {p.name for p in (out / "jobs").glob("*.py")} >= {f"{job}.py" for job in JOBS}
    assert {_artifact(p.name) for p in (out / "jars").glob("*.jar")} >= {
        "feedguard-jvm",
        "delta-spark",
        "delta-storage",
        "spark-sql-kafka-0-10",
        "kafka-clients",
    }
    manifest = json.loads((out / "MANIFEST.json").read_text())["files"]
    assert wheel.name in manifest and "feedguard-jobs.zip" in manifest


def _artifact(jar_name: str) -> str:
    """``delta-spark_2.12-3.3.2.jar`` -> ``delta-spark``; ``kafka-clients-3.4.1.jar`` -> ``kafka-clients``."""
    if "_2.12-" in jar_name:
        return jar_name.split("_2.12-")[0]
    return jar_name.removesuffix(".jar").rsplit("-", 1)[0]
