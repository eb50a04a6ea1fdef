"""One guard per kind of access, which both enforces it and declares it.

``guard(level, roles=(), purpose=None, scope=None)`` is a FastAPI dependency: use it as the
route's dependency (``**GUARD.route()``) and, where the route needs the caller, in the type of
its principal parameter (``Annotated[Principal, GUARD.depends]``; FastAPI runs it once per
request).
The route's OpenAPI ``x-joinedup-access`` (and ``x-joinedup-roles``, ``x-joinedup-purpose``)
is written from the same object, so what a route declares and what it enforces cannot drift;
``tests/security`` walks the routes to prove every one is guarded.

What a guard checks, in this order: the token's ``scope`` (sessions have every scope), for
forms and changes the CSRF token (``route(csrf=True)``), a signed-in principal
(``signed-in``) or one acting under a registered purpose (``personal-data``), one of
``roles``, and the ``purpose`` itself. Each check is the existing
dependency in :mod:`joinedup.web.auth`, so pages still redirect to sign in or to choose a
purpose, and the API still answers 401/403 JSON.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header
from fastapi.params import Depends as DependsParam

from joinedup.catalog.models import Role
from joinedup.errors import JoinedupError
from joinedup.linkage.review import REVIEW_PURPOSE
from joinedup.rights.common import SAR_PURPOSE
from joinedup.web.auth import (
    PERSONAL_DATA,
    PUBLIC,
    PURPOSE_HEADER,
    SIGNED_IN,
    Principal,
    access,
    require_principal,
    require_purpose,
    require_roles,
    require_scope,
    role,
    verify_csrf,
)

PURPOSE_KEY = "x-joinedup-purpose"
LEVELS = (PUBLIC, SIGNED_IN, PERSONAL_DATA)


class WrongPurpose(JoinedupError):
    """The caller acts under another purpose than the route's (403); the message says which."""

    status = 403

    def __init__(self, purpose: str, message: str) -> None:
        super().__init__(message)
        self.purpose = purpose


class Guard:
    """Who may use a route, as one object: see the module docstring."""

    def __init__(
        self,
        level: str,
        roles: tuple[Role, ...] = (),
        purpose: str | None = None,
        scope: str | None = None,
        refusal: str | None = None,
    ) -> None:
        if level not in LEVELS:
            raise ValueError(f"unknown access level {level!r}; levels: {', '.join(LEVELS)}")
        if level == PUBLIC and (roles or purpose or scope):
            raise ValueError("a public route has no roles, purpose or scope")
        if purpose is not None and level != PERSONAL_DATA:
            raise ValueError("only personal-data routes name a purpose")
        self.level = level
        self.roles = tuple(roles)
        self.purpose = purpose
        self.scope = scope
        self.refusal = refusal or f"Act under the purpose '{purpose}' for this"
        self.depends: DependsParam = Depends(self._enforcer(csrf=False))
        #: The same, with the CSRF check of forms and changes in its place (after the token's
        #: scope, before who the caller is: a page form without its token is refused first).
        self.depends_csrf: DependsParam = Depends(self._enforcer(csrf=True))

    def __repr__(self) -> str:
        return (
            f"guard({self.level!r}, roles={tuple(str(r) for r in self.roles)}, "
            f"purpose={self.purpose!r}, scope={self.scope!r})"
        )

    @property
    def declared(self) -> dict[str, Any]:
        """The route's ``openapi_extra``: its access level, roles and purpose."""
        if self.roles and self.level == SIGNED_IN:
            declared = access(role(*self.roles))
        else:
            declared = access(self.level, roles=self.roles)
        if self.purpose is not None:
            declared[PURPOSE_KEY] = self.purpose
        return declared

    def admits(self, principal: Principal | None) -> bool:
        """Whether this person may use the route, whatever purpose they act under now (a
        page asks for the purpose on the way in): the same level, scope and role checks
        the route enforces. The service navigation shows a section only to those it admits.
        """
        if self.level == PUBLIC:
            return True
        if principal is None:
            return False
        if self.scope is not None and self.scope not in principal.scopes:
            return False
        return not self.roles or principal.has_role(*self.roles)

    def route(self, *, csrf: bool = False, openapi: dict[str, Any] | None = None) -> dict[str, Any]:
        """Keyword arguments for ``@router.get(...)`` and friends: the declaration (with any
        other ``openapi`` extras) and the enforcing dependency (and, for forms and changes,
        the CSRF check)."""
        dependency = self.depends_csrf if csrf else self.depends
        return {"openapi_extra": {**(openapi or {}), **self.declared}, "dependencies": [dependency]}

    def _enforcer(self, *, csrf: bool) -> Callable[..., Principal | None]:
        """The dependency: its parameters are the checks in :mod:`joinedup.web.auth` (so the
        dependency graph shows each of them), and its body checks the purpose."""
        wanted: list[tuple[str, Any]] = []
        if self.scope is not None:
            wanted.append(("scoped", Depends(require_scope(self.scope))))
        if csrf:
            wanted.append(("csrf", Depends(verify_csrf)))
        # the role before the purpose: someone whose role may never use the route is refused,
        # not sent to choose a purpose that would not help
        if self.roles:
            wanted.append(("in_role", Depends(require_roles(*self.roles))))
        if self.level == PERSONAL_DATA:
            wanted.append(("principal", Depends(require_purpose)))
        elif self.level == SIGNED_IN:
            wanted.append(("principal", Depends(require_principal)))
        params = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[Any, dep])
            for name, dep in wanted
        ]
        if self.level == PERSONAL_DATA:
            about = f": `{self.purpose}`" if self.purpose else " (a purpose code from the register)"
            params.append(
                inspect.Parameter(
                    "purpose_header",
                    inspect.Parameter.KEYWORD_ONLY,
                    default=None,
                    annotation=Annotated[
                        str | None,
                        Header(
                            alias=PURPOSE_HEADER,
                            description=f"With an API token, the purpose you act under{about}. "
                            "A browser session uses the purpose chosen on /purpose.",
                        ),
                    ],
                )
            )
        purpose, refusal = self.purpose, self.refusal

        def enforce(**found: Any) -> Principal | None:
            principal: Principal | None = found.get("principal")
            if purpose is not None and (principal is None or principal.purpose != purpose):
                raise WrongPurpose(purpose, refusal)
            return principal

        enforce.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        enforce.joinedup_guard = self  # type: ignore[attr-defined]
        enforce.joinedup_purpose = purpose  # type: ignore[attr-defined]
        return enforce


def guard(
    level: str,
    roles: tuple[Role, ...] = (),
    purpose: str | None = None,
    scope: str | None = None,
    refusal: str | None = None,
) -> Guard:
    """The guard for routes of this access: see :class:`Guard`."""
    return Guard(level, roles, purpose, scope, refusal)


def guard_of(route: Any) -> Guard | None:
    """The guard a route was declared with (``**GUARD.route()``), or ``None``."""
    for dependency in getattr(route, "dependencies", ()):
        found = getattr(dependency.dependency, "joinedup_guard", None)
        if isinstance(found, Guard):
            return found
    return None


# --- guards that API routes and pages share -----------------------------------------------------

#: Anyone, signed in or not (the route reads nothing that is not public).
#: ``openapi_extra`` key of a public POST route that changes nothing (the CKAN Action API takes
#: POST for its reads, as CKAN does): it needs no CSRF check, which protects changes. Only a
#: public route may declare it (tests/security/routes.py checks).
READ_ONLY_KEY = "x-joinedup-read-only"
OPEN = guard(PUBLIC)
#: Any signed-in user (pages).
SIGNED_IN_USER = guard(SIGNED_IN)
#: Any signed-in user; API tokens need the ``read`` scope.
READER = guard(SIGNED_IN, scope="read")
#: Personal data, read under the purpose the caller acts under (tokens: ``read``).
PERSONAL_READER = guard(PERSONAL_DATA, scope="read")

#: Residents' rights requests are answered by a DPO acting under ``subject-access``.
RIGHTS_REFUSAL = f"Act under the purpose '{SAR_PURPOSE}' for rights requests"
#: Clerical review is resident index maintenance: analysts acting under ``linkage``.
REVIEW_REFUSAL = (
    "Reviewing matches is part of resident index maintenance: act under the purpose "
    f"'{REVIEW_PURPOSE}'"
)
