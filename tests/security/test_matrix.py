"""The authorisation matrix: every principal × every route × own, shared and other organisation.

Routes come from ``app.routes`` (so a new route is in the matrix the moment it exists); what
each principal should get comes from the route's access declaration and dependencies:

* not signed in (or an API token on a page): sent to sign in (303 to ``/sign-in`` / 401);
* an API token without the route's scope: 403 naming the scope;
* a role the route does not allow: 403 "Your role does not allow this";
* a personal-data route without a purpose, or under one the purpose grants register does not
  grant the principal's role: 303 to ``/purpose`` / 403 naming the header;
* a route for one purpose (rights requests, match review) under another: 403 naming it;
* otherwise: let through (any answer that is not one of those refusals, and never a 5xx).

On top of that, :func:`exact_status` pins the exact status for the routes of the catalogue,
uploads, jobs, records and account pages, including object-level rules the declarations
cannot express: an upload for another organisation (403), another organisation's job (404),
another organisation's records with and without a sharing agreement (200 / 403).

Routes whose path (or, for the upload page, form) has an organisation are tried for Lambeth's
own organisation, for Southwark (which shares its census with Lambeth) and for Croydon (no
agreement); job routes for Lambeth's own job and Southwark's. Any other path parameter gets a
value that names nothing, so a route the table does not know cannot change anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from joinedup.governance.tokens import SCOPES
from joinedup.web import auth
from tests.security.conftest import (
    CENSUS,
    DATASET,
    OTHER,
    OWN,
    PURPOSE,
    READ_FIELDS,
    SAR,
    SHARED,
    Hub,
)
from tests.security.routes import RouteInfo, discover
from tests.support import csrf_of

if TYPE_CHECKING:
    from fastapi.testclient import TestClient
    from httpx import Response

ORGS = {"own": OWN, "shared": SHARED, "other": OTHER}
#: Values for path parameters that name nothing (so unknown routes change nothing).
NOTHING: dict[str, str] = {
    "dataset": DATASET,
    "version": "1",
    "name": "person",
    "reference": "NO-SUCH-AGREEMENT",
    "objection_id": "999999",
    "username": "no-such-user",
    "prefix": "nosuchprefix",
}


@dataclass(frozen=True)
class Who:
    """A kind of principal in the matrix."""

    key: str
    kind: str  # "anonymous", "session" or "token"
    username: str | None = None
    role: str | None = None
    purpose: str | None = PURPOSE
    scopes: frozenset[str] = field(default_factory=lambda: frozenset(SCOPES))
    granted: bool = True  # does the register grant ``purpose`` to the role?

    @property
    def hub_admin(self) -> bool:
        return self.role == "hub_admin"

    @property
    def lambeth(self) -> bool:
        return self.username is not None and self.username.startswith("lam-")


PRINCIPALS = [
    Who("anonymous", "anonymous", purpose=None, scopes=frozenset()),
    Who("hub_admin", "session", "admin", "hub_admin", purpose=None),  # granted none
    Who("data_owner", "session", "lam-owner", "data_owner"),
    Who("analyst", "session", "lam-analyst", "analyst"),
    Who("caseworker", "session", "lam-case", "caseworker"),
    Who("dpo", "session", "lam-dpo", "dpo", purpose=SAR),
    Who("analyst-no-purpose", "session", "lam-analyst", "analyst", purpose=None),
    # purposes claimed but not granted (a session cannot choose them; a token can send them)
    Who(
        "caseworker-claims-fraud",
        "token",
        "lam-case",
        "caseworker",
        "fraud-prevention",
        granted=False,
    ),
    Who("analyst-claims-sar", "token", "lam-analyst", "analyst", SAR, granted=False),
    Who("owner-claims-sar", "token", "lam-owner", "data_owner", SAR, granted=False),
    Who("dpo-claims-fsm", "token", "lam-dpo", "dpo", PURPOSE, granted=False),
    *(
        Who(f"token:{scope}", "token", "lam-owner", "data_owner", scopes=frozenset({scope}))
        for scope in SCOPES
    ),
]


# --- what to send ----------------------------------------------------------------------------


def census_file() -> dict[str, Any]:
    return {"file": ("census.csv", CENSUS.encode(), "text/csv")}


@dataclass(frozen=True)
class Sample:
    """How to call a route: query, form or JSON body, files; ``fresh``: on a new session of
    the principal (for calls that change the session itself)."""

    query: str = ""
    data: dict[str, str] | None = None
    json: Any = None
    files: Callable[[], dict[str, Any]] | None = None
    data_for: Callable[[str], dict[str, str]] | None = None  # by organisation
    fresh: bool = False


SAMPLES: dict[str, Sample] = {
    "POST /sign-in": Sample(data={}),
    "POST /sign-out": Sample(data={}, fresh=True),
    "POST /purpose": Sample(data={"purpose": PURPOSE}, fresh=True),
    "GET /api/v1/datasets/{organisation}/{dataset}/records": Sample(query=f"?fields={READ_FIELDS}"),
    "POST /api/v1/datasets/{organisation}/{dataset}/versions": Sample(
        query="?wait=true", data={"standard": "school_census"}, files=census_file
    ),
    "POST /upload": Sample(
        data_for=lambda org: {"organisation": org, "dataset": DATASET, "standard": "school_census"},
        files=census_file,
    ),
}


# --- what should happen ----------------------------------------------------------------------


def classify(response: Response) -> str:
    status = response.status_code
    if status >= 500:
        return "error"
    location = response.headers.get("location", "")
    if status == 401 or (status == 303 and location.startswith("/sign-in?next=")):
        return "sign-in"
    if status == 303 and location.startswith("/purpose"):
        return "purpose"
    if status == 403:
        text = response.text
        if "Your role does not allow this" in text:
            return "role"
        if "API token does not have the" in text:
            return "scope"
        if auth.PURPOSE_HEADER in text:
            return "purpose"
        if "under the purpose " in text:
            return "wrong-purpose"
        if "did not come from this site" in text or "has expired" in text:
            return "csrf"
        return "forbidden"
    return "ok"


ALLOWED = frozenset({"ok", "forbidden"})


def expected_classes(route: RouteInfo, who: Who) -> frozenset[str]:
    """What the declaration says ``who`` gets (a set: when two checks fail, either may say)."""
    no_session = who.kind == "anonymous" or (who.kind == "token" and not route.is_api)
    if route.access == auth.PUBLIC:
        if route.unsafe and who.kind == "token":
            return frozenset({"ok", "csrf"})  # a page form, and a token brings no session
        return frozenset({"ok"})
    if no_session:
        return frozenset(
            {"sign-in", "csrf"} if route.unsafe and who.kind == "token" else {"sign-in"}
        )
    fails = set()
    if who.kind == "token" and route.scopes - who.scopes:
        fails.add("scope")
    if route.roles is not None and who.role not in route.roles:
        fails.add("role")
    if route.access == auth.PERSONAL_DATA and (who.purpose is None or not who.granted):
        fails.add("purpose")
    if route.declared_purpose is not None and who.purpose != route.declared_purpose:
        fails.add("wrong-purpose")
    return frozenset(fails) or ALLOWED


CATALOGUE_PAGES = {
    "GET /datasets",
    "GET /datasets/{organisation}/{dataset}",
    "GET /datasets/{organisation}/{dataset}/versions/{version}",
}
CATALOGUE_API = {
    "GET /api/v1/datasets",
    "GET /api/v1/datasets/{organisation}/{dataset}",
    "GET /api/v1/datasets/{organisation}/{dataset}/versions/{version}",
    "GET /api/v1/datasets/{organisation}/{dataset}/versions/{version}/report",
    "GET /api/v1/jobs",
}
PUBLIC_PAGES = {
    "GET /",
    "GET /accessibility",
    "GET /api",
    "GET /sign-in",
    "GET /healthz",
    "GET /openapi.json",
    "GET /static",
    "GET /api/v1/status",
    "GET /api/v1/standards",
    "GET /api/v1/standards/{name}",
    "GET /api/v1/mappings",
}


def exact_status(key: str, who: Who, variant: str) -> int | None:
    """The exact status for the routes this table knows (None: the declaration decides)."""
    session = who.kind == "session"
    anonymous = who.kind == "anonymous"
    token = who.kind == "token"
    reads = session or (token and "read" in who.scopes)

    def api_read(ok: int = 200) -> int:
        return 401 if anonymous else ok if reads else 403

    if key in PUBLIC_PAGES:
        return 200
    if key == "POST /sign-in":  # an empty form
        return 403 if token else 422
    if key == "POST /sign-out":
        return 403 if token else 303
    if key == "GET /purpose":
        return 200 if session else 303
    if key == "POST /purpose":  # choosing fsm: granted to data owners, analysts, caseworkers
        return 403 if token or who.role in ("hub_admin", "dpo") else 303
    if key in CATALOGUE_PAGES or key == "GET /jobs":
        return 200 if session else 303
    if key == "GET /jobs/{job_id}":
        if not session:
            return 303
        return 200 if variant == "own" or who.hub_admin else 404
    if key in CATALOGUE_API:
        return api_read()
    if key == "GET /api/v1/jobs/{job_id}":
        return api_read(200 if variant == "own" or who.hub_admin else 404)
    if key == "GET /upload":
        if not session:
            return 303
        return 200 if who.role in ("hub_admin", "data_owner") else 403
    if key == "POST /upload":
        if not session:
            return 303
        if who.hub_admin or (who.role == "data_owner" and variant == "own"):
            return 303  # to the job
        return 403
    if key == "POST /api/v1/datasets/{organisation}/{dataset}/versions":
        if anonymous:
            return 401
        if token and "ingest" not in who.scopes:
            return 403
        if who.hub_admin or (who.role == "data_owner" and variant == "own"):
            return 200  # the same file again: recognised, not stored twice
        return 403
    if key == "GET /api/v1/datasets/{organisation}/{dataset}/records":
        if anonymous:
            return 401
        if (token and "read" not in who.scopes) or who.purpose is None or who.hub_admin:
            return 403  # no scope; no purpose; hub admins never read residents
        if not who.granted:
            return 403  # a purpose claimed, not granted
        if variant == "shared":  # the agreement covers fsm only
            return 200 if who.purpose == PURPOSE else 403
        return 200 if variant == "own" else 403
    return None


# --- running it ------------------------------------------------------------------------------


def _client_for(hub: Hub, who: Who) -> TestClient:
    if who.kind == "session":
        assert who.username is not None
        return hub.signed_in(who.username, who.purpose)
    client = hub.client()
    if who.kind == "anonymous":
        client.headers["X-CSRF-Token"] = csrf_of(client.get("/sign-in").text)
    else:
        assert who.username is not None
        token = hub.token(who.username, tuple(sorted(who.scopes)))
        client.headers["Authorization"] = f"Bearer {token}"
        client.headers[auth.PURPOSE_HEADER] = who.purpose or PURPOSE
    return client


#: Routes that name an organisation in their body rather than their path.
ORGANISATION_IN_BODY = {"/upload"}


def _variants(route: RouteInfo) -> list[str]:
    if "organisation" in route.path_params or route.path in ORGANISATION_IN_BODY:
        return list(ORGS)
    if "job_id" in route.path_params:
        return ["own", "other"]
    return ["-"]


def _url(route: RouteInfo, variant: str, hub: Hub) -> str:
    if route.path == "/static":
        return "/static/css/joinedup.css"
    url = route.path.replace("{name:path}", "no-such-mapping.yaml")
    for name in route.path_params:
        if name == "organisation":
            value = ORGS[variant]
        elif name == "job_id":
            value = hub.jobs[variant]
        else:
            value = NOTHING.get(name, "no-such-thing")
        url = url.replace(f"{{{name}}}", value)
    return url


def _call(client: TestClient, route: RouteInfo, method: str, url: str, variant: str) -> Response:
    sample = SAMPLES.get(f"{method} {route.path}", Sample())
    kwargs: dict[str, Any] = {"follow_redirects": False}
    if method != "GET":
        if sample.data_for is not None:
            kwargs["data"] = sample.data_for(ORGS.get(variant, OWN))
        elif sample.json is not None or (route.is_api and sample.data is None):
            kwargs["json"] = sample.json if sample.json is not None else {}
        else:
            kwargs["data"] = sample.data or {}
        if sample.files is not None:
            kwargs["files"] = sample.files()
    return client.request(method, url + sample.query, **kwargs)


@pytest.mark.parametrize("who", PRINCIPALS, ids=lambda w: w.key)
def test_authorisation_matrix(shared_hub: Hub, who: Who) -> None:
    hub = shared_hub
    routes = discover(hub.app)
    client = _client_for(hub, who)
    wrong: list[str] = []
    checked = 0
    for route in routes:
        if route.access is None:
            continue  # test_routes fails for it
        for method in route.methods:
            for variant in _variants(route):
                key = f"{method} {route.path}"
                sample = SAMPLES.get(key, Sample())
                use = _client_for(hub, who) if sample.fresh else client
                response = _call(use, route, method, _url(route, variant, hub), variant)
                checked += 1
                got = classify(response)
                where = f"{who.key} {key} [{variant}]"
                expected = expected_classes(route, who)
                if got not in expected:
                    wrong.append(
                        f"{where}: {response.status_code} ({got}), expected {sorted(expected)}"
                        f" {response.text[:160]!r}"
                    )
                status = exact_status(key, who, variant)
                if status is not None and response.status_code != status:
                    wrong.append(
                        f"{where}: {response.status_code}, expected exactly {status}"
                        f" {response.text[:160]!r}"
                    )
    assert not wrong, f"{len(wrong)} of {checked} checks wrong:\n" + "\n".join(wrong)
    assert checked >= len(routes)
