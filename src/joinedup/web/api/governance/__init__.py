"""``/api/v1``: sharing agreements, purposes, the audit log, objections, organisations, users.

One module per resource; each route is a thin adapter over the use cases in
:mod:`joinedup.governance.service` (the pages call the same functions), and a refusal they
raise is answered by the one handler in :mod:`joinedup.web.errors`.

API tokens need the ``read`` scope for reads, ``governance`` for agreement, objection,
purpose and purpose grant changes, and ``admin`` for organisations and users.
"""

from __future__ import annotations

from fastapi import APIRouter

from joinedup.web.api.governance import admin, agreements, audit, grants, objections
from joinedup.web.api.governance.common import tag

#: The resources, in the order their routes are served and documented.
RESOURCES = (grants, agreements, audit, objections, admin)
router = APIRouter(tags=[tag["name"]])
for _resource in RESOURCES:
    router.routes.extend(_resource.router.routes)
