"""Shared synthetic regions for the synth tests (generated once per test session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from joinedup.synth.config import SynthConfig
from joinedup.synth.generate import generate_region
from joinedup.synth.manifest import Manifest

STATS_RESIDENTS = 20_000


@pytest.fixture(scope="session")
def region(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest, SynthConfig]:
    """A 20,000-resident region with default rates, for statistics and file checks."""
    out = tmp_path_factory.mktemp("region")
    config = SynthConfig(residents=STATS_RESIDENTS, seed=11)
    manifest = generate_region(config, out)
    return out, manifest, config
