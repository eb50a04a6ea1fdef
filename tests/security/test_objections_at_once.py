"""An objection takes effect at once, however it names the resident (issue 15, 1 and 2).

On a private copy of the demo region: a DPO records an objection to ``fsm`` over the API,
by resident id or by one of the resident's records; straight away, before any processing
run, a caseworker acting under ``fsm`` gets none of the resident's records from the records
API and none of their flags from the flags API, the household flags or the worklist page.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.regions import Region
from tests.rights.conftest import query
from tests.support import signed_in

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.slow
PURPOSE = "fsm"


def _client(home: Region, username: str, purpose: str | None) -> Iterator[TestClient]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

        from joinedup.web.app import create_app
    with TestClient(create_app(home.settings)) as client:
        yield signed_in(client, username, home.logins[username], purpose)


def _flagged(home: Region, n: int) -> dict[str, Any]:
    """The ``n``-th resident with an ``fsm`` flag and a school census record of the flag's
    council, with the flag and the record."""
    rows = query(
        home,
        """SELECT f.resident_id, f.flag_id, f.household_id, f.organisation, i.dataset,
                  i.source_record_id
           FROM {flags} f JOIN {index} i
             ON i.resident_id = f.resident_id AND i.organisation = f.organisation
           WHERE f.purpose = 'fsm' AND i.dataset = 'school-census'
           ORDER BY f.resident_id, f.flag_id, i.source_record_id""",
    )
    residents = sorted({r[0] for r in rows})
    assert len(residents) > n, "the demo raised too few fsm flags"
    row = next(r for r in rows if r[0] == residents[n])
    keys = ("resident", "flag", "household", "organisation", "dataset", "record")
    return dict(zip(keys, row, strict=True))


def _record_ids(client: TestClient, organisation: str, dataset: str) -> set[str]:
    url = f"/api/v1/datasets/{organisation}/{dataset}/records"
    ids: set[str] = set()
    offset = 0
    while True:
        response = client.get(
            url, params={"fields": "source_record_id", "offset": offset, "limit": 1000}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        ids |= {r["source_record_id"] for r in body["records"]}
        if body["next"] is None:
            return ids
        offset += len(body["records"])


def _served(client: TestClient, case: dict[str, Any]) -> dict[str, bool]:
    """Whether each read path still serves the resident's record or flag."""
    flag = client.get(f"/api/v1/insight/flags/{case['flag']}")
    assert flag.status_code in (200, 404), flag.text
    household = client.get(f"/api/v1/insight/households/{case['household']}/flags")
    assert household.status_code == 200, household.text
    page = client.get(f"/worklist/flags/{case['flag']}")
    assert page.status_code in (200, 404), page.text
    records = _record_ids(client, case["organisation"], case["dataset"])
    return {
        "records": case["record"] in records,
        "flag": flag.status_code == 200,
        "household": any(f["resident_id"] == case["resident"] for f in household.json()["flags"]),
        "worklist": page.status_code == 200,
    }


@pytest.mark.parametrize("named_by", ["resident_id", "record"])
def test_an_objection_stops_records_and_flags_at_once(private_demo: Region, named_by: str) -> None:
    home = private_demo
    case = _flagged(home, 0 if named_by == "resident_id" else 1)
    caseworker = f"{case['organisation']}.caseworker"
    everywhere = {"records": True, "flag": True, "household": True, "worklist": True}
    nowhere = dict.fromkeys(everywhere, False)
    for client in _client(home, caseworker, PURPOSE):
        assert _served(client, case) == everywhere
    body: dict[str, str] = {"purpose": PURPOSE}
    if named_by == "resident_id":
        body["resident_id"] = case["resident"]
    else:
        body |= {
            "organisation": case["organisation"],
            "dataset": case["dataset"],
            "source_record_id": case["record"],
        }
    for dpo in _client(home, "hub.dpo", None):
        response = dpo.post("/api/v1/objections", json=body)
        assert response.status_code == 201, response.text
    for client in _client(home, caseworker, PURPOSE):
        assert _served(client, case) == nowhere
