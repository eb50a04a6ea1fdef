"""Synthetic regions for tests: one factory keyed by its options, each region built once,
cached on disk and copied into each test module's own home.

A region is the demo's stages (synth → ingest → governance → linkage → insight → publish →
rights) run into a home. Building one costs minutes; copying one costs well under a second.
So each :class:`RegionSpec` is built at most once per machine and source tree:

* the build lands in ``<cache>/<key>/`` where ``<key>`` hashes the spec, today's date (the
  demo's timeline ends with the last complete month) and every source file the build runs
  (``src/joinedup`` without the web app, and ``requirements.lock``), so an edit to the
  generator or a pipeline stage rebuilds it and a second ``make test`` reuses it;
* a lock file serialises builders, so two pytest-xdist workers asking for the same region
  build it once (the second waits, then copies);
* tests never touch the cached home: :func:`copy_region` gives each caller a private copy of
  both planes (SQLite and Parquet; these homes never use PostgreSQL), with the generated
  source files linked, not copied.

``JOINEDUP_TEST_CACHE`` moves the cache (default ``.pytest_cache/joinedup-regions`` in the
checkout; ``make clean`` removes it).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from joinedup.catalog.db import dispose_engines
from joinedup.config import Settings
from joinedup.demo import DemoOptions, DemoResult, run_demo, source_dir
from joinedup.stages import DemoStep
from tests.support import make_settings

ROOT = Path(__file__).resolve().parent.parent
#: What a region's build runs: the package (less the web app and the command line, which no
#: build uses), the pinned libraries, and this file. Generated ``__pycache__`` is left out.
SOURCES = (ROOT / "src" / "joinedup", ROOT / "requirements.lock", Path(__file__).resolve())
EXCLUDED = (ROOT / "src" / "joinedup" / "web",)
#: Command line modules: no build runs them.
EXCLUDED_NAMES = ("cli.py", "cli_areas.py", "clikit.py")


@dataclass(frozen=True)
class RegionSpec:
    """What to build: the demo's options, whether the linkage build is evaluated against
    the truth (its figures are in the stage's result) or acts for the hub without it, and
    the job kind of the last demo stage to run (``None``: every stage)."""

    options: DemoOptions
    evaluate: bool = True
    last: str | None = None

    @property
    def name(self) -> str:
        o = self.options
        linked = "" if self.evaluate else "-linked"
        until = f"-to-{self.last.replace('.', '-')}" if self.last else ""
        return f"r{o.residents}-m{o.months}-s{o.seed}{linked}{until}"


@dataclass
class Region:
    """A private copy of a built region: its settings, the demo's stage results and the
    demo accounts' passwords."""

    settings: Settings
    result: DemoResult
    logins: dict[str, str]

    @property
    def insight(self) -> dict[str, object]:
        return self.stage("Run the indicator rules")

    def stage(self, name: str) -> dict[str, object]:
        """The result of the demo stage called ``name``."""
        stage = next(s for s in self.result.stages if s["stage"] == name)
        return stage["result"]

    @property
    def truth(self) -> Path:
        return source_dir(self.settings) / "truth"

    def copy_to(self, home: Path, secret_key: str | None = None) -> Region:
        """Another private copy of both planes (the source files are linked)."""
        return _copy(self.settings.home, home, self.result, self.logins, secret_key)


def cache_dir() -> Path:
    configured = os.environ.get("JOINEDUP_TEST_CACHE")
    return Path(configured) if configured else ROOT / ".pytest_cache" / "joinedup-regions"


def _files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    for found in sorted(path.rglob("*")):
        if (
            found.is_file()
            and "__pycache__" not in found.parts
            and found.name not in EXCLUDED_NAMES
            and not any(found.is_relative_to(excluded) for excluded in EXCLUDED)
        ):
            yield found


@functools.cache
def sources_digest() -> str:
    """A hash of every source file a region's build runs (once per process)."""
    digest = hashlib.sha256()
    for root in SOURCES:
        for path in _files(root):
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def key(spec: RegionSpec, today: date | None = None) -> str:
    day = (today or date.today()).isoformat()
    spec_hash = hashlib.sha256(json.dumps(asdict(spec), sort_keys=True).encode()).hexdigest()
    return f"{sources_digest()}-{day}-{spec.name}-{spec_hash[:8]}"


def _build(spec: RegionSpec, home: Path) -> tuple[DemoResult, dict[str, str]]:
    """The demo's stages into ``home``; without ``evaluate`` the linkage build acts for the
    hub and is not scored against the truth."""
    from joinedup.linkage.inputs import hub_organisation

    def params(stage: DemoStep, settings: Settings, options: DemoOptions) -> dict[str, Any]:
        if stage.kind == "linkage.build" and not spec.evaluate:
            return {"organisation": hub_organisation(settings)}
        return stage.params(settings, options)

    result = run_demo(make_settings(home), spec.options, params_for=params, last=spec.last)
    dispose_engines()
    assert result.ok, [s for s in result.stages if s["status"] != "succeeded"]
    logins_file = home / "demo-logins.json"
    logins = {entry["username"]: entry["password"] for entry in json.loads(logins_file.read_text())}
    return result, logins


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def built(spec: RegionSpec) -> Path:
    """The cached build of ``spec`` (built now if need be); never change it."""
    cache = cache_dir()
    entry = cache / key(spec)
    with locked(cache / f"{spec.name}.lock"):
        if not (entry / "region.json").is_file():
            # a build of older sources, or another day, is never used again
            own = re.compile(rf"[0-9a-f]+-[0-9-]+-{re.escape(spec.name)}-[0-9a-f]+(\.partial)?")
            for stale in cache.iterdir():
                if stale.is_dir() and own.fullmatch(stale.name):
                    shutil.rmtree(stale, ignore_errors=True)
            partial = cache / f"{entry.name}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            result, logins = _build(spec, partial / "home")
            meta = {"stages": result.stages, "logins": logins}
            (partial / "region.json").write_text(json.dumps(meta))
            partial.rename(entry)
    return entry


def _copy(
    built_home: Path,
    home: Path,
    result: DemoResult,
    logins: dict[str, str],
    secret_key: str | None,
) -> Region:
    dispose_engines()
    shutil.copytree(built_home, home, ignore=shutil.ignore_patterns("demo-region"), symlinks=True)
    source = source_dir(make_settings(built_home))
    source_dir(make_settings(home)).symlink_to(source.resolve(), target_is_directory=True)
    settings = make_settings(home)
    if secret_key:
        settings = replace(settings, secret_key=secret_key)
    return Region(settings, DemoResult(home=home, stages=result.stages), dict(logins))


def copy_region(spec: RegionSpec, home: Path, secret_key: str | None = None) -> Region:
    """A private copy of the region ``spec`` in ``home`` (built and cached first if need be)."""
    entry = built(spec)
    meta = json.loads((entry / "region.json").read_text())
    result = DemoResult(home=entry / "home", stages=meta["stages"])
    return _copy(entry / "home", home, result, meta["logins"], secret_key)


#: The region the linkage review tests change copies of: small, linked for the hub.
LINKED = RegionSpec(DemoOptions(residents=1500, months=3, seed=11), evaluate=False)
# eight months: the window holds a termly census before the demo's intervention (five months
# in) and one after it for most of the year; the impact test says so when it does not
#: The region every other stage's tests read (or change copies of): every demo stage.
DEMO = RegionSpec(DemoOptions(residents=4000, months=8, seed=11))
#: The incremental linkage tests' region: twelve months, so it holds an electoral register
#: (the demo region's eight months do not), and another seed. Built up to the linkage stage
#: and not scored against the truth: those tests read only the index (no indicator, area,
#: publication or rights stage), and the evaluation's figures are the demo region's to check.
INCREMENTAL = RegionSpec(
    DemoOptions(residents=3000, months=12, seed=5), evaluate=False, last="linkage.build"
)
