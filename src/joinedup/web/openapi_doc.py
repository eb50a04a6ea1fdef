"""Make the OpenAPI document say every status the app really answers with, so that clients
(and schemathesis's conformance checks) can trust it:

* an operation that needs sign-in may answer 401 (no or a bad token) and 403 (a role, scope,
  organisation or purpose that does not allow it);
* an operation with a body may answer 400 (a body that cannot be parsed) and 413;
* 422 is either a refusal ``{"detail": "..."}`` or FastAPI's list of validation errors.

Statuses an operation already documents keep their own wording."""

from __future__ import annotations

from typing import Any

from joinedup.web.auth import ACCESS_KEY, PUBLIC

MESSAGE = {
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string"}},
}
VALIDATION = {
    "type": "object",
    "properties": {"detail": {"anyOf": [{"type": "string"}, {"type": "array", "items": {}}]}},
}
SIGNED_IN = {
    "401": "Not signed in, or the token is not valid",
    "403": "The caller's role, organisation, purpose or token scope does not allow it",
}
BODY = {"400": "The body cannot be parsed", "413": "The body is larger than the limit"}


def _answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if operation.get("tags") == ["ckan"]:
                continue  # CKAN's own envelope, documented by web.api.ckan
            responses = operation["responses"]
            wanted = {}
            if operation.get(ACCESS_KEY, PUBLIC) != PUBLIC:
                wanted.update(SIGNED_IN)
            if "requestBody" in operation:
                wanted.update(BODY)
            for status, description in wanted.items():
                responses.setdefault(status, _answer(description, MESSAGE))
            if "422" in responses:
                described = responses["422"].get("description", "Validation error")
                responses["422"] = _answer(described, VALIDATION)
    return schema


def install(app: Any) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        cached = app.openapi_schema is not None
        schema: dict[str, Any] = original()
        return schema if cached else complete(schema)

    app.openapi = openapi
