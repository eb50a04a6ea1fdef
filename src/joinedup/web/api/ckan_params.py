"""CKAN action parameters: their OpenAPI schemas and how a value from the query string, a JSON
body or a form is read. A parameter the action does not know, or a value of the wrong type, is a
CKAN ``Validation Error`` naming it: nothing is silently ignored."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

MAX_INT = 2**31 - 1
_TRUE = ("true", "True", "1", "yes", "on")
_FALSE = ("false", "False", "0", "no", "off")


class CkanError(Exception):
    """An action's refusal, answered in CKAN's error envelope with its status."""

    STATUS: ClassVar[dict[str, int]] = {
        "Not Found Error": 404,
        "Validation Error": 409,
        "Bad Request": 400,
        "Search Query Error": 409,
        "Authorization Error": 403,
    }

    def __init__(self, kind: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.kind, self.message, self.field = kind, message, field

    @property
    def status(self) -> int:
        return self.STATUS[self.kind]


def invalid(field: str, message: str) -> CkanError:
    return CkanError("Validation Error", f"{field}: {message}", field)


@dataclass(frozen=True)
class Param:
    """One parameter: ``kind`` is text, int, bool, list (of names), object (a mapping) or
    words (text, or a mapping of field → text)."""

    name: str
    kind: str
    description: str
    required: bool = False
    max_length: int = 200

    def query_schema(self) -> dict[str, Any]:
        if self.kind == "int":
            return {"type": "integer", "minimum": 0, "maximum": MAX_INT}
        if self.kind == "bool":
            return {"type": "boolean"}
        if self.kind in ("list", "object", "words"):
            return {"type": "string", "maxLength": 4000}
        return {"type": "string", "maxLength": self.max_length}

    def body_schema(self) -> dict[str, Any]:
        if self.kind == "int":
            number = {"type": "string", "pattern": "^[0-9]{1,9}$"}
            return {"anyOf": [self.query_schema(), number]}
        if self.kind == "bool":
            return {"anyOf": [{"type": "boolean"}, {"type": "string", "enum": ["true", "false"]}]}
        if self.kind == "list":
            items = {"type": "array", "items": {"type": "string", "maxLength": 200}}
            return {"anyOf": [{**items, "maxItems": 100}, self.query_schema()]}
        if self.kind in ("object", "words"):
            return {"anyOf": [{"type": "object"}, self.query_schema()]}
        return self.query_schema()

    def openapi(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "in": "query",
            "required": self.required,
            "description": self.description,
            "schema": self.query_schema(),
        }

    def read(self, raw: Any) -> Any:
        """The value, checked; raises a validation error naming the parameter."""
        reader = getattr(self, f"_{self.kind}")
        return reader(raw)

    def _text(self, raw: Any) -> str:
        if not isinstance(raw, str):
            raise invalid(self.name, "must be a string")
        if len(raw) > self.max_length:
            raise invalid(self.name, f"at most {self.max_length} characters")
        if self.required and not raw:
            raise invalid(self.name, "Missing value")
        return raw

    def _int(self, raw: Any) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise invalid(self.name, "must be a whole number of 0 or more")
        if isinstance(raw, str):
            if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
                raise invalid(self.name, "must be a whole number of 0 or more")
            raw = int(raw)
        if raw < 0 or raw > MAX_INT:
            raise invalid(self.name, f"must be between 0 and {MAX_INT}")
        return raw

    def _bool(self, raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        raise invalid(self.name, "must be true or false")

    def _list(self, raw: Any) -> list[str]:
        if isinstance(raw, str):
            if len(raw) > 4000:
                raise invalid(self.name, "too long")
            text = raw.strip()
            if text.startswith("["):
                try:
                    raw = json.loads(text)
                except ValueError:
                    raise invalid(self.name, "not a JSON list") from None
            else:
                raw = [part.strip() for part in text.split(",") if part.strip()]
        if (
            not isinstance(raw, list)
            or len(raw) > 100
            or not all(isinstance(v, str) and len(v) <= 200 for v in raw)
        ):
            raise invalid(self.name, "a list of up to 100 names")
        return raw

    def _words(self, raw: Any) -> str | dict[str, Any]:
        if isinstance(raw, str) and not raw.lstrip().startswith("{"):
            if len(raw) > self.max_length:
                raise invalid(self.name, f"at most {self.max_length} characters")
            return raw
        return self._object(raw)

    def _object(self, raw: Any) -> dict[str, Any]:
        if isinstance(raw, str):
            if len(raw) > 4000:
                raise invalid(self.name, "too long")
            try:
                raw = json.loads(raw)
            except ValueError:
                raise invalid(self.name, "not a JSON object") from None
        if not isinstance(raw, dict):
            raise invalid(self.name, "not a JSON object")
        return raw


def read_params(params: tuple[Param, ...], given: dict[str, Any]) -> dict[str, Any]:
    """The given values, read by their declarations; unknown names are refused."""
    known = {p.name: p for p in params}
    unknown = sorted(set(given) - set(known))
    if unknown:
        names = ", ".join(repr(n[:40]) for n in unknown[:5])
        supported = ", ".join(known) or "none"
        raise CkanError(
            "Validation Error",
            f"Unsupported parameter(s) {names}; this action takes: {supported}",
            unknown[0][:40],
        )
    out = {name: known[name].read(value) for name, value in given.items()}
    for param in params:
        if param.required and out.get(param.name) in (None, ""):
            raise invalid(param.name, "Missing value")
    return out
