"""Home: what the hub is, and each signed-in person's tasks.

Visitors read what the hub does and find its open data. Signed-in people see a GOV.UK task
list of what waits for their role: a caseworker's open flags, a data owner's agreements to
approve, a DPO's releases to decide, the hub admin's failed jobs. Facts about the
installation (its data directory and database) are for the hub admin only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import make_url
from starlette.concurrency import run_in_threadpool

from joinedup import __version__
from joinedup.catalog import migrate
from joinedup.catalog.models import JobStatus, ReleaseStatus, Role
from joinedup.config import Settings
from joinedup.governance.access import AccessDenied
from joinedup.governance.service.agreements import awaiting_approval
from joinedup.insight.flags import FlagFilter, list_flags
from joinedup.jobs.service import count_visible_jobs
from joinedup.publish.releases import count_releases
from joinedup.rights.notifications import unread_count
from joinedup.toolkit.ethics import dpo_workload
from joinedup.web.auth import Principal, get_principal
from joinedup.web.guards import OPEN
from joinedup.web.navigation import NavItem
from joinedup.web.pages import PageSection
from joinedup.web.templating import render

router = APIRouter(include_in_schema=False)
section = PageSection(router=router, nav=NavItem(key="home", text="Home", href="/"))

BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass(frozen=True)
class InstallationStatus:
    version: str
    home: str
    home_exists: bool
    database_backend: str
    database_state: str  # "ready", "needs-upgrade", "not-created" or "unreachable"


def installation_status(settings: Settings) -> InstallationStatus:
    """Facts about this installation, read without changing anything."""
    url = make_url(settings.resolved_database_url)
    backend = BACKEND_NAMES.get(url.get_backend_name(), url.get_backend_name())
    home_exists = settings.home.is_dir()
    state = "unreachable"
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).is_file()):
        state = "not-created"  # connecting would create an empty file: don't
    else:
        try:
            current = migrate.current_revision(settings)
        except Exception:  # shown on the page; /healthz has the details in the log
            state = "unreachable"
        else:
            if current is None:
                state = "not-created"
            elif current == migrate.head_revision():
                state = "ready"
            else:
                state = "needs-upgrade"
    return InstallationStatus(
        version=__version__,
        home=str(settings.home.resolve()),
        home_exists=home_exists,
        database_backend=backend,
        database_state=state,
    )


# --- tasks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One row of the GOV.UK task list: what to do, where, and how much waits."""

    title: str
    href: str | None
    hint: str
    waiting: int | None = None  # how many wait, or None: nothing counted
    status: str = ""  # the word after the count ("3 open"), or the status itself
    blocked: bool = False  # the task cannot start yet (its status is grey text)

    def item(self) -> dict[str, object]:
        """The item for ``govukTaskList``: a blue tag for what waits, text otherwise."""
        status: dict[str, object]
        if self.blocked:
            status = {"text": self.status, "classes": "govuk-task-list__status--cannot-start-yet"}
        elif self.waiting is None:
            status = {"tag": {"text": self.status, "classes": "govuk-tag--blue"}}
            if not self.status:
                status = {"text": ""}
        elif self.waiting:
            tag = {"text": f"{self.waiting:,} {self.status}", "classes": "govuk-tag--blue"}
            status = {"tag": tag}
        else:
            status = {"text": f"None {self.status}"}
        item: dict[str, object] = {
            "title": {"text": self.title},
            "hint": {"text": self.hint},
            "status": status,
        }
        if self.href:
            item["href"] = self.href
        return item


def _caseworker_tasks(settings: Settings, principal: Principal) -> list[Task]:
    if principal.purpose is None:
        return [
            Task(
                "Choose the purpose you are acting under",
                "/purpose?next=/",
                "Your worklist shows the flags raised under one purpose at a time.",
                status="To do",
            ),
            Task(
                "Work your flags", None, "Choose a purpose first.", None, "Cannot start yet", True
            ),
        ]
    try:
        page = list_flags(settings, principal.actor(), FlagFilter(page_size=1))
    except AccessDenied:
        return [Task("Work your flags", "/worklist", "Open your worklist.")]
    return [
        Task(
            "Work your flags",
            "/worklist",
            f"Residents flagged from your organisation's records, acting for "
            f"{principal.purpose_name or principal.purpose}.",
            waiting=page.counts.get("open", 0),
            status="open",
        )
    ]


def tasks_for(settings: Settings, principal: Principal) -> list[Task]:
    """What waits for this person, by role."""
    tasks: list[Task] = []
    if principal.role == Role.CASEWORKER:
        tasks += _caseworker_tasks(settings, principal)
    if principal.role == Role.DATA_OWNER:
        waiting = awaiting_approval(settings, principal.organisation_id)
        tasks += [
            Task(
                f"Approve the agreement ‘{a.title}’",
                f"/agreements/{a.reference}",
                f"Your organisation provides data under agreement {a.reference}.",
                status="Waiting for you",
            )
            for a in waiting
        ]
        if not waiting:
            tasks.append(
                Task(
                    "Approve sharing agreements",
                    "/agreements",
                    "Agreements under which your organisation provides data.",
                    0,
                    "waiting",
                )
            )
        tasks += [
            Task("Upload a dataset", "/upload", "Send a new version of one of your datasets."),
            Task(
                "Read your notifications",
                "/notifications",
                "Residents' corrections to your data, and other news.",
                unread_count(settings, principal.user_id),
                "unread",
            ),
        ]
    if principal.role == Role.DPO:
        to_sign, to_review = dpo_workload(settings)
        tasks += [
            Task(
                "Sign off and review ethics records",
                "/ethics",
                "Drafts waiting for a DPO's sign-off, and signed-off records past their "
                f"review date ({to_review:,} due for review).",
                to_sign + to_review,
                "waiting",
            ),
            Task(
                "Decide on open data releases",
                "/publications",
                "Check each release's disclosure control, then approve or reject it.",
                count_releases(settings, ReleaseStatus.PENDING),
                "waiting",
            ),
            Task(
                "Answer residents' rights requests",
                "/rights",
                "Find a resident's records, release their data or record a correction.",
            ),
            Task("Check the audit log", "/audit", "Who read personal data, and why."),
        ]
    if principal.role == Role.ANALYST:
        tasks += [
            Task(
                "Review possible matches",
                "/linkage",
                "Pairs of records the linkage model was unsure of, and why residents link.",
            ),
            Task("Read the dashboard", "/insight/dashboard", "Trends by area and month."),
            Task("Prepare open data releases", "/publications", "Build a release for a DPO."),
        ]
    if principal.role == Role.HUB_ADMIN:
        tasks += [
            Task(
                "Look into failed jobs",
                "/jobs?status=failed",
                "Each failed job says what went wrong and what to do.",
                count_visible_jobs(settings, principal, JobStatus.FAILED.value),
                "failed",
            ),
            Task("Manage organisations and users", "/admin", "Accounts, roles and API tokens."),
        ]
    return tasks


@router.get("/", response_class=HTMLResponse, **OPEN.route())
async def home(request: Request) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    principal = get_principal(request)
    status = await run_in_threadpool(installation_status, settings)
    tasks: list[Task] = []
    if principal is not None:
        tasks = await run_in_threadpool(tasks_for, settings, principal)
    return render(
        request,
        "pages/home.html",
        {
            "status": status,
            "tasks": [t.item() for t in tasks],
            "show_installation": principal is not None and principal.role == Role.HUB_ADMIN,
        },
    )
