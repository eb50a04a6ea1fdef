"""`joinedup dedupe` trains on a file without loading what it does not need (issue 14: no
fixed overhead beyond Splink's): not the catalogue (SQLAlchemy, Alembic), frictionless,
openpyxl, nor pandas (which pyarrow's conversions import)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

HEAVY = ("pandas", "sqlalchemy", "alembic", "frictionless", "openpyxl")

RUN = f"""
import sys
from joinedup.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    print("LOADED", *[m for m in {HEAVY!r} if m in sys.modules])
"""

GIVEN = ["OLIVER", "AMELIA", "GEORGE", "ISLA", "NOAH", "AVA", "ARTHUR", "MIA", "LEO", "IVY"]
FAMILY = ["SMITH", "JONES", "TAYLOR", "BROWN", "KHAN", "PATEL", "NOWAK", "OKAFOR", "WILSON"]


def _people(path: Path, people: int) -> None:
    """Synthetic people, each twice; the second record's given name has one letter dropped."""
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["ref", "forename", "surname", "dob", "postcode"])
        for i in range(people):
            given, family = GIVEN[i % len(GIVEN)], FAMILY[(i // len(GIVEN)) % len(FAMILY)]
            dob = f"{1 + i % 28:02d}/{1 + i % 12:02d}/{1940 + i % 70}"
            postcode = f"SE{1 + i % 28} {i % 9}AB"
            out.writerow([f"p{i}a", given, family, dob, postcode])
            out.writerow([f"p{i}b", given[:-2] + given[-1], family, dob, postcode])


def test_dedupe_trains_without_heavy_modules(tmp_path: Path) -> None:
    source, out = tmp_path / "people.csv", tmp_path / "clusters.csv"
    _people(source, 600)
    done = subprocess.run(
        [sys.executable, "-c", RUN, "dedupe", str(source), "--out", str(out), "--id", "ref"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = next(line for line in done.stdout.splitlines() if line.startswith("LOADED"))
    assert loaded.split()[1:] == []
    with out.open(newline="") as fh:
        cluster = {r["record_id"]: r["cluster_id"] for r in csv.DictReader(fh)}
    assert len(cluster) == 1200
    together = sum(cluster[f"p{i}a"] == cluster[f"p{i}b"] for i in range(600))
    assert together >= 540  # the model was trained (not the reference model) and links most


def test_the_command_line_imports_no_catalogue() -> None:
    code = (
        "import sys, joinedup.cli, joinedup.linkage.standalone; "
        f"print(*[m for m in {HEAVY!r} if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == []


def test_the_shipped_exact_match_answers_are_splinks() -> None:
    # EM asks of every level whether it is an exact match; the answers for joinedup's levels
    # are shipped so that Splink does not parse and simplify each level's SQL per process.
    # Regenerate with `python -m joinedup.linkage.splink_speed` when a level or Splink changes.
    import json

    from joinedup.linkage import splink_speed

    data = json.loads(splink_speed.EXACT_LEVELS.read_text(encoding="utf-8"))
    sqls = splink_speed.training_level_sqls()
    assert splink_speed.shipped_exact(), "exact_levels.json is from another Splink"
    assert sorted(data["levels"]) == sqls
    answers = splink_speed.exact_answers(sqls)
    assert data["levels"] == answers
    assert "postcode_l = postcode_r" in sqls and answers["postcode_l = postcode_r"] is True
    assert any(not exact for exact in answers.values())
