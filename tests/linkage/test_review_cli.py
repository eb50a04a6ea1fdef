"""``joinedup linkage review list|decide`` and ``joinedup linkage resident``, acting as a
named analyst."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from joinedup.catalog.db import dispose_engines
from joinedup.cli import app
from joinedup.config import Settings
from joinedup.linkage.review import latest_decisions
from tests.linkage.region import REVIEWER, add_reviewer, copy_home
from tests.regions import Region

pytestmark = pytest.mark.slow  # uses the session's linked region


@pytest.fixture(scope="module")
def region(
    linked_region_template: Region, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    settings = copy_home(linked_region_template, tmp_path_factory.mktemp("cli") / "home")
    add_reviewer(settings, "hub-cli-dpo", role="dpo")
    yield settings
    dispose_engines()


def _run(settings: Settings, *args: str) -> tuple[int, str]:
    env = {"JOINEDUP_HOME": str(settings.home), "JOINEDUP_DATABASE_URL": ""}
    result = CliRunner().invoke(app, ["linkage", *args], env=env)
    dispose_engines()
    return result.exit_code, result.output


def test_list_decide_and_explain(region: Settings) -> None:
    code, out = _run(region, "review", "list", "--as", REVIEWER, "--limit", "3", "--json")
    assert code == 0, out
    listed = json.loads(out)
    assert listed["waiting"] >= len(listed["pairs"]) > 0
    first = listed["pairs"][0]
    code, out = _run(
        region,
        "review",
        "decide",
        first["record_key_r"],
        first["record_key_l"],
        "non-match",
        "--as",
        REVIEWER,
        "--note",
        "checked with the school",
    )
    assert code == 0, out
    assert first["pair"] in out
    key = (first["record_key_l"], first["record_key_r"])
    assert latest_decisions(region)[key] == "non_match"
    code, out = _run(region, "review", "list", "--as", REVIEWER, "--json")
    assert first["pair"] not in {p["pair"] for p in json.loads(out)["pairs"]}
    code, out = _run(region, "review", "list", "--as", REVIEWER)
    assert code == 0 and "Review queue of run" in out

    from joinedup.linkage.explain import _index_rows, get_run

    resident = _index_rows(region, get_run(region), "record_key", [first["record_key_l"]])[0][
        "resident_id"
    ]
    code, out = _run(region, "resident", resident, "--as", REVIEWER, "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["resident_id"] == resident
    assert first["record_key_l"] in {r["record_key"] for r in data["records"]}
    assert any(d["decision"] == "non_match" for d in data["decisions"])
    code, out = _run(region, "resident", resident, "--as", REVIEWER)
    assert code == 0 and "Source records" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["review", "list", "--as", "nobody"], "no active user"),
        (["review", "list", "--as", "hub-cli-dpo"], "only analysts"),
        (["review", "decide", "lambeth/x/1", "lambeth/x/2", "match", "--as", REVIEWER], "not in"),
        (["review", "decide", "bad", "lambeth/x/2", "match", "--as", REVIEWER], "not in"),
        (["resident", "r-0000000000000000", "--as", REVIEWER], "no such resident"),
    ],
)
def test_errors_are_clear(region: Settings, args: list[str], message: str) -> None:
    code, out = _run(region, *args)
    assert code == 1
    assert message in out.lower()
