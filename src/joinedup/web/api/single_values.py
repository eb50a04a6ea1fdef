"""A query parameter the API reads as one value may be given once only.

FastAPI reads the last of ``?organisation=a&organisation=b`` and ignores the rest: a filter the
caller sent would be silently dropped. Every ``/api/v1`` route depends on
:func:`one_value_each`, which refuses such a request with 422 naming the parameter (list
parameters, declared as such, may repeat).
"""

from __future__ import annotations

import collections.abc
import types
import typing
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

SEQUENCES = (list, tuple, set, frozenset, collections.abc.Sequence, collections.abc.Set)


def _is_sequence(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_sequence(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_is_sequence(arg) for arg in typing.get_args(annotation))
    return origin in SEQUENCES or annotation in SEQUENCES


def _query_params(dependant: Dependant) -> list[Any]:
    found = list(dependant.query_params)
    for sub in dependant.dependencies:
        found.extend(_query_params(sub))
    return found


def _single(route: APIRoute) -> frozenset[str]:
    """The route's query parameters that take one value (by the name sent on the wire)."""
    return frozenset(
        param.alias
        for param in _query_params(route.dependant)
        if not _is_sequence(param.field_info.annotation)
    )


async def one_value_each(request: Request) -> None:
    """Refuse (422) a request that repeats a one-value query parameter."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    single = _single(route)
    seen: set[str] = set()
    repeated = []
    for name, _ in request.query_params.multi_items():
        if name in single and name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    if repeated:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", name),
                    "msg": f"Give the query parameter {name!r} once",
                    "input": request.query_params.getlist(name),
                }
                for name in repeated
            ]
        )
