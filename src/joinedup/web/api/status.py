"""``/api/v1/status``: which service and version is answering."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from joinedup import __version__
from joinedup.web.guards import OPEN

tag = {"name": "service", "description": "About this joinedup service."}
router = APIRouter(tags=[tag["name"]])


class Status(BaseModel):
    service: str
    version: str
    api_version: str


@router.get(
    "/status",
    response_model=Status,
    summary="Service name and version",
    **OPEN.route(),
)
def status() -> Status:
    """The service name, the software version and the API version."""
    return Status(service="joinedup", version=__version__, api_version="v1")
