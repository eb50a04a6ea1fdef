"""Every route of the app with its declared access and the dependencies that enforce it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount, Route

from joinedup.web import auth, guards

#: Routes FastAPI and Starlette add themselves, which cannot carry a declaration.
FRAMEWORK_ROUTES = {"/openapi.json": auth.PUBLIC, "/static": auth.PUBLIC}
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class RouteInfo:
    path: str
    methods: tuple[str, ...]
    name: str
    access: str | None
    calls: tuple[Callable[..., Any], ...]
    framework: bool = False
    declared_roles: tuple[str, ...] = ()  # a personal-data route narrowed to these roles
    declared_purpose: str | None = None  # a personal-data route for one purpose only
    read_only: bool = False  # a public POST that changes nothing (the CKAN Action API)

    @property
    def key(self) -> str:
        return f"{'/'.join(self.methods)} {self.path}"

    @property
    def is_api(self) -> bool:
        return self.path.startswith(auth.API_PREFIX)

    @property
    def unsafe(self) -> bool:
        return bool(UNSAFE & set(self.methods))

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{([^}:]+)(?::[^}]*)?}", self.path)

    @property
    def roles(self) -> frozenset[str] | None:
        if self.access == auth.PERSONAL_DATA and self.declared_roles:
            return frozenset(self.declared_roles)
        if self.access is None or not self.access.startswith("role:"):
            return None
        return frozenset(self.access.removeprefix("role:").split("|"))

    @property
    def scopes(self) -> set[str]:
        return {c.joinedup_scope for c in self.calls if hasattr(c, "joinedup_scope")}

    @property
    def enforced_roles(self) -> list[frozenset[str]]:
        return [c.joinedup_roles for c in self.calls if hasattr(c, "joinedup_roles")]

    @property
    def enforced_purposes(self) -> set[str]:
        """The purposes the route's guards insist on (joinedup.web.guards)."""
        return {c.joinedup_purpose for c in self.calls if getattr(c, "joinedup_purpose", None)}

    @property
    def requires_principal(self) -> bool:
        return any(
            c in (auth.require_principal, auth.require_purpose)
            or hasattr(c, "joinedup_roles")
            or hasattr(c, "joinedup_scope")
            for c in self.calls
        )

    @property
    def requires_purpose(self) -> bool:
        return auth.require_purpose in self.calls

    @property
    def checks_csrf(self) -> bool:
        return auth.verify_csrf in self.calls


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def discover(app: FastAPI) -> list[RouteInfo]:
    """Every route as served, with included routers' prefixes and dependencies applied."""
    found: list[RouteInfo] = []
    for context in iter_route_contexts(app.routes):
        original = context.original_route
        if isinstance(original, APIRoute):
            extra = context.openapi_extra or {}
            found.append(
                RouteInfo(
                    path=str(context.path),
                    methods=tuple(sorted((context.methods or set()) - {"HEAD"})),
                    name=str(context.name),
                    access=extra.get(auth.ACCESS_KEY),
                    calls=tuple(_calls(context.dependant)),
                    declared_roles=tuple(extra.get(auth.ROLES_KEY, ())),
                    declared_purpose=extra.get(guards.PURPOSE_KEY),
                    read_only=bool(extra.get(guards.READ_ONLY_KEY)),
                )
            )
        elif isinstance(original, Route | Mount):
            path = str(context.path)
            methods = tuple(sorted((context.methods or {"GET"}) - {"HEAD"}))
            found.append(
                RouteInfo(
                    path=path,
                    methods=methods,
                    name=str(context.name or ""),
                    access=FRAMEWORK_ROUTES.get(path),
                    calls=(),
                    framework=True,
                )
            )
        else:  # a websocket or something new: it must be looked at
            found.append(RouteInfo(str(context.path), ("?",), "?", None, (), True))
    return found


def problems(route: RouteInfo) -> list[str]:
    """Why this route's declaration is missing or not enforced by its dependencies."""
    out: list[str] = []
    level = route.access
    if level is None:
        return ["declares no access: give it a guard (see joinedup.web.guards)"]
    if route.framework:
        return out
    valid = level in (auth.PUBLIC, auth.SIGNED_IN, auth.PERSONAL_DATA) or (
        level.startswith("role:") and len(level) > 5
    )
    if not valid:
        return [f"declares an unknown access level {level!r}"]
    if level == auth.PUBLIC:
        if route.requires_principal:
            out.append("is declared public but requires a principal")
    elif not route.requires_principal:
        out.append(f"is declared {level} but nothing requires a principal")
    if route.roles is not None and route.roles not in route.enforced_roles:
        out.append(
            f"is declared {level} but no require_roles({', '.join(sorted(route.roles))}) "
            f"dependency enforces it (found {[sorted(r) for r in route.enforced_roles]})"
        )
    purposes = {route.declared_purpose} - {None}
    if purposes != route.enforced_purposes:
        out.append(
            f"declares the purpose(s) {sorted(str(p) for p in purposes)} but its guards enforce "
            f"{sorted(route.enforced_purposes)}"
        )
    if level == auth.PERSONAL_DATA and not route.requires_purpose:
        out.append("is declared personal-data but does not depend on require_purpose")
    if route.is_api and level != auth.PUBLIC and not route.scopes:
        out.append("is a non-public API route without a require_scope(...) dependency")
    if route.read_only and level != auth.PUBLIC:
        out.append("declares itself read-only (no CSRF check) but is not public")
    if route.unsafe and not route.checks_csrf and not route.read_only:
        out.append("changes things but does not depend on verify_csrf")
    return out
