"""What the governance routes share: who may call them, and their documented refusals."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from pydantic import BaseModel

from joinedup.catalog.models import Role
from joinedup.web.auth import (
    Principal,
    access,
    require_principal,
    require_roles,
    require_scope,
    role,
    verify_csrf,
)

SignedIn = Annotated[Principal, Depends(require_principal)]
Owners = Annotated[Principal, Depends(require_roles(Role.DATA_OWNER, Role.DPO))]
DataOwner = Annotated[Principal, Depends(require_roles(Role.DATA_OWNER))]
Dpo = Annotated[Principal, Depends(require_roles(Role.DPO))]
Checker = Annotated[Principal, Depends(require_roles(Role.DPO, Role.HUB_ADMIN))]
HubAdmin = Annotated[Principal, Depends(require_roles(Role.HUB_ADMIN))]
#: Token scope (and, for changes, the CSRF check on cookie-authenticated calls) per route kind.
READ = [Depends(require_scope("read"))]
GOVERN = [Depends(require_scope("governance")), Depends(verify_csrf)]
ADMIN = [Depends(require_scope("admin")), Depends(verify_csrf)]
OWNERS = access(role(Role.DATA_OWNER, Role.DPO))


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
