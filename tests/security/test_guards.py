"""One guard both enforces and declares a route's access (joinedup.web.guards)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter

from joinedup.catalog.models import Role
from joinedup.web import auth, guards
from joinedup.web.app import create_app
from tests.security.routes import discover, problems
from tests.support import make_settings


def test_a_guard_declares_what_it_enforces(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path / "home"))
    router = APIRouter()
    reviewer = guards.guard(auth.PERSONAL_DATA, (Role.ANALYST,), purpose="linkage", scope="read")
    owners = guards.guard(auth.SIGNED_IN, (Role.DATA_OWNER, Role.DPO), scope="governance")

    @router.get("/api/v1/guarded", **reviewer.route())
    def guarded() -> None: ...

    @router.post("/api/v1/owners", **owners.route(csrf=True))
    def owned() -> None: ...

    @router.get("/api/v1/claims", openapi_extra={**reviewer.declared})
    def claims() -> None: ...

    before = {r.key for r in discover(app)}
    app.include_router(router)
    found = {r.key: r for r in discover(app) if r.key not in before}
    assert problems(found["GET /api/v1/guarded"]) == []
    assert found["GET /api/v1/guarded"].declared_purpose == "linkage"
    assert found["GET /api/v1/guarded"].enforced_purposes == {"linkage"}
    assert problems(found["POST /api/v1/owners"]) == []
    assert found["POST /api/v1/owners"].access == "role:data_owner|dpo"
    # Declaring a guard's access without depending on it is caught, purpose included.
    claimed = problems(found["GET /api/v1/claims"])
    assert any("purpose" in p for p in claimed)
    assert any("require_purpose" in p for p in claimed)


def test_every_purpose_bound_route_declares_its_purpose(tmp_path: Path) -> None:
    routes = discover(create_app(make_settings(tmp_path / "home")))
    bound = {r.key: r.declared_purpose for r in routes if r.declared_purpose}
    assert bound["GET /api/v1/linkage/runs"] == "linkage"
    assert bound["POST /api/v1/rights/find"] == "subject-access"
    assert bound["GET /linkage/review"] == "linkage"
    assert bound["GET /rights"] == "subject-access"
    assert all(r.enforced_purposes == {r.declared_purpose} for r in routes if r.declared_purpose)


def test_guards_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="unknown access level"):
        guards.guard("everyone")
    with pytest.raises(ValueError, match="public route"):
        guards.guard(auth.PUBLIC, scope="read")
    with pytest.raises(ValueError, match="personal-data"):
        guards.guard(auth.SIGNED_IN, purpose="linkage")
