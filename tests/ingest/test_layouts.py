"""Layouts remembered: an accepted mapping per layout fingerprint; drift confirmed once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import AuditEvent, IngestLayout, Organisation
from joinedup.cli import app
from joinedup.config import Settings, load_settings
from joinedup.ingest.layouts import fingerprint, match_layout

runner = CliRunner()
ROWS = [
    ("Adults", "Care Fees", "01/04/2026", "T1", "1250.00", "Acme Care Ltd", "Revenue"),
    ("Housing", "Repairs", "02/04/2026", "T2", "600.00", "Builders Ltd", "Capital"),
    ("Housing", "Repairs", "03/04/2026", "T3", "700.00", "REDACTED", "Capital"),
]
MONTH_1 = ["Service Area", "Expenditure Catergory", "Paid Date", "Trans No", "Amount",
           "Supplier Name", "Type"]  # fmt: skip
# April's export: two columns renamed (one misspelt), one dropped, one added, order changed.
MONTH_2 = ["Service Area", "Expenditure Category", "Date Paid", "Transaction Number",
           "Amount", "Supplier Nmae", "Cost Centre"]  # fmt: skip


def _csv(path: Path, header: list[str], rows: list[tuple[str, ...]], extra: str = "") -> Path:
    lines = [",".join(header)] + [",".join((*r[: len(header) - 1], extra or r[-1])) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _ok(args: list[str], env: dict[str, str]) -> str:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_fingerprint_ignores_order_case_spacing_and_underscores() -> None:
    assert fingerprint(["Trans No", "Amount"]) == fingerprint(["amount", "TRANS_NO"])
    assert fingerprint(["Trans No", "Amount"]) != fingerprint(["Trans No", "Amount", "VAT"])


def test_accept_once_then_same_layout_needs_no_mapping_and_drift_is_confirmed_once(
    env: dict[str, str], tmp_path: Path
) -> None:
    first = _csv(tmp_path / "spend-2026-03.csv", MONTH_1, ROWS)
    draft = tmp_path / "draft.yaml"
    _ok(["mapping", "suggest", str(first), "--standard", "spend", "--out", str(draft)], env)
    out = _ok(
        ["mapping", "accept", str(first), "--org", "southwark", "--dataset", "spend",
         "--mapping", str(draft)],
        env,
    )  # fmt: skip
    assert "Remembered" in out
    out = _ok(["ingest", str(first), "--org", "southwark", "--dataset", "spend"], env)
    assert "version 1: 3 rows accepted" in out

    same = tmp_path / "spend-2026-03b.csv"
    same.write_text(first.read_text().replace("T1", "T9"))
    out = _ok(["ingest", str(same), "--org", "southwark", "--dataset", "spend"], env)
    assert "version 2" in out

    drifted = _csv(tmp_path / "spend-2026-04.csv", MONTH_2, ROWS, extra="CC01")
    refused = runner.invoke(
        app, ["ingest", str(drifted), "--org", "southwark", "--dataset", "spend"], env=env
    )
    assert refused.exit_code == 1
    message = " ".join(refused.output.split())
    assert "layout_drift" in message
    assert "renamed: Expenditure Catergory → Expenditure Category" in message
    assert "renamed: Trans No → Transaction Number" in message
    assert "renamed: Supplier Name → Supplier Nmae" in message
    assert "dropped: Type" in message and "added: Cost Centre" in message
    assert "Acme" not in message and "REDACTED" not in message  # no values, ever
    assert "--confirm-layout" in message  # how to confirm it

    out = _ok(["mapping", "layout", str(drifted), "--org", "southwark", "--dataset", "spend"], env)
    assert "drifted" in out and "Paid Date → Date Paid" in " ".join(out.split())
    out = _ok(
        ["ingest", str(drifted), "--org", "southwark", "--dataset", "spend", "--accept-drift"],
        env,
    )
    assert "version 3: 3 rows accepted" in out

    may = _csv(
        tmp_path / "spend-2026-05.csv",
        MONTH_2,
        [(*r[:3], "M" + r[3], *r[4:]) for r in ROWS],
        "CC02",
    )
    out = _ok(["ingest", str(may), "--org", "southwark", "--dataset", "spend"], env)
    assert "version 4" in out  # the confirmed layout is remembered: no work at all

    settings = load_settings(env)
    with session_scope(settings) as session:
        assert len(session.scalars(select(IngestLayout)).all()) == 2
        actions = session.scalars(select(AuditEvent.action)).all()
    assert actions.count("ingest.layout.accept") == 2


def test_match_layout_carries_the_mapping_over(db_settings: Settings) -> None:
    from joinedup.ingest.layouts import remember_layout
    from joinedup.ingest.suggest import suggest_mapping

    with session_scope(db_settings) as session:
        session.add(Organisation(code="southwark", name="Southwark", gss_code="E09000028"))
    sample = {c: [r[i] for r in ROWS] for i, c in enumerate(MONTH_1)}
    draft, _ = suggest_mapping("spend", MONTH_1, sample)
    assert match_layout(db_settings, "southwark", "spend", MONTH_1).status == "new"
    remember_layout(db_settings, "southwark", "spend", MONTH_1, draft, actor="test")
    assert (
        match_layout(db_settings, "southwark", "spend", list(reversed(MONTH_1))).status == "known"
    )
    match = match_layout(db_settings, "southwark", "spend", MONTH_2)
    assert match.status == "drifted" and match.mapping is not None
    assert match.mapping["fields"]["transaction_number"] == "Transaction Number"
    assert "capital_revenue" not in match.mapping["fields"]  # its column was dropped
