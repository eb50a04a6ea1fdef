#!/usr/bin/env bash
# Rebuild tests/fixtures/upgrade/: a home made by an earlier release of joinedup, which
# tests/foundation/test_upgrade.py upgrades with the current code.
#
# The earlier release is the first tagged one, v0.1.0 (commit 9509b7d, 2026-12-03, the
# merge after which issues 2-9 had landed: control plane at migration 0011_insight_areas).
# Its own code runs its own demo (500 residents, 6 months, seed 2026; its generator fails on
# smaller regions) into a fresh home; the
# home's database, snapshots and linkage models are kept (not the generated source files, the secret key or
# the demo logins), with facts read from the database by sqlite3 alone, not by joinedup:
# every table's row count, the audit chain's length and head hash, and every snapshot.
#
#   scripts/build-upgrade-fixture.sh [COMMIT]     (run from the checkout, after make install)
set -euo pipefail

COMMIT="${1:-v0.1.0}"
RESIDENTS="${RESIDENTS:-500}"
MONTHS="${MONTHS:-6}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
OUT="$ROOT/tests/fixtures/upgrade"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

git -C "$ROOT" archive "$COMMIT" src | tar -x -C "$WORK"
mkdir -p "$WORK/run"
# the old package first on the path, ahead of the checkout's editable install
(
  cd "$WORK/run"
  JOINEDUP_HOME="$WORK/home" PYTHONPATH="$WORK/src" JOINEDUP_DATABASE_URL="" \
    "$PY" -c "from joinedup.cli import app; app()" \
    demo --no-serve --residents "$RESIDENTS" --months "$MONTHS" --seed 2026 >"$WORK/demo.log" 2>&1 \
    || { cat "$WORK/demo.log"; exit 1; }
)
PYTHONPATH="$WORK/src" "$PY" -c "import joinedup.cli, sys; \
  assert joinedup.cli.__file__.startswith('$WORK'), joinedup.cli.__file__"

rm -rf "$OUT"
mkdir -p "$OUT"
"$PY" - "$WORK/home" "$OUT" "$COMMIT" "$(git -C "$ROOT" rev-parse "$COMMIT")" "$RESIDENTS" "$MONTHS" <<'EOF'
"""Pack the home (database and snapshots) and write what it holds, read with sqlite3."""
import hashlib
import json
import sqlite3
import sys
import tarfile
from pathlib import Path

home, out, short, full = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
residents, months = int(sys.argv[5]), int(sys.argv[6])
db = sqlite3.connect(home / "joinedup.db")
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY 1")]
counts = {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
revision = db.execute("SELECT version_num FROM alembic_version").fetchone()[0]
audit = db.execute("SELECT count(*), max(id) FROM audit_event").fetchone()
head = db.execute("SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1").fetchone()[0]
snapshots = {
    sha: size for sha, size in db.execute("SELECT sha256, size_bytes FROM snapshot ORDER BY 1")
}
db.close()
for sha, size in snapshots.items():
    path = home / "snapshots" / sha[:2] / f"{sha}.parquet"
    assert path.stat().st_size == size and hashlib.sha256(path.read_bytes()).hexdigest() == sha
with tarfile.open(out / "home.tar.xz", "w:xz") as tar:
    tar.add(home / "joinedup.db", "joinedup.db")
    tar.add(home / "snapshots", "snapshots")
    tar.add(home / "linkage", "linkage")  # the linkage models the runs name
facts = {
    "commit": full,
    "built_by": "scripts/build-upgrade-fixture.sh " + short,
    "demo": {"residents": residents, "months": months, "seed": 2026},
    "revision": revision,
    "row_counts": counts,
    "audit_events": audit[0],
    "audit_last_id": audit[1],
    "audit_head_hash": head,
    "snapshots": snapshots,
}
(out / "home.json").write_text(json.dumps(facts, indent=2, sort_keys=True) + "\n")
print(f"{out}: revision {revision}, {sum(counts.values())} rows, {audit[0]} audit events, "
      f"{len(snapshots)} snapshots, {(out / 'home.tar.xz').stat().st_size:,} bytes packed")
EOF
