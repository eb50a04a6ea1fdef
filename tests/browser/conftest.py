"""Browser-test fixtures: the real app under uvicorn, headless Chromium, and axe-core.

* ``live_server``: the app from ``create_app`` served by uvicorn on a free port of 127.0.0.1,
  in a background thread, with a fresh initialised ``JOINEDUP_HOME`` (one per session).
* ``browser`` (in ``tests/conftest.py``, so that tests outside this folder share it): Debian's
  Chromium (``/usr/bin/chromium``; ``scripts/ensure-chromium.sh`` installs it), one per
  worker. We never run ``playwright install``.
* ``page``: a fresh page whose requests may not leave 127.0.0.1 (anything else is blocked
  and reported), and which records console errors, page errors and CSP violations. At
  teardown it fails the test if any page the test loaded was never checked with axe, or if
  anything was blocked, logged as an error or refused by the CSP.
* ``visit(page, path)``: opens a page and runs every check on it (status, axe, clean).
* ``assert_accessible(page)``: runs axe-core (from the npm package, served from the vendor
  folder) with the WCAG 2.0/2.1/2.2 A and AA rules and fails on any violation. Use it again
  after anything that changes the page.
* ``sign_in_as(username)``: signs ``page`` in through the sign-in form as one of
  :data:`BROWSER_ACCOUNTS` (created in the live server's home if need be), checking each page
  on the way. ``as_hub_admin``: the same for the hub admin, for tests that only need to be
  signed in (``@pytest.mark.usefixtures("as_hub_admin")``).
* ``sign_in_for(page, path, username, password, purpose)``: sign in through the form at
  ``path`` (``/sign-in``, ``/sign-in?next=/worklist``) as a demo home's people do, and choose
  the purpose the next page asks for first when given (every journey signs in through it).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from joinedup.config import Settings
from joinedup.web.app import STATIC_DIR
from tests.support import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_PATH = "/static/vendor/axe/axe.min.js"
LOCAL_HOST = "127.0.0.1"

# Records security-policy violations from the first moment of every document. Init scripts
# are injected by the browser, not the page, so the page's CSP does not apply to them.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || 'inline'} (${where})`
  );
});
"""


BROWSER_PASSWORD = PASSWORD
#: username -> (organisation code, organisation type, role)
BROWSER_ACCOUNTS: dict[str, tuple[str, str, str]] = {
    "browser-admin": ("browser-hub", "hub", "hub_admin"),
    "browser-analyst": ("browser-council", "council", "analyst"),
}


#: A caseworker's way in on a demo home: the worklist, under the free school meals purpose.
WORKLIST = "/sign-in?next=/worklist"
FSM = "Free school meals auto-enrolment"


@dataclass
class LiveServer:
    url: str
    settings: Settings
    app: Any = None  # the app served (its routes, for tests that walk them)

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@contextmanager
def serve_home(settings: Settings, **uvicorn_options: Any) -> Iterator[LiveServer]:
    """The app for an existing home, under uvicorn on a free port (for modules whose pages
    need a built region); ``uvicorn_options`` override the quiet logging defaults."""
    import uvicorn

    from joinedup.catalog.db import dispose_engines
    from joinedup.web.app import create_app

    previous = os.environ.get("JOINEDUP_HOME")
    os.environ["JOINEDUP_HOME"] = str(settings.home)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOCAL_HOST, 0))
    port = sock.getsockname()[1]
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            **{"log_level": "warning", "access_log": False, "lifespan": "on", **uvicorn_options},
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 90  # generous: CI machines are loaded
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the app did not start under uvicorn")
        time.sleep(0.02)
    try:
        yield LiveServer(url=f"http://{LOCAL_HOST}:{port}", settings=settings, app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        if previous is None:
            os.environ.pop("JOINEDUP_HOME", None)
        else:
            os.environ["JOINEDUP_HOME"] = previous
        dispose_engines()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from joinedup.home import init_home

    if not (STATIC_DIR / "vendor" / ".stamp").is_file():
        pytest.fail("front-end assets are not built: run scripts/build-assets.sh (make assets)")

    home = tmp_path_factory.mktemp("browser") / "home"
    settings = Settings(home=home, secret_key="browser-test-secret")
    init_home(settings)
    with serve_home(settings) as server:
        yield server


@dataclass
class PageRecord:
    """What happened on a page: anything here (except ``checked``) fails the test."""

    blocked_requests: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)

    def problems(self) -> list[str]:
        return [
            *(f"request left {LOCAL_HOST}: {url}" for url in self.blocked_requests),
            *(f"failed to load: {text}" for text in self.failed_responses),
            *(f"console error: {text}" for text in self.console_errors),
            *(f"page error: {text}" for text in self.page_errors),
            *(f"CSP violation: {text}" for text in self.csp_violations),
        ]


RECORDS: dict[int, PageRecord] = {}


def _document_url(url: str) -> str:
    """The URL without its fragment: moving to ``#main-content`` is not a new page."""
    return url.split("#", 1)[0]


def record_of(page: Any) -> PageRecord:
    return RECORDS[id(page)]


def _elsewhere(url: str) -> bool:
    """An HTTP request to a host other than 127.0.0.1 (``data:`` and ``blob:`` stay in)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.hostname != LOCAL_HOST


def keep_local(context: Any, page: Any, record: PageRecord) -> None:
    """Requests from ``page`` may not leave 127.0.0.1: each one elsewhere is recorded and
    fails with ``net::ERR_BLOCKED_BY_CLIENT``. Through the DevTools protocol, not Playwright's
    ``route``: routing pauses every request and turns the HTTP cache off, which doubled the
    CPU of a page load (the CSS, scripts and axe fetched and parsed again on every page).
    Here only a page's own documents pause (one round trip a navigation) and Chromium
    blocks other hosts' subresources itself."""
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.setBlockedURLs",
        {
            "urlPatterns": [
                {"urlPattern": f"http://{LOCAL_HOST}:*/*", "block": False},
                {"urlPattern": "*://*:*/*", "block": True},
            ]
        },
    )

    def paused(event: dict[str, Any]) -> None:
        if _elsewhere(event["request"]["url"]):
            cdp.send(
                "Fetch.failRequest",
                {"requestId": event["requestId"], "errorReason": "BlockedByClient"},
            )
        else:
            cdp.send("Fetch.continueRequest", {"requestId": event["requestId"]})

    cdp.on("Fetch.requestPaused", paused)
    documents = {"urlPattern": "*", "resourceType": "Document", "requestStage": "Request"}
    cdp.send("Fetch.enable", {"patterns": [documents]})
    page.on(
        "request",
        lambda request: (
            record.blocked_requests.append(request.url) if _elsewhere(request.url) else None
        ),
    )


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    record = PageRecord()

    new_page = context.new_page()
    RECORDS[id(new_page)] = record
    keep_local(context, new_page, record)

    def on_console(message: Any) -> None:
        # "Failed to load resource" duplicates a response we see below, where a page's own
        # status (say, 404 for the not-found page) can be told apart from a broken asset.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            record.console_errors.append(message.text)

    def on_response(response: Any) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            record.failed_responses.append(f"HTTP {response.status} {response.url}")

    new_page.on("console", on_console)
    new_page.on("response", on_response)
    new_page.on("pageerror", lambda exc: record.page_errors.append(str(exc)))
    new_page.on(
        "framenavigated",
        lambda frame: (
            record.loaded.append(_document_url(frame.url))
            if frame == new_page.main_frame and frame.url.startswith("http")
            else None
        ),
    )
    try:
        yield new_page
        collect_csp_violations(new_page)
        unchecked = [url for url in record.loaded if url not in record.checked]
        problems = record.problems()
        problems += [f"page loaded but never checked with axe: {url}" for url in unchecked]
        assert not problems, "\n".join(problems)
    finally:
        RECORDS.pop(id(new_page), None)
        context.close()


def collect_csp_violations(page: Any) -> None:
    record = record_of(page)
    try:
        found = page.evaluate("window.__cspViolations || []")
    except Exception:  # page closed or navigating: nothing to collect
        return
    for violation in found:
        if violation not in record.csp_violations:
            record.csp_violations.append(violation)


def _assert_accessible(page: Any, also: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now and fail on any WCAG A/AA violation.

    ``also`` names further axe rules outside those tags (best practices, such as ``region``)
    to run in the same pass; their violations are returned, for the caller to judge."""
    page.wait_for_load_state("load")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(url=AXE_PATH)
    results = page.evaluate(
        """async ([tags, also]) => await window.axe.run(document, {
             runOnly: {type: 'tag', values: tags},
             rules: Object.fromEntries(also.map((rule) => [rule, {enabled: true}])),
             resultTypes: ['violations']
           })""",
        [AXE_TAGS, list(also)],
    )
    record_of(page).checked.add(_document_url(page.url))
    extra = [v for v in results["violations"] if v["id"] in also]
    violations = [v for v in results["violations"] if v["id"] not in also]
    if violations:
        lines = [f"{len(violations)} accessibility violation(s) on {page.url}:"]
        for violation in violations:
            lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
            lines.append(f"  {violation['helpUrl']}")
            for node in violation["nodes"][:5]:
                lines.append(f"    at {', '.join(map(str, node['target']))}")
                lines.append(f"       {node['failureSummary']}".replace("\n", " "))
        pytest.fail("\n".join(lines))
    return extra


def _assert_clean(page: Any) -> None:
    """No blocked requests, console errors, page errors or CSP violations so far."""
    collect_csp_violations(page)
    problems = record_of(page).problems()
    assert not problems, "\n".join(problems)


def _visit(page: Any, path: str, expected_status: int = 200) -> Any:
    """Open ``path``, check the status, axe and the page's cleanliness; returns the response."""
    response = page.goto(path)
    assert response is not None
    assert response.status == expected_status, f"{path}: HTTP {response.status}"
    _assert_accessible(page)
    _assert_clean(page)
    return response


@pytest.fixture
def assert_accessible() -> Any:
    """``assert_accessible(page)``: axe the page as it is now (say, after a click)."""
    return _assert_accessible


@pytest.fixture
def assert_clean() -> Any:
    """``assert_clean(page)``: no blocked requests, console or page errors, CSP violations."""
    return _assert_clean


@pytest.fixture
def page_record(page: Any) -> PageRecord:
    """What the ``page`` fixture has recorded so far (for tests of the checks themselves)."""
    return record_of(page)


@pytest.fixture
def visit() -> Any:
    """``visit(page, path, expected_status=200)``: open a page and run every check on it."""
    return _visit


def ensure_browser_account(settings: Settings, username: str) -> None:
    """Create one of :data:`BROWSER_ACCOUNTS`, its organisation and the purposes (idempotent)."""
    from sqlalchemy import select

    from joinedup.catalog.db import session_scope
    from joinedup.catalog.models import User
    from joinedup.governance.accounts import create_user
    from joinedup.governance.organisations import ensure_organisation
    from joinedup.governance.purposes import ensure_default_purposes

    organisation, kind, role = BROWSER_ACCOUNTS[username]
    with session_scope(settings) as session:
        ensure_default_purposes(session)
        name = organisation.replace("-", " ").title()
        ensure_organisation(session, code=organisation, name=name, type=kind)
        if session.scalars(select(User).where(User.username == username)).first() is None:
            create_user(
                session,
                username=username,
                display_name=username.replace("-", " ").title(),
                organisation=organisation,
                role=role,
                password=BROWSER_PASSWORD,
            )


def _sign_in(page: Any, settings: Settings, username: str) -> None:
    ensure_browser_account(settings, username)
    _visit(page, "/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: not url.endswith("/sign-in"))
    _assert_accessible(page)
    _assert_clean(page)


@pytest.fixture
def sign_in_as(page: Any, live_server: LiveServer) -> Any:
    """``sign_in_as(username)``: sign ``page`` in through the form (each page axe-checked)."""
    return lambda username: _sign_in(page, live_server.settings, username)


@pytest.fixture
def as_hub_admin(sign_in_as: Any) -> None:
    """``page`` signed in as the hub admin (sees every job, may upload for any council)."""
    sign_in_as("browser-admin")


def sign_in_for(
    page: Any,
    path: str,
    username: str,
    password: str,
    purpose: str | None = None,
    *,
    checked: bool = True,
) -> None:
    """Sign ``page`` in through the form at ``path`` (``/sign-in?next=/worklist``).

    With ``purpose`` (its label), choose it on the purpose page (pages holding personal data
    ask for it first) and wait for the ``next`` page; without it, wait for whichever page the
    hub sends the person to (their home, the ``next`` page, or the purpose page, which the
    caller then answers). With ``checked`` (a page of the ``page`` fixture) each page on the
    way is checked with axe, and the last for cleanliness."""
    if checked:
        _visit(page, path)
    else:
        page.goto(path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    if purpose is None:
        page.wait_for_url(lambda url: "/sign-in" not in url)
    else:
        next_path = parse_qs(urlsplit(path).query)["next"][0]
        page.wait_for_url("**/purpose**")
        if checked:
            _assert_accessible(page)
        page.get_by_label(purpose).check()
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(f"**{next_path}")
    if checked:
        _assert_accessible(page)
        _assert_clean(page)
