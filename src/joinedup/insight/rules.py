"""Indicator rules: YAML an analyst can read and write, validated on load.

A rule (``format: joinedup-rule/1``) is a condition over the linked view: the source records
of residents and households (``sources``, each one standard's records, read under the rule's
purpose), joined to a *subject* record by resident or household, with conditions written as
SQL expressions over ``alias.field``. Date-effective ``versions`` add the condition in force at
the rule's ``as_at`` date. See docs/insight.md for the format; :mod:`joinedup.insight.compile`
turns a rule into DuckDB SQL.

Every problem is a :class:`RuleError` naming the file and the field (``fsm.yaml: sources.claim.
fields: unknown field 'incom' of standard benefit_claim``). Messages never quote data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import sqlglot
import yaml
from sqlglot import expressions as exp

from joinedup.errors import InvalidInput
from joinedup.standards import field_names, is_person_standard, list_standards
from joinedup.standards.sentences import check_template

FORMAT = "joinedup-rule/1"
SEVERITIES = {"high": 3, "medium": 2, "low": 1}
ORGANISATION_SCOPES = ("own", "any")
LINKS = ("resident", "household")
REQUIRES = ("present", "absent")
#: Names an expression may use unqualified: the rule's date, the run's date, the acting
#: organisation's GSS code and code.
SPECIAL_NAMES = ("as_at", "run_date", "actor_gss", "actor_code")
#: Columns every source row carries besides its standard's fields.
SOURCE_COLUMNS = (
    "resident_id",
    "household_id",
    "household_residents",
    "_organisation",
    "_dataset",
    "_version",
    "_date",
    "_row",
)
#: ``standard: person`` reads the core person fields of every person-standard dataset.
ANY_PERSON = "person"

_RULE_KEYS = {
    "format",
    "id",
    "name",
    "description",
    "purpose",
    "severity",
    "subject",
    "as_at",
    "sources",
    "where",
    "versions",
    "reasons",
    "identity",
    "exclude_disputed",
    "reason",
}
_SOURCE_KEYS = {
    "standard",
    "organisations",
    "fields",
    "where",
    "derive",
    "latest_per",
    "link",
    "require",
    "when",
    "description",
}
_VERSION_KEYS = {"version", "effective_from", "description", "where"}


class RuleError(InvalidInput):
    """A rule file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Source:
    """One kind of source record a rule reads: a standard, from whom, which fields."""

    alias: str
    standard: str
    organisations: str
    fields: tuple[str, ...]
    where: tuple[str, ...] = ()
    derive: dict[str, str] = field(default_factory=dict)
    latest_per: tuple[str, ...] = ()
    link: str | None = None
    require: str = "present"
    when: tuple[str, ...] = ()
    description: str = ""

    @property
    def columns(self) -> set[str]:
        """Every column an expression may name on this source."""
        return {*self.fields, *self.derive, *SOURCE_COLUMNS}

    def needs(self, column: str) -> tuple[str, ...]:
        """The standard's fields a column is computed from (for the policy on display)."""
        if column in self.fields:
            return (column,)
        if column in self.derive:
            out: list[str] = []
            for ref_alias, ref in column_refs(self.derive[column]):
                if ref_alias == self.alias and ref != column:
                    out.extend(self.needs(ref))
            return tuple(dict.fromkeys(out))
        return ()


@dataclass(frozen=True)
class Version:
    """A date-effective version of the rule's condition."""

    version: str
    effective_from: date
    where: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    description: str
    purpose: str
    severity: str
    subject: str
    sources: dict[str, Source]
    where: tuple[str, ...] = ()
    versions: tuple[Version, ...] = ()
    reasons: tuple[tuple[str, str], ...] = ()
    identity: tuple[tuple[str, str], ...] = ()
    as_at: str = "run_date"
    file: str = ""
    #: leave out the fields residents dispute (docs/rights.md): they read as missing
    exclude_disputed: bool = False
    #: the reason as a sentence, with ``{alias.field}`` placeholders (insight/reasons.py)
    reason: str = ""

    @property
    def severity_rank(self) -> int:
        return SEVERITIES[self.severity]

    def version_at(self, day: date) -> Version | None:
        """The version in force on ``day`` (the latest that has started), if any."""
        current = None
        for v in self.versions:
            if v.effective_from <= day:
                current = v
        return current

    def fields_of(self, standard: str) -> set[str]:
        return {f for s in self.sources.values() if s.standard == standard for f in s.fields}

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "purpose": self.purpose,
            "severity": self.severity,
            "subject": self.subject,
            "sources": {
                a: {
                    "standard": s.standard,
                    "organisations": s.organisations,
                    "fields": list(s.fields),
                    "link": s.link,
                    "require": s.require,
                }
                for a, s in self.sources.items()
            },
            "versions": [
                {"version": v.version, "effective_from": v.effective_from.isoformat()}
                for v in self.versions
            ],
            "reason": self.reason,
            "file": self.file,
        }


def column_refs(expression: str) -> list[tuple[str | None, str]]:
    """(alias, column) for every column an SQL expression names (alias None if unqualified)."""
    tree = sqlglot.parse_one(expression, read="duckdb")
    out = []
    for col in tree.find_all(exp.Column):
        out.append((col.table or None, col.name))
    return out


class _Checker:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, where: str, message: str) -> RuleError:
        return RuleError(f"{self.file}: {where}: {message}")

    def mapping(self, value: Any, where: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "must be a mapping")
        for key in value:
            if key not in allowed:
                raise self.fail(
                    f"{where}.{key}" if where else str(key),
                    f"unknown field (expected one of {', '.join(sorted(allowed))})",
                )
        return value

    def text(self, value: Any, where: str, *, required: bool = True) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "must be non-empty text")
        return value.strip()

    def texts(self, value: Any, where: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(where, "must be a list of text")
        return tuple(v.strip() for v in value)

    def choice(self, value: Any, where: str, options: tuple[str, ...] | set[str]) -> str:
        if value not in options:
            raise self.fail(where, f"must be one of {', '.join(sorted(options))}")
        return str(value)

    def expression(
        self,
        text: str,
        where: str,
        sources: dict[str, Source],
        *,
        aliases: set[str] | None = None,
        aggregates: bool = False,
    ) -> str:
        try:
            tree = sqlglot.parse_one(text, read="duckdb")
        except sqlglot.errors.ParseError:
            raise self.fail(where, "is not a valid SQL expression") from None
        if isinstance(tree, exp.Query | exp.Command | exp.DDL | exp.DML) or tree.find(exp.Select):
            raise self.fail(where, "must be an expression, not a query or statement")
        if not aggregates and tree.find(exp.AggFunc) and not tree.find(exp.Window):
            raise self.fail(where, "may not aggregate outside a window (OVER ...)")
        allowed = set(sources) if aliases is None else aliases
        for col in tree.find_all(exp.Column):
            alias, name = col.table, col.name
            if not alias:
                if name not in SPECIAL_NAMES:
                    raise self.fail(
                        where,
                        f"unknown name '{name}': write alias.field "
                        f"(or one of {', '.join(SPECIAL_NAMES)})",
                    )
                continue
            if alias not in allowed:
                raise self.fail(
                    where,
                    f"unknown source '{alias}' (this expression may use "
                    f"{', '.join(sorted(allowed)) or 'no source'})",
                )
            if name not in sources[alias].columns:
                raise self.fail(
                    where,
                    f"unknown field '{alias}.{name}': '{alias}' reads "
                    f"{', '.join(sorted(sources[alias].fields))} (declare it in "
                    f"sources.{alias}.fields)",
                )
        return text


def _fields_of(standard: str) -> set[str]:
    return set(field_names(standard))


def parse_rule(data: Any, file: str = "<rule>") -> Rule:
    """Validate a rule document (parsed YAML) and return the :class:`Rule`."""
    c = _Checker(file)
    doc = c.mapping(data, "", _RULE_KEYS)
    if doc.get("format") != FORMAT:
        raise c.fail("format", f"must be {FORMAT}")
    rule_id = c.text(doc.get("id"), "id")
    if not all(ch.isalnum() or ch == "-" for ch in rule_id) or not rule_id[0].isalpha():
        raise c.fail("id", "must be letters, digits and hyphens, starting with a letter")
    raw_sources = doc.get("sources")
    if not isinstance(raw_sources, dict) or not raw_sources:
        raise c.fail("sources", "must map at least one alias to a source")
    subject = c.text(doc.get("subject"), "subject")
    if subject not in raw_sources:
        raise c.fail("subject", f"unknown source '{subject}' (sources: {', '.join(raw_sources)})")
    sources: dict[str, Source] = {}
    person_standards = [s for s in list_standards() if is_person_standard(s)]
    for alias, raw in raw_sources.items():
        where = f"sources.{alias}"
        if not isinstance(alias, str) or not alias.isidentifier() or alias.startswith("_"):
            raise c.fail(where, "an alias is a name (letters, digits, underscores)")
        if alias in SPECIAL_NAMES:
            raise c.fail(where, f"'{alias}' is reserved")
        src = c.mapping(raw, where, _SOURCE_KEYS)
        standard = c.choice(src.get("standard"), f"{where}.standard", set(person_standards))
        known = _fields_of(standard)
        fields = c.texts(src.get("fields"), f"{where}.fields")
        for f in fields:
            if f not in known:
                raise c.fail(f"{where}.fields", f"unknown field '{f}' of standard {standard}")
        derive = src.get("derive") or {}
        if not isinstance(derive, dict) or not all(
            isinstance(k, str) and k.isidentifier() and isinstance(v, str)
            for k, v in derive.items()
        ):
            raise c.fail(f"{where}.derive", "must map names to SQL expressions")
        for name in derive:
            if name in known or name in SOURCE_COLUMNS:
                raise c.fail(f"{where}.derive.{name}", "is already a field; choose another name")
        is_subject = alias == subject
        link = src.get("link")
        if is_subject:
            if link is not None:
                raise c.fail(f"{where}.link", "the subject source is not linked to itself")
            if src.get("require", "present") != "present" or src.get("when"):
                raise c.fail(where, "the subject source cannot be absent or have 'when'")
        else:
            link = c.choice(link, f"{where}.link", LINKS)
        sources[alias] = Source(
            alias=alias,
            standard=standard,
            organisations=c.choice(
                src.get("organisations", "own"), f"{where}.organisations", ORGANISATION_SCOPES
            ),
            fields=fields,
            where=c.texts(src.get("where"), f"{where}.where"),
            derive={str(k): str(v) for k, v in derive.items()},
            latest_per=c.texts(src.get("latest_per"), f"{where}.latest_per"),
            link=link,
            require=c.choice(src.get("require", "present"), f"{where}.require", REQUIRES),
            when=c.texts(src.get("when"), f"{where}.when"),
            description=c.text(src.get("description"), f"{where}.description", required=False),
        )
    present = {a for a, s in sources.items() if s.require == "present"}
    for alias, source in sources.items():
        where = f"sources.{alias}"
        own = {alias}
        for name, text in source.derive.items():
            c.expression(text, f"{where}.derive.{name}", sources, aliases=own, aggregates=True)
        for i, text in enumerate(source.where):
            c.expression(text, f"{where}.where[{i}]", sources, aliases=own)
        for key in source.latest_per:
            if key not in source.columns:
                raise c.fail(f"{where}.latest_per", f"unknown field '{key}'")
        for i, text in enumerate(source.when):
            c.expression(text, f"{where}.when[{i}]", sources, aliases=present | own)
    as_at = c.text(doc.get("as_at", "run_date"), "as_at")
    c.expression(as_at, "as_at", sources, aliases=present)
    where_list = c.texts(doc.get("where"), "where")
    for i, text in enumerate(where_list):
        c.expression(text, f"where[{i}]", sources, aliases=present)
    versions: list[Version] = []
    raw_versions = doc.get("versions") or []
    if not isinstance(raw_versions, list):
        raise c.fail("versions", "must be a list")
    for i, raw in enumerate(raw_versions):
        where = f"versions[{i}]"
        v = c.mapping(raw, where, _VERSION_KEYS)
        start = v.get("effective_from")
        if isinstance(start, str):
            try:
                start = date.fromisoformat(start)
            except ValueError:
                start = None
        if not isinstance(start, date):
            raise c.fail(f"{where}.effective_from", "must be a date (YYYY-MM-DD)")
        conditions = c.texts(v.get("where"), f"{where}.where")
        for j, text in enumerate(conditions):
            c.expression(text, f"{where}.where[{j}]", sources, aliases=present)
        versions.append(
            Version(
                version=c.text(v.get("version"), f"{where}.version"),
                effective_from=start,
                where=conditions,
                description=c.text(v.get("description"), f"{where}.description", required=False),
            )
        )
    if [v.effective_from for v in versions] != sorted({v.effective_from for v in versions}):
        raise c.fail("versions", "must be in order of effective_from, each on its own date")
    if len({v.version for v in versions}) != len(versions):
        raise c.fail("versions", "version names must be unique")

    def refs(key: str) -> tuple[tuple[str, str], ...]:
        out = []
        for i, text in enumerate(c.texts(doc.get(key), key)):
            alias, _, column = text.partition(".")
            if alias not in present or not column:
                raise c.fail(f"{key}[{i}]", f"'{text}' must be alias.field of a present source")
            if column not in sources[alias].columns:
                raise c.fail(f"{key}[{i}]", f"unknown field '{text}'")
            out.append((alias, column))
        return tuple(out)

    reasons, identity = refs("reasons"), refs("identity")
    reason = c.text(doc.get("reason"), "reason", required=False)
    problem = check_template(
        " ".join(reason.split()), [f"{a}.{f}" for a, f in (*reasons, *identity)], present
    )
    if problem:
        raise c.fail("reason", problem)
    severity = c.choice(doc.get("severity"), "severity", set(SEVERITIES))
    exclude_disputed = doc.get("exclude_disputed", False)
    if not isinstance(exclude_disputed, bool):
        raise c.fail("exclude_disputed", "must be true or false")
    return Rule(
        id=rule_id,
        name=c.text(doc.get("name"), "name"),
        description=c.text(doc.get("description"), "description"),
        purpose=c.text(doc.get("purpose"), "purpose"),
        severity=severity,
        subject=subject,
        sources=sources,
        where=where_list,
        versions=tuple(versions),
        reasons=reasons,
        identity=identity,
        as_at=as_at,
        file=file,
        exclude_disputed=exclude_disputed,
        reason=" ".join(reason.split()),
    )


def load_rule(path: Path) -> Rule:
    """Load and validate one rule file (errors name the file and the field)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path.name}: cannot be read ({type(exc).__name__})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise RuleError(f"{path.name}: is not valid YAML{where}") from None
    return parse_rule(data, path.name)


def shipped_rules_dir() -> Path:
    return Path(str(resources.files("joinedup.insight") / "rules"))


def load_rules(paths: list[Path] | None = None) -> list[Rule]:
    """The shipped starter rules, or the rule files (and folders of ``*.yaml``) given."""
    files: list[Path] = []
    for p in paths or [shipped_rules_dir()]:
        files.extend(sorted(p.glob("*.yaml")) if p.is_dir() else [p])
    rules = [load_rule(f) for f in files]
    seen: dict[str, str] = {}
    for r in rules:
        if r.id in seen:
            raise RuleError(f"{r.file}: id: '{r.id}' is also the id of {seen[r.id]}")
        seen[r.id] = r.file
    return rules
