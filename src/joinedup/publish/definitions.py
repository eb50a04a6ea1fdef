"""Publication definitions (``joinedup-publication/1``), validated on load.

Two kinds:

* ``indicator-aggregate``: residents flagged by indicator rules, counted by ward and month
  (with local-authority and regional totals). Derived from personal data, so disclosure
  control is always on: the 10-5 rule, secondary suppression and, optionally, cell-key
  perturbation. It cannot be switched off.
* ``dataset``: the latest versions of a non-personal standard (such as ``spend``) from every
  council, as one regional table. A standard with personal fields is refused.

Errors name the file (or ``definition``) and the path: ``fsm.yaml: indicators[0]: unknown
indicator rule 'fsm-x'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from joinedup.errors import JoinedupError
from joinedup.standards import is_person_standard, list_standards, personal_fields

FORMAT = "joinedup-publication/1"
SHIPPED = Path(__file__).parent / "publications"
NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{2,63}$"
#: DCAT-AP frequencies (EU vocabulary) by the names a definition uses.
FREQUENCIES = {
    "monthly": "http://publications.europa.eu/resource/authority/frequency/MONTHLY",
    "quarterly": "http://publications.europa.eu/resource/authority/frequency/QUARTERLY",
    "annual": "http://publications.europa.eu/resource/authority/frequency/ANNUAL",
    "weekly": "http://publications.europa.eu/resource/authority/frequency/WEEKLY",
    "irregular": "http://publications.europa.eu/resource/authority/frequency/IRREG",
}
Frequency = Literal["monthly", "quarterly", "annual", "weekly", "irregular"]
#: The EU data themes (DCAT-AP's ``dcat:theme`` vocabulary) by code, with their English labels.
THEMES = {
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport",
    "ENER": "Energy",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "INTR": "International issues",
    "JUST": "Justice, legal system and public safety",
    "REGI": "Regions and cities",
    "SOCI": "Population and society",
    "TECH": "Science and technology",
    "TRAN": "Transport",
}
Theme = (
    Literal["AGRI", "ECON", "EDUC", "ENER", "ENVI", "GOVE", "HEAL", "INTR", "JUST", "REGI", "SOCI"]
    | Literal["TECH", "TRAN"]
)
#: A definition without ``theme``: aggregates of residents are about society; datasets are
#: the public sector's own records.
DEFAULT_THEMES = {"indicator-aggregate": ["SOCI"], "dataset": ["GOVE"]}


class PublicationError(JoinedupError, ValueError):
    """A publication definition that is not valid (the message names the file and path)."""

    names_field = True


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Disclosure(_Strict):
    """Disclosure control for tables derived from personal data (always on)."""

    rule: Literal["10-5"] = "10-5"
    threshold: int = Field(default=10, ge=10, le=100, description="Suppress counts under this")
    rounding_base: int = Field(default=5, ge=5, le=10, description="Round other counts to this")
    perturbation: Literal["none", "cell-key"] = "none"


class _Common(_Strict):
    format: Literal["joinedup-publication/1"]
    name: str = Field(pattern=NAME_PATTERN, description="The dataset's name in URLs and CKAN")
    title: str = Field(min_length=3, max_length=200)
    description: str = Field(min_length=10, max_length=4000)
    frequency: Frequency = "monthly"
    keywords: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=20
    )
    theme: list[Theme] = Field(
        default_factory=list, max_length=5, description="EU data themes (DCAT-AP dcat:theme)"
    )


class IndicatorAggregate(_Common):
    kind: Literal["indicator-aggregate"]
    indicators: list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$")]] = Field(
        min_length=1, max_length=20
    )
    area: Literal["ward"] = "ward"
    period: Literal["month"] = "month"
    disclosure: Disclosure = Disclosure()


class DatasetPublication(_Common):
    kind: Literal["dataset"]
    standard: str = Field(min_length=1, max_length=64)


Definition = Annotated[IndicatorAggregate | DatasetPublication, Field(discriminator="kind")]
_ADAPTER: TypeAdapter[IndicatorAggregate | DatasetPublication] = TypeAdapter(Definition)


def _path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{item}]"]
        elif item not in ("indicator-aggregate", "dataset"):  # the union's branch name
            parts.append(str(item))
    return ".".join(parts) or "(document)"


def parse_definition(
    document: Any, source: str = "definition", rule_ids: set[str] | None = None
) -> IndicatorAggregate | DatasetPublication:
    """Validate a definition document; ``rule_ids`` are the indicator rules that exist."""
    if not isinstance(document, dict):
        raise PublicationError(f"{source}: a publication definition is a mapping")
    try:
        definition = _ADAPTER.validate_python(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = "unknown field"
        where = _path(tuple(first["loc"]))
        if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
            message, where = "must be 'indicator-aggregate' or 'dataset'", "kind"
        raise PublicationError(f"{source}: {where}: {message}") from None
    if isinstance(definition, IndicatorAggregate) and rule_ids is not None:
        for i, rule in enumerate(definition.indicators):
            if rule not in rule_ids:
                raise PublicationError(
                    f"{source}: indicators[{i}]: unknown indicator rule {rule!r}"
                )
        if len(set(definition.indicators)) != len(definition.indicators):
            raise PublicationError(f"{source}: indicators: an indicator is listed twice")
    if isinstance(definition, DatasetPublication):
        if definition.standard not in list_standards():
            raise PublicationError(f"{source}: standard: unknown standard {definition.standard!r}")
        if is_person_standard(definition.standard) or personal_fields(definition.standard):
            raise PublicationError(
                f"{source}: standard: {definition.standard} holds personal data; publish it "
                "as an indicator-aggregate with disclosure control instead"
            )
    return definition


def load_definition(
    path: Path, rule_ids: set[str] | None = None
) -> IndicatorAggregate | DatasetPublication:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PublicationError(f"{path.name}: cannot read: {exc}") from None
    return parse_definition(document, path.name, rule_ids)


def known_rule_ids() -> set[str]:
    from joinedup.insight.rules import load_rules

    return {r.id for r in load_rules()}


def shipped_definitions() -> list[IndicatorAggregate | DatasetPublication]:
    """The publications the demo releases (``publish/publications/*.yaml``)."""
    rule_ids = known_rule_ids()
    return [load_definition(p, rule_ids) for p in sorted(SHIPPED.glob("*.yaml"))]
