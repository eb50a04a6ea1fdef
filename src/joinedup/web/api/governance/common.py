"""What the governance routes share: who may call them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

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
