"""The package's public names load on first use (PEP 562), and importing a submodule stays light."""

from __future__ import annotations

import subprocess
import sys

import feedguard


def test_every_public_name_resolves_and_only_those() -> None:
    assert sorted(feedguard.__all__) == sorted(feedguard._PUBLIC)
    for name in feedguard.__all__:
        assert getattr(feedguard, name) is not None
    assert dir(feedguard) == sorted(feedguard.__all__)


def test_a_submodule_import_does_not_pull_in_great_expectations() -> None:
    # what a Spark Python worker does to unpickle feedguard.ingest.sources.read_task
    probe = "import sys, feedguard.ingest.sources; print('great_expectations' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_quality_names_load_on_first_use() -> None:
    import feedguard.quality as quality

    assert sorted(quality.__all__) == sorted(quality._PUBLIC)
    for name in quality.__all__:
        assert getattr(quality, name) is not None


def test_the_file_job_imports_great_expectations_only_when_its_gate_runs() -> None:
    """Importing the job leaves GX out; the preload thread (started before the session) brings it in."""
    probe = (
        "import sys; sys.path.insert(0, '.'); import jobs.ingest_files\n"
        "print('great_expectations' in sys.modules)\n"
        "from feedguard.runtime.preload import GATE_MODULES, preload\n"
        "preload(GATE_MODULES).join()\n"
        "print('great_expectations' in sys.modules, 'feedguard.quality.gate' in sys.modules)\n"
    )
    root = str(__import__("pathlib").Path(__file__).resolve().parents[2])
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=root)
    assert done.stdout.split() == ["False", "True", "True"]
