"""A small synthetic region run through every stage (synth → ingest → governance → linkage →
insight), shared by the insight, API and browser tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from joinedup.catalog.db import dispose_engines
from joinedup.config import Settings, load_settings
from joinedup.demo import DemoOptions, DemoResult, run_demo, source_dir

# eight months: the window holds a termly census before the demo's intervention (five months
# in) and one after it for most of the year; the impact test says so when it does not
OPTIONS = DemoOptions(residents=4000, months=8, seed=11)


@dataclass
class DemoHome:
    settings: Settings
    result: DemoResult
    logins: dict[str, str]

    @property
    def insight(self) -> dict[str, object]:
        return self.stage("Run the indicator rules")

    def stage(self, name: str) -> dict[str, object]:
        """The result of the demo stage called ``name`` (later issues append stages)."""
        stage = next(s for s in self.result.stages if s["stage"] == name)
        return stage["result"]  # type: ignore[no-any-return]

    @property
    def truth(self) -> Path:
        return source_dir(self.settings) / "truth"

    def copy_to(self, home: Path) -> DemoHome:
        """A private copy of both planes, for tests that change the region (objections,
        revocations, disputes, re-runs); the generated source files are linked, not copied."""
        from tests.linkage.region import copy_home

        settings = replace(copy_home(self.settings, home), secret_key=self.settings.secret_key)
        source_dir(settings).symlink_to(source_dir(self.settings), target_is_directory=True)
        dispose_engines()
        return DemoHome(settings, self.result, self.logins)


def build_demo_home(home: Path, secret_key: str | None = None) -> DemoHome:
    settings = replace(load_settings({"JOINEDUP_HOME": str(home)}), database_url="")
    if secret_key:
        settings = replace(settings, secret_key=secret_key)
    result = run_demo(settings, OPTIONS)
    dispose_engines()
    assert result.ok, [s for s in result.stages if s["status"] != "succeeded"]
    logins = {
        entry["username"]: entry["password"]
        for entry in json.loads((home / "demo-logins.json").read_text())
    }
    return DemoHome(settings, result, logins)
