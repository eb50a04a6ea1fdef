"""Rules on a model's text fields that the OpenAPI document states and the model enforces.

``Annotated[str, Matching(pattern, message)]`` puts ``pattern`` in the field's JSON Schema (so
clients and schemathesis see the rule) and refuses a value that does not match it with
``message`` (a sentence a person can act on, where pydantic would print the regular
expression). An anchored pattern (``^…$``) is matched whole, as JSON Schema means it: a
trailing newline does not match ``$`` here either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

#: Not blank: at least one character that is not white space.
NOT_BLANK = r"\S"


@dataclass(frozen=True)
class Matching:
    """A string field's pattern (in the JSON Schema) and the message when a value misses it."""

    pattern: str
    message: str
    _compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        inner = self.pattern[1:-1] if self._whole else self.pattern
        object.__setattr__(self, "_compiled", re.compile(f"(?:{inner})"))

    @property
    def _whole(self) -> bool:
        return self.pattern.startswith("^") and self.pattern.endswith("$")

    def check(self, value: str) -> str:
        matcher = self._compiled.fullmatch if self._whole else self._compiled.search
        if matcher(value) is None:
            raise PydanticCustomError("string_pattern_mismatch", self.message)
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        json_schema = handler(schema)
        handler.resolve_ref_schema(json_schema)["pattern"] = self.pattern
        return json_schema
