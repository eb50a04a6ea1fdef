"""Open standards: the shipped Frictionless Table Schemas and their loader.

>>> from joinedup.standards import list_standards, load_schema, field_names
>>> "person" in list_standards()
True

See docs/standards.md for every standard, its fields, code lists and custom checks.
"""

from joinedup.standards.checks import FIELD_CHECKS, ROW_CHECKS, FieldCheck, RowCheck
from joinedup.standards.registry import (
    REDACTED,
    REDACTION_MARKERS_KEY,
    REDACTION_PATTERN,
    StandardDefinitionError,
    UnknownStandardError,
    extends,
    field,
    field_names,
    fields_with_check,
    frictionless_schema,
    is_person_standard,
    linkage_fields,
    list_standards,
    load_schema,
    marker_key,
    personal_fields,
    primary_key,
    redactable_fields,
    redaction_markers,
    required_fields,
    row_checks,
    special_category_fields,
)

__all__ = [
    "FIELD_CHECKS",
    "REDACTED",
    "REDACTION_MARKERS_KEY",
    "REDACTION_PATTERN",
    "ROW_CHECKS",
    "FieldCheck",
    "RowCheck",
    "StandardDefinitionError",
    "UnknownStandardError",
    "extends",
    "field",
    "field_names",
    "fields_with_check",
    "frictionless_schema",
    "is_person_standard",
    "linkage_fields",
    "list_standards",
    "load_schema",
    "marker_key",
    "personal_fields",
    "primary_key",
    "redactable_fields",
    "redaction_markers",
    "required_fields",
    "row_checks",
    "special_category_fields",
]
