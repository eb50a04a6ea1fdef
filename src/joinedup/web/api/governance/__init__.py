"""``/api/v1``: sharing agreements, purposes, the audit log, objections, organisations, users.

One module per resource; each route is a thin adapter over the use cases in
:mod:`joinedup.governance.service` (the pages call the same functions), and a refusal they
raise is answered by the one handler in :mod:`joinedup.web.errors`.

API tokens need the ``read`` scope for reads, ``governance`` for agreement, objection and
purpose changes, and ``admin`` for organisations and users.
"""

from __future__ import annotations

from fastapi import APIRouter

from joinedup.web.api.governance import admin, agreements, audit, objections

tag = {
    "name": "governance",
    "description": "Sharing agreements and their lifecycle, the purposes register, the "
    "tamper-evident audit log (DPOs), residents' objections (DPOs), organisations and users "
    "(hub admins).",
}
router = APIRouter(tags=[tag["name"]])
for _module in (agreements, audit, objections, admin):
    router.include_router(_module.router)
