"""The home page: each signed-in person's tasks, as a GOV.UK task list, by role."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

from joinedup import jobs
from joinedup.config import Settings
from joinedup.jobs.readable import kind_title
from tests.support import choose_purpose
from tests.web.test_governance_agreements import REFERENCE, agreement_form, post_form


def tasks(html: str) -> list[str]:
    """Each task as ``title | status``, in order."""
    found = re.search(r'<ul class="govuk-task-list".*?</ul>', html, re.S)
    assert found, "no task list"
    rows = []
    for item in re.findall(r"<li class=\"govuk-task-list__item.*?</li>", found.group(0), re.S):
        name = re.search(
            r'class="govuk-task-list__name-and-hint">\s*<(?:a|div)[^>]*>(.*?)</', item, re.S
        )
        status = re.search(r'class="govuk-task-list__status[^"]*"[^>]*>(.*?)</div>', item, re.S)
        assert name and status
        clean = [
            html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", t)).strip())
            for t in (name.group(1), status.group(1))
        ]
        rows.append(" | ".join(clean).strip())
    return rows


def test_a_caseworker_chooses_a_purpose_then_sees_their_open_flags(
    home_settings: Settings, signed_in_for: Any
) -> None:
    caseworker = signed_in_for(home_settings, "lam-case", token=False)
    assert tasks(caseworker.get("/").text) == [
        "Choose the purpose you are acting under | To do",
        "Work your flags | Cannot start yet",
    ]
    choose_purpose(caseworker, "fsm")
    html = caseworker.get("/").text
    assert tasks(html) == ["Work your flags | None open"]
    assert 'href="/worklist"' in html and "Free school meals auto-enrolment" in html


def test_a_data_owner_sees_the_agreements_that_wait_for_their_approval(
    db_settings: Settings, signed_in_for: Any
) -> None:
    lambeth = signed_in_for(db_settings, "lam-owner", token=False)
    southwark = signed_in_for(db_settings, "sou-owner", token=False)
    assert tasks(southwark.get("/").text)[0] == "Approve sharing agreements | None waiting"

    created = post_form(lambeth, "/agreements/new", "/agreements/new", agreement_form())
    assert created.status_code == 303, created.text
    page = f"/agreements/{REFERENCE}"
    assert post_form(lambeth, page, f"{page}/propose").status_code == 303
    # Lambeth proposed it (and so approved it); Southwark provides data and has not approved.
    html = southwark.get("/").text
    assert (
        tasks(html)[0] == "Approve the agreement ‘Census and council tax for FSM’ | Waiting for you"
    )
    assert f'href="/agreements/{REFERENCE}"' in html
    assert tasks(html)[1:] == ["Upload a dataset |", "Read your notifications | None unread"]
    assert post_form(southwark, page, f"{page}/approve").status_code == 303
    assert tasks(southwark.get("/").text)[0] == "Approve sharing agreements | None waiting"


def test_a_dpo_and_an_analyst_see_their_work(home_settings: Settings, signed_in_for: Any) -> None:
    dpo = signed_in_for(home_settings, "lam-dpo", token=False)
    assert tasks(dpo.get("/").text) == [
        "Sign off and review ethics records | None waiting",
        "Decide on open data releases | None waiting",
        "Answer residents' rights requests |",
        "Check the audit log |",
    ]
    analyst = signed_in_for(home_settings, "lam-analyst", token=False)
    assert [t.split(" |")[0] for t in tasks(analyst.get("/").text)] == [
        "Review possible matches",
        "Read the dashboard",
        "Prepare open data releases",
    ]


def test_the_hub_admin_sees_failed_jobs(db_settings: Settings, signed_in_for: Any) -> None:
    admin = signed_in_for(db_settings, "admin", token=False)
    assert tasks(admin.get("/").text)[0] == "Look into failed jobs | None failed"
    jobs.run_inline(db_settings, "backup", {})  # no path: fails
    jobs.run_inline(db_settings, "store.verify")  # succeeds: not counted
    assert tasks(admin.get("/").text)[0] == "Look into failed jobs | 1 failed"
    # the task opens the failed jobs only
    assert 'href="/jobs?status=failed"' in admin.get("/").text
    failed = admin.get("/jobs?status=failed").text
    verify = kind_title("store.verify")
    assert f">{kind_title('backup')}<" in failed
    assert f">{verify}<" not in failed and "Failed jobs (1)" in failed
    assert f">{verify}<" in admin.get("/jobs").text
    assert admin.get("/jobs?status=nonsense").status_code == 400


#: Pages that name the purpose they are used under (their guards); others take any.
PAGE_PURPOSES = {"/rights": "subject-access", "/linkage": "linkage"}


def test_every_task_link_opens_for_its_person(home_settings: Settings, signed_in_for: Any) -> None:
    """A task never leads to a refusal: each link answers 200 for the person it is shown to,
    acting under the purpose its page asks for."""
    for username in ("lam-case", "lam-owner", "lam-dpo", "lam-analyst", "admin"):
        client = signed_in_for(home_settings, username, token=False)
        choose_purpose(client, "fsm")
        links = re.findall(
            r'class="govuk-link govuk-task-list__link[^"]*" href="([^"]+)"', client.get("/").text
        )
        assert links, username
        for href in links:
            purpose = next((p for k, p in PAGE_PURPOSES.items() if href.startswith(k)), "fsm")
            choose_purpose(client, purpose)
            answer = client.get(href, follow_redirects=False)
            assert answer.status_code == 200, (username, href, answer.status_code)
