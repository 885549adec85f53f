"""Sub-commands for contracts, replay, docs and expectations (registered by :mod:`feedguard.cli`)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Add the contract, replay, docs and expectations sub-commands."""
    _ = argparse  # sub-commands are added as their modules land
