"""The hub's own brand assets: its organisation's logo and its header colour, from settings
(:mod:`joinedup.web.brand`). The layout links them only when they are set."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from joinedup.errors import Missing
from joinedup.web.brand import Brand
from joinedup.web.guards import OPEN
from joinedup.web.pages import PageSection

router = APIRouter(include_in_schema=False)
section = PageSection(router=router)

CACHE = "public, max-age=3600"


def _brand(request: Request) -> Brand:
    brand: Brand = request.app.state.brand
    return brand


@router.get("/brand/logo", response_model=None, **OPEN.route())
def logo(request: Request) -> FileResponse:
    brand = _brand(request)
    if brand.logo is None or brand.logo_type is None:
        raise Missing("This hub has no organisation logo")
    return FileResponse(brand.logo, media_type=brand.logo_type, headers={"Cache-Control": CACHE})


@router.get("/brand/colours.css", response_model=None, **OPEN.route())
def colours(request: Request) -> Response:
    """The header in the organisation's colour (a stylesheet: the CSP allows no inline style)."""
    brand = _brand(request)
    if brand.colour is None:
        raise Missing("This hub has no brand colour")
    css = (
        f".govuk-generic-header{{background-color:{brand.colour}}}\n"
        f".govuk-footer{{border-top-color:{brand.colour}}}\n"
    )
    return Response(css, media_type="text/css", headers={"Cache-Control": CACHE})
