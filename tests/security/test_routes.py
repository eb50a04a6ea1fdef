"""Every route declares who may use it, and its dependencies enforce the declaration.

This is the test that fails if a new endpoint reads personal data without the policy decision:
a route declared ``personal-data`` must depend on ``require_purpose`` (and read through
``joinedup.governance.access.read_records``, the only gateway); nothing in the web package may
open dataset snapshots itself.
"""

from __future__ import annotations

import re
from pathlib import Path

from joinedup.web import auth
from joinedup.web.app import create_app
from tests.security.routes import discover, problems
from tests.support import make_settings

WEB = Path(auth.__file__).parent
#: Ways of reading a dataset snapshot's rows: only governance/access.py (and the ingest,
#: store and linkage pipelines) may use them, never the web package.
SNAPSHOT_READS = re.compile(
    r"\b(sql_source|read_parquet|parquet_scan|SnapshotStore|duckdb_session|snapshot_path)\b"
)


def test_every_route_declares_its_access_and_enforces_it(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path / "home"))
    routes = discover(app)
    found = [f"{route.key}: {problem}" for route in routes for problem in problems(route)]
    assert not found, "\n".join(found)
    assert len(routes) > 20


def test_personal_data_routes_need_a_purpose(tmp_path: Path) -> None:
    routes = discover(create_app(make_settings(tmp_path / "home")))
    personal = [r for r in routes if r.access == auth.PERSONAL_DATA]
    assert "GET /api/v1/datasets/{organisation}/{dataset}/records" in {r.key for r in personal}
    assert all(r.requires_purpose for r in personal)


def test_the_checks_catch_undeclared_and_unenforced_routes(tmp_path: Path) -> None:
    """The route walk itself: a route without a declaration, or whose dependencies do not
    enforce it, is reported."""
    from fastapi import APIRouter, Depends

    app = create_app(make_settings(tmp_path / "home"))
    router = APIRouter()

    @router.get("/api/v1/naked")
    def naked() -> None: ...

    @router.get("/api/v1/leaky", openapi_extra=auth.access(auth.PERSONAL_DATA))
    def leaky(_: auth.Principal = Depends(auth.require_scope("read"))) -> None: ...

    @router.post("/form", openapi_extra=auth.access(auth.SIGNED_IN))
    def form(_: auth.Principal = Depends(auth.require_principal)) -> None: ...

    @router.get("/dpo-only", openapi_extra=auth.access(auth.role(auth.Role.DPO)))
    def dpo_only(_: auth.Principal = Depends(auth.require_roles(auth.Role.ANALYST))) -> None: ...

    before = {r.key for r in discover(app)}
    app.include_router(router)
    reported = {r.key: problems(r) for r in discover(app) if r.key not in before}
    assert reported["GET /api/v1/naked"]
    assert reported["GET /api/v1/leaky"]
    assert reported["POST /form"]
    assert reported["GET /dpo-only"]
    assert "declares no access" in reported["GET /api/v1/naked"][0]
    assert any("require_purpose" in p for p in reported["GET /api/v1/leaky"])
    assert any("verify_csrf" in p for p in reported["POST /form"])
    assert any("require_roles(dpo)" in p for p in reported["GET /dpo-only"])


def test_the_web_package_never_reads_snapshots_itself() -> None:
    """Personal data reaches the web only through governance.access.read_records."""
    offenders = []
    for path in sorted(WEB.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if SNAPSHOT_READS.search(line):
                offenders.append(f"{path.relative_to(WEB.parent)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_the_openapi_document_shows_access_and_tokens(tmp_path: Path) -> None:
    schema = create_app(make_settings(tmp_path / "home")).openapi()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            access = operation.get(auth.ACCESS_KEY)
            assert access, f"{method.upper()} {path} declares no access"
            assert ("security" in operation) == (access != auth.PUBLIC), f"{method} {path}"
    records = schema["paths"]["/api/v1/datasets/{organisation}/{dataset}/records"]["get"]
    assert records[auth.ACCESS_KEY] == auth.PERSONAL_DATA
    assert any(p["name"] == auth.PURPOSE_HEADER for p in records["parameters"])
