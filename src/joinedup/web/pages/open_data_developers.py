"""``/open-data/developers``: how to use the open data from code, with curl and ckanapi
examples built from the portal's own current datasets (so every example works as shown;
``tests/publish/test_developer_page.py`` runs them against a live server)."""

from __future__ import annotations

import json
import shlex
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from joinedup.publish.ckan import download_paths, resource_id
from joinedup.publish.releases import ReleaseView, public_releases
from joinedup.web.guards import OPEN
from joinedup.web.pages import PageSection
from joinedup.web.templating import render

router = APIRouter(include_in_schema=False)
section = PageSection(router=router)


def _post(base: str, action: str, body: dict[str, Any]) -> str:
    return (
        f"curl -s -X POST {base}/api/3/action/{action} \\\n"
        f"  -H 'Content-Type: application/json' \\\n  -d {shlex.quote(json.dumps(body))}"
    )


def examples(base: str, view: ReleaseView | None) -> dict[str, list[dict[str, str]]]:
    """The page's examples: ``curl`` (shell), ``python`` (ckanapi) and ``cli`` (the ckanapi
    command), each ``{"title", "code"}``, for the current dataset ``view`` (if any)."""
    curl = [
        {"title": "List the datasets", "code": f"curl -s {base}/api/3/action/package_list"},
        {
            "title": "Search: a filter query, sorted, with facets",
            "code": _post(
                base,
                "package_search",
                {"fq": "res_format:CSV", "sort": "name asc", "facet.field": ["tags"], "rows": 5},
            ),
        },
    ]
    python = [
        f"from ckanapi import RemoteCKAN\n\nhub = RemoteCKAN({base!r})  # POSTs, as CKAN's "
        "clients do\nprint(hub.action.package_list())\n"
        'found = hub.action.package_search(fq="res_format:CSV", sort="metadata_modified desc")\n'
        'print(found["count"], [d["name"] for d in found["results"]])'
    ]
    cli = [f"ckanapi action package_list -r {base}"]
    if view is not None:
        rid = resource_id(view)
        names = [f["name"] for f in view.fields]
        csv = base + download_paths(view)["csv"]
        curl += [
            {
                "title": "Rows of a table, sorted, only some fields",
                "code": f"curl -s '{base}/api/3/action/datastore_search?resource_id={rid}"
                f"&sort={names[0]}%20desc&fields=_id,{','.join(names[:2])}&limit=5'",
            },
            {
                "title": "SQL over the published tables (one read-only SELECT)",
                "code": _post(
                    base,
                    "datastore_search_sql",
                    {"sql": f'SELECT {names[0]}, count(*) AS n FROM "{rid}" GROUP BY 1'},
                ),
            },
            {"title": "Check a file without downloading it (HEAD)", "code": f"curl -sI {csv}"},
        ]
        python.append(
            f"from ckanapi import RemoteCKAN\n\nhub = RemoteCKAN({base!r})\n"
            f"page = hub.action.datastore_search(\n    resource_id={rid!r}, "
            f"sort={names[0] + ' desc'!r}, fields={names[:2]!r}, limit=5\n)\n"
            'for record in page["records"]:\n    print(record)'
        )
        cli += [
            f"ckanapi action package_show id={view.publication} -r {base}",
            f"ckanapi dump datasets --all -O datasets.jsonl -r {base}",
        ]
    curl.append(
        {
            "title": "The DCAT-AP catalogue as Turtle",
            "code": f"curl -s {base}/open-data/catalog.ttl",
        }
    )
    return {
        "curl": curl,
        "python": [{"title": "", "code": code} for code in python],
        "cli": [{"title": "", "code": code} for code in cli],
    }


@router.get("/open-data/developers", response_class=HTMLResponse, **OPEN.route())
async def developers(request: Request) -> HTMLResponse:
    views = await run_in_threadpool(public_releases, request.app.state.settings)
    current = min(views, key=lambda v: v.publication) if views else None
    base = str(request.base_url).rstrip("/")
    return render(
        request,
        "pages/open_data/developers.html",
        {"examples": examples(base, current), "base": base, "view": current},
    )
