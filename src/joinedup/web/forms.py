"""Pages validate their forms through the API's pydantic models: one statement of each rule.

A page gathers the form into the model's shape and calls :func:`validate`; pydantic's errors
come back as GOV.UK messages by form field. The limits (lengths, required fields, list sizes)
are stated once, in the model; a page only says how to word them for its fields
(:class:`Wording`) and, where its inputs are named differently, where each ``loc`` is on the
form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from joinedup.errors import JoinedupError
from joinedup.web.templating import render

Model = TypeVar("Model", bound=BaseModel)

#: Pydantic error types that mean "nothing given" and "too long".
EMPTY = frozenset({"missing", "string_too_short", "too_short"})
TOO_LONG = frozenset({"string_too_long", "too_long"})


@dataclass(frozen=True)
class Wording:
    """How a form words the errors of one field: ``empty`` when nothing is given (``Enter a
    title``; also when an empty choice is not one of the model's), ``name`` to start "… must
    be N characters or fewer", ``invalid`` for the rest."""

    empty: str = ""
    name: str = ""
    invalid: str = ""

    def message(self, error: Mapping[str, Any]) -> str:
        kind = str(error["type"])
        if (kind in EMPTY or error.get("input") == "") and self.empty:
            return self.empty
        if kind in TOO_LONG and self.name:
            limit = (error.get("ctx") or {}).get("max_length")
            return f"{self.name} must be {limit} characters or fewer"
        return self.invalid or str(error["msg"])


def first_field(loc: tuple[int | str, ...]) -> str:
    """The form field of an error: the model field it is about."""
    return str(loc[0]) if loc else ""


def validate(
    model: type[Model],
    data: Mapping[str, Any],
    wording: Mapping[str, Wording],
    errors: dict[str, str],
    field_of: Callable[[tuple[int | str, ...]], str] = first_field,
) -> Model | None:
    """``model`` from ``data``, or None with each problem added to ``errors`` (by form field,
    keeping a message the page has already put there)."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        for error in exc.errors():
            field = field_of(tuple(error["loc"]))
            errors.setdefault(field, wording.get(field, Wording()).message(error))
        return None


async def confirmed(
    request: Request,
    step: Callable[[], object],
    template: str,
    context: Callable[[], dict[str, Any]],
    done: str,
) -> Response:
    """Take a step confirmed on a page (deactivate, withdraw …): 303 to ``done`` when it is
    taken; refused, the confirmation page again with the refusal and its status (a 404 is the
    error page, from the one handler). ``step`` and ``context`` run off the event loop."""
    try:
        await run_in_threadpool(step)
    except JoinedupError as exc:
        if exc.status == 404:
            raise
        values = await run_in_threadpool(context)
        return render(request, template, {**values, "error": exc.detail}, status_code=exc.status)
    return RedirectResponse(done, status_code=303)


def error_summary(
    errors: Mapping[str, str],
    order: Sequence[str] = (),
    anchors: Mapping[str, str] | None = None,
) -> list[dict[str, str]]:
    """The GOV.UK error summary's items: each field's error, in the form's ``order`` (then any
    other field's, as found), linking to its input (``anchors`` gives the input's id where it
    is not the field's name)."""
    keys = [k for k in order if k in errors] + [k for k in errors if k not in order]
    return [{"text": errors[k], "href": "#" + (anchors or {}).get(k, k)} for k in keys]


def date_parts(form: Any, name: str) -> dict[str, str]:
    """A GOV.UK date input's three parts (``name-day``, ``name-month``, ``name-year``)."""
    return {part: str(form.get(f"{name}-{part}", "")).strip() for part in ("day", "month", "year")}


def parse_date(parts: dict[str, str], label: str) -> tuple[date | None, str | None]:
    """A GOV.UK date input's value, or the error message to show (naming it by ``label``)."""
    missing = [p for p in ("day", "month", "year") if not parts[p]]
    if len(missing) == 3:
        return None, f"Enter the {label}"
    if missing:
        return None, f"The {label} must include a {' and '.join(missing)}"
    if not all(parts[p].isdigit() for p in parts) or len(parts["year"]) != 4:
        return None, f"The {label} must be a real date"
    try:
        return date(int(parts["year"]), int(parts["month"]), int(parts["day"])), None
    except ValueError:
        return None, f"The {label} must be a real date"
