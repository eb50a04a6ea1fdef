"""``/api``: the JSON API described as a GOV.UK page, built from the OpenAPI document.

We do not serve Swagger UI or ReDoc (see docs/adr/0002-web-stack.md): they load from a CDN by
default, need inline scripts, and are not accessible. ``/openapi.json`` is the machine-readable
description; this page is the human-readable one.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from joinedup.web.guards import OPEN
from joinedup.web.pages import PageSection
from joinedup.web.templating import render

router = APIRouter(include_in_schema=False)
section = PageSection(router=router)

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def operations_by_tag(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """``[{"name", "description", "operations": [{"method", "path", "summary"}]}]``."""
    described = {tag["name"]: tag.get("description", "") for tag in schema.get("tags", [])}
    groups: dict[str, list[dict[str, str]]] = {}
    for path, item in sorted(schema.get("paths", {}).items()):
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            tag = (operation.get("tags") or ["other"])[0]
            groups.setdefault(tag, []).append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary") or operation.get("operationId", ""),
                }
            )
    order = list(described) + sorted(set(groups) - set(described))
    return [
        {"name": name, "description": described.get(name, ""), "operations": groups[name]}
        for name in order
        if name in groups
    ]


@router.get("/api", response_class=HTMLResponse, **OPEN.route())
def api_docs(request: Request) -> HTMLResponse:
    schema = request.app.openapi()
    context = {
        "api_title": schema["info"]["title"],
        "openapi_version": schema.get("openapi", ""),
        "groups": operations_by_tag(schema),
    }
    return render(request, "pages/api.html", context)
