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
