"""The accessibility statement the public sector accessibility regulations require."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from joinedup.web.guards import OPEN
from joinedup.web.pages import PageSection
from joinedup.web.templating import render

router = APIRouter(include_in_schema=False)
section = PageSection(router=router)


@router.get("/accessibility", response_class=HTMLResponse, **OPEN.route())
def accessibility(request: Request) -> HTMLResponse:
    return render(request, "pages/accessibility.html")
