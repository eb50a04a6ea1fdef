"""Every page the demo hub serves fits the window at 1,280 and 320 px (WCAG 1.4.10 reflow):
``document.documentElement.scrollWidth`` is never more than ``window.innerWidth``. Wide
tables scroll inside their own labelled region instead.

Each person (a visitor, and each role acting under a purpose granted to them) walks the hub
from the home page, following every link to a page (not to a download, the API or a static
file), one page per kind of address: per route of the app (``/jobs/{job_id}`` once, not once
per job; ``/datasets/{organisation}/{dataset}`` once, not once per council's dataset). A kind
whose first address the person may not open is tried again at its next address, and the walk
must end with every kind it found walked. Every page is also checked with axe, including the
``region`` rule (all content inside a landmark)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount, compile_path

from tests.browser.conftest import LiveServer, serve_home, sign_in_for
from tests.regions import Region

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = (1280, 320)
#: Who walks the hub: username (None: a visitor).
PEOPLE = {
    "visitor": None,
    "caseworker": "lambeth.caseworker",
    "data owner": "lambeth.data-owner",
    "analyst": "hub.analyst",
    "dpo": "hub.dpo",
    "hub admin": "hub.hub-admin",
}
#: Addresses that are not pages for reading: files, the API, actions.
NOT_PAGES = re.compile(
    r"^/(api|static|brand|metrics|healthz|openapi\.json|docs|redoc)/|^/sign-out"
    r"|\.(csv|json|jsonld|ttl|svg|pdf|geojson|parquet|zip|txt)$|/download\b"
)
#: A bound on a walk's page loads in case the walk runs away; every kind it found must be
#: walked within it (the app has about 80 routes that answer GET, most of them files or
#: pages a person never sees all of).
MAX_PAGES = 150
#: axe's best-practice landmark rules (not among the WCAG tags), run in the same pass as the
#: WCAG rules: content outside every landmark (such as a back link before <main>), one
#: <main>, and landmarks told apart.
LANDMARK_RULES = ("region", "landmark-one-main", "landmark-unique")
#: Resolves once the page has laid itself out at the window's width (resize and media-query
#: handlers run before the next frame's callbacks), or after a second if no frame comes.
NEXT_FRAMES = """() => new Promise((done) => {
  requestAnimationFrame(() => requestAnimationFrame(done))
  setTimeout(done, 1000)
})"""


Templates = list[tuple[re.Pattern[str], str]]


def route_templates(app: Any) -> Templates:
    """The app's routes that answer GET, in the order its router tries them: (the path's
    pattern, the route's template)."""
    found = []
    for context in iter_route_contexts(app.routes):
        methods = context.methods or {"GET"}
        if context.path and "GET" in methods and not isinstance(context.original_route, Mount):
            found.append((compile_path(str(context.path))[0], str(context.path)))
    return found


def kind_of(path: str, templates: Templates) -> str:
    """The kind of page an address is: the template of the first route that matches it, as
    the router would pick it (``/datasets/{organisation}/{dataset}``), so one page per route
    is visited; a query string makes its own kind (``/datasets?``). An address no route
    matches keeps its path with ids and numbers replaced."""
    bare, query = path.split("?")[0], "?" if "?" in path else ""
    for regex, template in templates:
        if regex.match(bare):
            return template + query
    parts = []
    for part in bare.split("/"):
        if re.fullmatch(r"v?\d+|[0-9a-f]{8,}(-[0-9a-f]{4,})*|[A-Z]\d{8}", part):
            part = "{id}"
        parts.append(part)
    return "/".join(parts) + query


@pytest.fixture(scope="module")
def live_server(demo_home: Region) -> Iterator[LiveServer]:
    """This module only reads: the session's demo region, served as it is."""
    with serve_home(demo_home.settings) as server:
        yield server


def _settle(page: Any) -> None:
    """Let the page finish laying out at the window's width: two frames, and on a page with
    charts 150 ms more, for Vega to draw them at that width."""
    page.evaluate(NEXT_FRAMES)
    if page.locator("[data-vega-spec]").count():
        page.wait_for_timeout(150)


def _links(page: Any, origin: str) -> list[str]:
    hrefs = page.evaluate(
        "() => [...document.querySelectorAll('a[href]')]"
        ".filter(a => !a.hasAttribute('download')).map(a => a.href)"
    )
    out = []
    for href in hrefs:
        url = urlsplit(href)
        if f"{url.scheme}://{url.netloc}" != origin or NOT_PAGES.search(url.path):
            continue
        out.append(url.path + (f"?{url.query}" if url.query else ""))
    return out


@pytest.mark.parametrize("person", PEOPLE)
def test_every_page_fits_the_window_at_1280_and_320_px(
    person: str,
    page: Any,
    live_server: LiveServer,
    demo_home: Region,
    assert_accessible: Any,
) -> None:
    username = PEOPLE[person]
    if username is not None:
        sign_in_for(page, "/sign-in", username, demo_home.logins[username])
        page.goto("/purpose")
        assert_accessible(page)
        radios = page.locator("input[name='purpose']")
        if radios.count():  # act under the first purpose granted, so personal pages open too
            radios.first.check()
            page.get_by_role("button", name="Continue").click()
            page.wait_for_load_state("load")
            assert_accessible(page)
    origin = live_server.url
    templates = route_templates(live_server.app)
    queue, visited = ["/"], []
    walked: set[str] = set()  # kinds walked (or found to be files)
    refused: set[str] = set()  # addresses this person may not open
    wide: list[str] = []
    outside: list[str] = []
    width = WIDTHS[0]  # the window's width now; axe runs at the first
    loads = 0
    while queue and loads < MAX_PAGES:
        path = queue.pop(0)
        kind = kind_of(path, templates)
        if kind in walked or path in refused:
            continue
        loads += 1
        response = page.goto(path)
        redirected = "/sign-in" in page.url and not path.startswith("/sign-in")
        if response is None or response.status >= 400 or redirected:
            refused.add(path)  # the kind's next address (another council's...) may open
            if width != WIDTHS[0]:
                width = WIDTHS[0]
                page.set_viewport_size({"width": width, "height": 900})
            assert_accessible(page)
            continue  # a page this person may not open: not theirs to check
        walked.add(kind)
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue  # a file (Turtle, SVG…) linked from a page, not a page
        visited.append(path)
        # both widths from one load: first the width the window has (the last page's
        # second), then the other, so the window changes size once a page
        for measured in sorted(WIDTHS, key=lambda w: w != width):
            if measured != width:
                width = measured
                page.set_viewport_size({"width": width, "height": 900})
            _settle(page)
            scroll, window = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            if scroll > window:
                wide.append(f"{path} is {scroll}px wide at {window}px")
            if width == WIDTHS[0]:  # axe (WCAG and landmarks in one pass), and the links
                outside += [
                    f"{path}: {v['id']}: {', '.join(map(str, n['target']))}"
                    for v in assert_accessible(page, LANDMARK_RULES)
                    for n in v["nodes"]
                ]
                queue += [link for link in _links(page, origin) if link not in queue]
    assert len(visited) >= 3, visited
    unwalked = sorted({kind_of(p, templates) for p in queue if p not in refused} - walked)
    assert not unwalked, f"{person}: stopped at {MAX_PAGES} loads before: {unwalked}"
    assert not wide, f"{person}: pages wider than the window:\n" + "\n".join(wide)
    assert not outside, f"{person}: content outside a landmark:\n" + "\n".join(outside)
