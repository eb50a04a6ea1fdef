from pathlib import Path

import yaml
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.ingest.mapping import parse_mapping

runner = CliRunner()
CSV = (
    "Client Ref,Client Name,D.O.B,Gender,Post Code,NHS No\n"
    'C1,"SMITH, John",01/02/1980,M,sw1a 1aa,9434765919\n'
    'C2,"JONES, Amy",03/04/1990,F,SE1 7PB,4010232137\n'
)


def test_suggest_then_ingest_then_reingest(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "asc.csv"
    source.write_text(CSV)
    draft_path = tmp_path / "asc.yaml"
    result = runner.invoke(
        app,
        ["mapping", "suggest", str(source), "--standard", "person", "--out", str(draft_path)],
        env=env,
    )
    assert result.exit_code == 0, result.output
    draft = yaml.safe_load(draft_path.read_text())
    mapping = parse_mapping(draft, "asc.yaml")
    assert mapping.fields["source_record_id"].column == "Client Ref"
    assert mapping.fields["family_name"].split_name == "surname_comma_forenames"
    assert mapping.fields["date_of_birth"].date_formats == ("%d/%m/%Y",)
    assert mapping.fields["nhs_number"].column == "NHS No"

    args = ["ingest", str(source), "--org", "southwark", "--dataset", "asc-clients"]
    first = runner.invoke(app, [*args, "--mapping", str(draft_path)], env=env)
    assert first.exit_code == 0, first.output
    assert "version 1: 2 rows accepted, 0 quarantined" in first.output
    again = runner.invoke(app, [*args, "--mapping", str(draft_path)], env=env)
    assert again.exit_code == 0
    assert "identical to version 1" in again.output
    listing = runner.invoke(app, ["jobs", "list"], env=env)
    assert listing.output.count("ingest") >= 2


def test_ingest_errors_name_file_row_and_rule(env: dict[str, str], tmp_path: Path) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("source_record_id,family_name\nA,B\nC,D,E\n")
    result = runner.invoke(
        app,
        ["ingest", str(ragged), "--org", "southwark", "--dataset", "x", "--standard", "person"],
        env=env,
    )
    assert result.exit_code == 1
    assert "ragged.csv, row 3: ragged_row" in result.output
    missing = runner.invoke(
        app, ["ingest", str(tmp_path / "nope.csv"), "--org", "southwark", "--dataset", "x"], env=env
    )
    assert missing.exit_code == 1 and "no such file" in missing.output
    good = tmp_path / "good.csv"
    good.write_text(CSV)
    no_mapping = runner.invoke(
        app, ["ingest", str(good), "--org", "southwark", "--dataset", "x"], env=env
    )
    assert no_mapping.exit_code == 1 and "no_mapping" in no_mapping.output


def test_suggest_rejects_unknown_standard(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "a.csv"
    source.write_text(CSV)
    result = runner.invoke(app, ["mapping", "suggest", str(source), "--standard", "x"], env=env)
    assert result.exit_code == 1
    assert "x" in result.output
