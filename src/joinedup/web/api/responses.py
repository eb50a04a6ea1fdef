"""The refusals an API route documents: one model and one helper for every module.

Every refusal is answered by the one handler (:mod:`joinedup.web.errors`) as
``{"detail": "..."}``; a route lists the statuses it may answer with :func:`errors`, which
documents each with :class:`Message` and a description (the general one, or the route
module's own wording where it says more).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel


class Message(BaseModel):
    """A refusal: ``{"detail": "..."}``."""

    detail: str


#: What each refusal means, unless a module says more.
DESCRIBED: dict[int, str] = {
    400: "The request is malformed",
    401: "Not signed in, or the token is not valid",
    403: "The caller's role, organisation, purpose or token scope does not allow it",
    404: "Not found",
    409: "The current state does not allow it (the detail says why)",
    413: "The body is larger than the limit",
    415: "The body is not of a type the route accepts",
    422: "The request is not valid (the detail says why)",
}

Responses = dict[int | str, dict[str, Any]]


def errors(*codes: int, described: Mapping[int, str] | None = None) -> Responses:
    """OpenAPI ``responses`` for the refusals ``codes``, each a :class:`Message`; ``described``
    words some of them for the route (``{403: "Not a DPO"}``)."""
    wording = {**DESCRIBED, **(described or {})}
    return {code: {"model": Message, "description": wording[code]} for code in codes}


#: How a multipart upload is refused, before its job: the file upload and the layout routes.
UPLOAD_REFUSALS: Mapping[int, str] = {
    400: "A malformed multipart body",
    403: "Not a data owner of this organisation",
    404: "No such organisation",
    413: "The file is larger than the limit",
    415: "The body is not multipart/form-data",
}


def upload_errors(described: Mapping[int, str] | None = None) -> Responses:
    """OpenAPI ``responses`` for a multipart upload's refusals (401 included), reworded by
    ``described`` where a route refuses for its own reason."""
    return errors(401, *UPLOAD_REFUSALS, described={**UPLOAD_REFUSALS, **(described or {})})
