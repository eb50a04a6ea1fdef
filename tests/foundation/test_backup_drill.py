"""The backup drill: a home holding real governance data (organisations, users, purposes,
agreements with dates, an objection, audit events, datasets and snapshots), backed up,
checked without restoring, restored into an empty home on the same database, and checked
again the way an operator would (``audit verify``, ``store verify``, row counts, rows)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    PickleType,
    Table,
    create_engine,
    func,
    select,
    text,
)
from typer.testing import CliRunner

from joinedup.backup import (
    ENCODINGS,
    MANIFEST,
    BackupError,
    backup,
    column_encoding,
    restore,
    verify_archive,
)
from joinedup.catalog.db import dispose_engines, get_engine, normalise_url, session_scope
from joinedup.catalog.models import (
    Agreement,
    Base,
    Dataset,
    DatasetVersion,
    Job,
    Objection,
    Organisation,
    Purpose,
    User,
)
from joinedup.cli import app
from joinedup.config import Settings
from joinedup.demo import DemoOptions
from joinedup.governance.objections import ObjectionSubject, record_objection
from joinedup.home import init_home
from joinedup.jobs.runner import run_inline
from joinedup.stages import demo_steps
from tests.regions import LINKED
from tests.support import make_settings

runner = CliRunner()
#: The drill's region, a small region's first month: every table the drill checks holds rows
#: (the governance stage's agreements, users and purposes do not depend on the size), at a
#: fraction of the cost of the linkage tests' region.
SMALL = DemoOptions(residents=200, months=1, seed=11)
#: The damaged archives' region, the linkage tests' (1,500 residents, three months): cut in
#: half, its archive ends inside a member ("truncated"); the small region's ends between two.
DAMAGED = LINKED.options
GOVERNED = ("synth", "ingest.region", "governance.demo")


def _build_governed_home(settings: Settings, options: DemoOptions = SMALL) -> None:
    """The demo's first stages on a small region, plus an objection and a job whose
    result is SQL NULL (a JSON column holding NULL, not JSON ``null``)."""
    for stage in demo_steps():
        if stage.kind in GOVERNED:
            row = run_inline(settings, stage.kind, stage.params(settings, options))
            assert row.status == "succeeded", f"{stage.name}: {row.error}"
    with session_scope(settings) as session:
        dpo = session.scalars(select(User).where(User.role == "dpo")).first()
        assert dpo is not None
        record_objection(session, ObjectionSubject(resident_id="r-drill"), "linkage", dpo, "x")
        session.add(Job(id=uuid.uuid4().hex, kind="drill.null", status="queued", params={}))


def _dump(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    with get_engine(settings).connect() as conn:
        for table in Base.metadata.sorted_tables:
            keys = list(table.primary_key.columns)
            out[table.name] = [
                dict(r._mapping) for r in conn.execute(select(table).order_by(*keys))
            ]
    return out


@contextmanager
def _empty_home_like(settings: Settings, home: Path) -> Iterator[Settings]:
    """An empty home on the same kind of database (a fresh schema on PostgreSQL)."""
    url = settings.database_url
    if not url:
        yield make_settings(home)
        dispose_engines()
        return
    base = normalise_url(url).split("?")[0]
    schema = f"jt_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_settings(home, f"{base}?options=-csearch_path%3D{schema}")
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _env(settings: Settings) -> dict[str, str]:
    """The restored hub's environment: its home, database and the source's secret key (the
    audit checkpoints are signed under it, so a restore brings the key back too)."""
    return {
        "JOINEDUP_HOME": str(settings.home),
        "JOINEDUP_DATABASE_URL": settings.database_url,
        "JOINEDUP_SECRET_KEY": settings.secret_key,
    }


def test_backup_drill_on_a_governed_home(db_settings: Settings, tmp_path: Path) -> None:
    _build_governed_home(db_settings)
    before = _dump(db_settings)
    for model in (Organisation, User, Purpose, Agreement, Objection, Dataset, DatasetVersion):
        assert before[model.__tablename__], f"the drill's home should hold {model.__name__} rows"
    assert any(row["result"] is None for row in before["job"])
    archive = tmp_path / "drill.tar"
    summary = backup(db_settings, archive)
    assert summary.snapshots > 0

    report = verify_archive(archive)
    assert report.tables == {name: len(rows) for name, rows in before.items()}
    assert report.audit_events == len(before["audit_event"]) > 0
    assert report.snapshots == summary.snapshots
    checked = runner.invoke(app, ["backup", "verify", str(archive)])
    assert checked.exit_code == 0, checked.output
    assert "is sound" in " ".join(checked.output.split())

    with _empty_home_like(db_settings, tmp_path / "restored") as target:
        result = runner.invoke(app, ["restore", str(archive)], env=_env(target))
        assert result.exit_code == 0, result.output
        after = _dump(target)
        assert {t: len(r) for t, r in after.items()} == {t: len(r) for t, r in before.items()}
        assert after == before  # every row, field by field, with its Python type
        with get_engine(target).connect() as conn:  # SQL NULL stayed SQL NULL in JSON
            nulls = select(func.count()).select_from(Job).where(Job.result.is_(None))
            assert conn.execute(nulls).scalar_one() == sum(
                1 for row in before["job"] if row["result"] is None
            )
        with session_scope(target) as session:
            agreement = session.scalars(select(Agreement).order_by(Agreement.id)).first()
            assert agreement is not None and agreement.start_date < agreement.expiry_date
            assert session.scalars(select(Objection)).one().resident_id == "r-drill"
            assert session.scalars(select(Purpose).where(Purpose.code == "linkage")).one()
            session.add(Organisation(code="after-restore", name="New"))  # sequences work
        for command in (["audit", "verify"], ["store", "verify"]):
            ran = runner.invoke(app, command, env=_env(target))
            assert ran.exit_code == 0, f"{command}: {ran.output}"
        assert "intact" in runner.invoke(app, ["audit", "verify"], env=_env(target)).output

        current = _dump(target)
        again = runner.invoke(app, ["restore", str(archive)], env=_env(target))
        assert again.exit_code == 1
        assert (
            "already holds data" in " ".join(again.output.split())
            and "Traceback" not in again.output
        )
        assert _dump(target) == current


def _rewrite(archive: Path, target: Path, change: dict[str, bytes | None]) -> None:
    """Copy ``archive`` to ``target``, replacing (bytes) or dropping (None) named members."""
    with tarfile.open(archive) as src, tarfile.open(target, "w") as dst:
        for member in src.getmembers():
            if member.name in change and change[member.name] is None:
                continue
            handle = src.extractfile(member)
            assert handle is not None
            payload = change.get(member.name) or handle.read()
            info = tarfile.TarInfo(member.name)
            info.size = len(payload)
            dst.addfile(info, io.BytesIO(payload))


def _member(archive: Path, name: str) -> bytes:
    with tarfile.open(archive) as tar:
        handle = tar.extractfile(name)
        assert handle is not None
        return handle.read()


def _retamper_manifest(archive: Path, table: str, data: bytes) -> bytes:
    """The manifest with the hash of ``table`` updated, as a careful forger would."""
    manifest = json.loads(_member(archive, MANIFEST))
    manifest["catalogue_sha256"][table] = hashlib.sha256(data).hexdigest()
    return json.dumps(manifest).encode()


def test_damaged_archives_are_refused_with_nothing_left(
    home_settings: Settings, tmp_path: Path
) -> None:
    _build_governed_home(home_settings, DAMAGED)
    archive = tmp_path / "good.tar"
    backup(home_settings, archive)
    audit = _member(archive, "catalogue/audit_event.jsonl")
    lines = audit.splitlines()
    edited = json.loads(lines[0])
    edited["actor"] = "someone-else"
    forged = b"\n".join([json.dumps(edited, sort_keys=True).encode(), *lines[1:]]) + b"\n"
    dropped = b"\n".join(lines[1:]) + b"\n"
    raw = archive.read_bytes()
    cases: dict[str, tuple[bytes, str]] = {}

    def case(name: str, change: dict[str, bytes | None], error: str) -> None:
        path = tmp_path / f"{name}.tar"
        _rewrite(archive, path, change)
        cases[name] = (path.read_bytes(), error)

    case("audit-row-edited", {"catalogue/audit_event.jsonl": forged}, "does not match its hash")
    case(
        "audit-row-edited-and-manifest-rehashed",
        {
            "catalogue/audit_event.jsonl": forged,
            MANIFEST: _retamper_manifest(archive, "audit_event", forged),
        },
        "audit log in the backup is broken at event 1",
    )
    manifest = json.loads(_member(archive, MANIFEST))
    manifest["tables"]["audit_event"] -= 1
    manifest["catalogue_sha256"]["audit_event"] = hashlib.sha256(dropped).hexdigest()
    case(
        "audit-row-dropped",
        {"catalogue/audit_event.jsonl": dropped, MANIFEST: json.dumps(manifest).encode()},
        "audit log in the backup is broken",
    )
    case("table-missing", {"catalogue/objection.jsonl": None}, "objection.jsonl is missing")
    case("manifest-missing", {MANIFEST: None}, "not a joinedup backup")
    case("manifest-not-json", {MANIFEST: b"{nope"}, "is not valid JSON")
    cases["truncated"] = (raw[: len(raw) // 2], "damaged or truncated|not a readable")
    cases["empty"] = (b"", "not a readable backup archive|damaged or truncated")
    cases["binary"] = (bytes(range(256)) * 40, "not a readable backup archive")
    with tarfile.open(archive) as tar:
        snap = next(m.name for m in tar.getmembers() if m.name.endswith(".parquet"))
    original = _member(archive, snap)
    flipped = original[:100] + bytes([original[100] ^ 1]) + original[101:]
    case("snapshot-bit-flipped", {snap: flipped}, "snapshot .* is corrupt in the backup")
    case("snapshot-cut", {snap: original[:-10]}, r"snapshot .* is corrupt \(wrong size\)")

    for name, (payload, error) in cases.items():
        path = tmp_path / f"bad-{name}.tar"
        path.write_bytes(payload)
        with pytest.raises(BackupError, match=error):
            verify_archive(path)
        target = make_settings(tmp_path / f"restored-{name}")
        with pytest.raises(BackupError, match=error):
            restore(target, path)
        assert not target.home.exists(), f"{name}: a half-made home was left behind"
        result = runner.invoke(app, ["backup", "verify", str(path)])
        assert result.exit_code == 1, f"{name}: {result.output}"
        assert "Traceback" not in result.output and result.exception is not None
        assert result.output.count("Error:") == 1, result.output


def test_backup_verify_usage_errors(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["backup", "verify", str(tmp_path / "none.tar")])
    assert missing.exit_code == 1 and "no such backup file" in missing.output
    bare = runner.invoke(app, ["backup", "verify"])
    assert bare.exit_code == 1 and "joinedup backup verify FILE" in bare.output
    # a backup needs a home (checked first); in one, two archives are a usage error
    home = tmp_path / "home"
    init_home(make_settings(home))
    dispose_engines()
    two = runner.invoke(app, ["backup", "a.tar", "b.tar"], env={"JOINEDUP_HOME": str(home)})
    dispose_engines()
    assert two.exit_code == 1 and "verify FILE" in two.output


def test_every_catalogue_column_has_an_encoding() -> None:
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            assert column_encoding(column) in ENCODINGS


def test_each_encoding_round_trips_exactly() -> None:
    import enum
    from datetime import UTC, date, datetime

    class Colour(enum.Enum):
        RED = "r"

    meta = MetaData()
    table = Table(
        "t",
        meta,
        Column("d", Date),
        Column("n", Numeric(10, 4)),
        Column("b", LargeBinary),
        Column("j", JSON),
        Column("e", Enum(Colour)),
        Column("f", Float),
        Column("naive", DateTime),
        Column("i", Integer),
    )
    values = {
        "d": date(2026, 2, 28),
        "n": Decimal("12.3400"),
        "b": bytes(range(256)),
        "j": {"a": [1, 2.5, None, "é"]},
        "e": Colour.RED,
        "f": 0.1 + 0.2,
        "naive": datetime(2026, 1, 1, 12, 30, 1, 123456),
        "i": 2**62,
    }
    for column in table.columns:
        encode, decode = ENCODINGS[column_encoding(column)]
        written = json.loads(json.dumps(encode(values[column.name])))
        back = decode(written)
        expected = values[column.name]
        assert back == (expected.name if isinstance(expected, enum.Enum) else expected)
    aware = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    encode, decode = ENCODINGS["utc-datetime"]
    assert decode(encode(aware)) == aware and decode(encode(aware)).tzinfo is not None
    with pytest.raises(BackupError, match=r"t2\.p has type .* add it to joinedup\.backup"):
        column_encoding(Table("t2", meta, Column("p", PickleType)).c.p)
