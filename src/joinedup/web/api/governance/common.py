"""What the governance routes share: who may call them, and their documented refusals."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel

from joinedup.catalog.models import Role
from joinedup.web.auth import SIGNED_IN, Principal
from joinedup.web.guards import guard

tag = {
    "name": "governance",
    "description": "Sharing agreements and their lifecycle, the purposes register, the "
    "tamper-evident audit log (DPOs), residents' objections (DPOs), organisations and users "
    "(hub admins).",
}


def resource_router() -> APIRouter:
    """A router for one governance resource (:mod:`joinedup.web.api.governance` joins them)."""
    return APIRouter(tags=[tag["name"]])


#: Who may use each kind of governance route (tokens need ``read`` to read, ``governance`` for
#: agreement, objection and purpose changes, and ``admin`` for organisations and users).
READER = guard(SIGNED_IN, scope="read")
OWNERS = guard(SIGNED_IN, (Role.DATA_OWNER, Role.DPO), scope="governance")
PROVIDERS = guard(SIGNED_IN, (Role.DATA_OWNER,), scope="governance")
REGISTRARS = guard(SIGNED_IN, (Role.HUB_ADMIN,), scope="governance")
DPO_READS = guard(SIGNED_IN, (Role.DPO,), scope="read")
DPO_ACTS = guard(SIGNED_IN, (Role.DPO,), scope="governance")
CHECKERS = guard(SIGNED_IN, (Role.DPO, Role.HUB_ADMIN), scope="read")
ADMIN_READS = guard(SIGNED_IN, (Role.HUB_ADMIN,), scope="read")
ADMIN_ACTS = guard(SIGNED_IN, (Role.HUB_ADMIN,), scope="admin")

SignedIn = Annotated[Principal, READER.depends]
Owners = Annotated[Principal, OWNERS.depends]
DataOwner = Annotated[Principal, PROVIDERS.depends]
Registrar = Annotated[Principal, REGISTRARS.depends]
DpoReading = Annotated[Principal, DPO_READS.depends]
DpoActing = Annotated[Principal, DPO_ACTS.depends]
Checker = Annotated[Principal, CHECKERS.depends]
AdminReading = Annotated[Principal, ADMIN_READS.depends]
AdminActing = Annotated[Principal, ADMIN_ACTS.depends]


class Message(BaseModel):
    detail: str


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The refusals a route documents (each answered as ``{"detail": ...}``)."""
    described = {
        401: "Not signed in, or the token is not valid",
        403: "The caller's role, organisation or token scope does not allow it",
        404: "Not found",
        409: "The current state does not allow it (the detail says why)",
        422: "The request is not valid (the detail says why)",
    }
    return {code: {"model": Message, "description": described[code]} for code in codes}
