"""Home: what joinedup is, and the state of this installation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import make_url

from joinedup import __version__
from joinedup.catalog import migrate
from joinedup.config import Settings
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


@router.get("/", response_class=HTMLResponse, **OPEN.route())
def home(request: Request) -> HTMLResponse:
    status = installation_status(request.app.state.settings)
    return render(request, "pages/home.html", {"status": status})
