"""Same seed, same bytes; a clean region when errors are off; the ``synth`` command."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from joinedup.synth.cli import register
from joinedup.synth.config import SynthConfig
from joinedup.synth.generate import generate_region
from joinedup.synth.manifest import Manifest

from .helpers import read_source


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_byte_identical_output(tmp_path):
    config = SynthConfig(residents=3000, seed=5)
    generate_region(config, tmp_path / "a")
    generate_region(config, tmp_path / "b")
    a, b = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert len(a) > 300
    assert a == b
    generate_region(SynthConfig(residents=3000, seed=6), tmp_path / "c")
    c = _digests(tmp_path / "c")
    assert a.keys() == c.keys()
    differing = [k for k in a if a[k] != c[k]]
    assert len(differing) > len(a) // 2


def test_zero_error_rate_gives_clean_records(tmp_path):
    out = tmp_path / "clean"
    manifest = generate_region(SynthConfig(residents=2000, seed=2, error_rate=0.0), out)
    assert pq.read_table(out / "truth" / "errors.parquet").num_rows == 0
    people = pq.read_table(out / "truth" / "people.parquet").to_pydict()
    records = pq.read_table(out / "truth" / "records.parquet").to_pydict()
    entry = manifest.files_for("adult-social-care-clients", "lambeth")[0]
    person = {
        r: p
        for f, r, p in zip(records["file"], records["record_id"], records["person_id"], strict=True)
        if f == entry.path
    }
    table = read_source(out, entry).to_pydict()
    assert table["Client ID"]
    for rid, given, family in zip(
        table["Client ID"], table["Forename"], table["Surname"], strict=True
    ):
        assert given == people["given_name"][person[rid]]
        assert family == people["family_name"][person[rid]]


def test_refuses_a_folder_with_other_content(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        generate_region(SynthConfig(residents=300), tmp_path)
    assert (tmp_path / "notes.txt").exists()


def test_rejects_bad_configuration(tmp_path):
    with pytest.raises(ValueError):
        generate_region(SynthConfig(residents=50), tmp_path / "x")
    with pytest.raises(ValueError):
        generate_region(SynthConfig(residents=500, intervention_borough="camden"), tmp_path / "y")


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """test app"""

    register(app)
    return app


def test_cli_generates_a_region(tmp_path):
    runner = CliRunner()
    app = _app()
    help_result = runner.invoke(app, ["synth", "--help"])
    assert help_result.exit_code == 0
    assert "--residents" in help_result.output and "--error-rate" in help_result.output
    out = tmp_path / "cli"
    result = runner.invoke(
        app,
        [
            "synth",
            "--residents",
            "800",
            "--out",
            str(out),
            "--seed",
            "4",
            "--months",
            "12",
            "--error-rate",
            "0.5",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = Manifest.load(out)
    assert (manifest.residents, manifest.seed, manifest.months, manifest.error_rate) == (
        800,
        4,
        12,
        0.5,
    )
    bad = runner.invoke(app, ["synth", "--residents", "10", "--out", str(tmp_path / "z")])
    assert bad.exit_code != 0


def test_the_smallest_region_on_a_short_timeline_generates(tmp_path):
    """200 residents over 4 months may see no births at all (this crashed once)."""
    config = SynthConfig(residents=200, months=4, seed=2026, start_month="2026-07")
    generate_region(config, tmp_path / "tiny")
    manifest = Manifest.load(tmp_path / "tiny" / "manifest.json")
    assert manifest.files
