"""Flags for people: the governed read of the latest flags, and caseworkers' actions.

A flag is personal data. A person sees a flag when

* they are an active caseworker or analyst of the organisation that raised it (the home
  borough whose own records anchor the rule), and
* they act under the flag's purpose (a flag raised for free school meals is not shown to
  someone acting for fraud prevention).

Within a flag, each value and record comes from a source record held by some organisation: a
value from the person's own organisation is shown (it is the controller); a value from another
organisation is shown only when :func:`joinedup.governance.policy.decide` allows those fields
of that dataset for this person and purpose, i.e. the agreement shares them. Otherwise the
value is withheld, and the page says which organisation holds it and why it is not shown.

Every list and every flag shown is audited (``personal_data.read`` on ``flags``); every action
is audited (``flag.action``). An action stores the flag's fingerprint: the flag is *quiet*
while the latest run gives it the same fingerprint, and opens again when its data changes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import (
    Dataset,
    FlagAction,
    FlagOutcome,
    InsightRun,
    Organisation,
    Role,
    User,
)
from joinedup.config import Settings
from joinedup.errors import JoinedupError
from joinedup.governance.access import (
    AUDITED_RECORD_IDS,
    AccessDenied,
    Actor,
    NotFound,
    audit_as,
)
from joinedup.governance.audit_actions import AuditAction
from joinedup.governance.objections import objecting_residents
from joinedup.governance.policy import Decision, Policy
from joinedup.standards import sentences as reasons
from joinedup.store import SnapshotStore, duckdb_reader

#: Roles that work flags. Data owners, DPOs and hub admins do not (DPOs audit).
FLAG_ROLES = frozenset({Role.CASEWORKER.value, Role.ANALYST.value})
#: Roles that record actions on flags.
ACTION_ROLES = frozenset({Role.CASEWORKER.value})
OUTCOME_LABELS = {
    FlagOutcome.CONTACTED.value: "Contacted",
    FlagOutcome.ENROLLED.value: "Enrolled",
    FlagOutcome.DECLINED.value: "Declined",
    FlagOutcome.NO_ACTION_NEEDED.value: "No action needed",
    FlagOutcome.WRONG_MATCH.value: "Wrong match",
}
STATUSES = ("open", "quiet", "all")
MAX_NOTE = 500
PAGE_SIZE = 50


class FlagError(JoinedupError, ValueError):
    """An action that cannot be recorded as asked (the message says why)."""


@dataclass
class Value:
    kind: str
    alias: str
    field: str
    organisation: str
    dataset: str
    value: str | None
    shown: bool
    reason: str = ""
    label: str = ""  # the field's title in its standard
    text: str = ""  # the value as a person reads it
    organisation_name: str = ""


@dataclass
class Record:
    alias: str
    organisation: str
    dataset: str
    version: int
    source_record_id: str | None
    date: date | None
    shown: bool
    organisation_name: str = ""


@dataclass
class ActionView:
    outcome: str
    label: str
    note: str
    user: str
    at: datetime
    current: bool  # recorded against the flag's current data


@dataclass
class Flag:
    flag_id: str
    rule_id: str
    rule_name: str
    rule_version: str | None
    purpose: str
    severity: str
    organisation: str
    resident_id: str
    household_id: str
    as_at: date | None
    fingerprint: str
    #: the rule's reason sentence, filled with the values this reader may see ("" without one)
    sentence: str = ""
    organisation_name: str = ""
    values: list[Value] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    actions: list[ActionView] = field(default_factory=list)

    @property
    def reasons(self) -> list[Value]:
        return [v for v in self.values if v.kind == "reason"]

    @property
    def identity(self) -> list[Value]:
        return [v for v in self.values if v.kind == "identity"]

    @property
    def name(self) -> str:
        """The subject's name from the identity values shown (or a placeholder)."""
        parts = [v.value for v in self.identity if v.field in ("given_name", "family_name")]
        shown = [p for p in parts if p]
        return " ".join(shown) if shown else "Name not shared"

    @property
    def status(self) -> str:
        return "quiet" if self.actions and self.actions[0].current else "open"

    @property
    def last_action(self) -> ActionView | None:
        return self.actions[0] if self.actions else None

    def to_dict(self, detail: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "flag_id": self.flag_id,
            "rule": self.rule_id,
            "rule_name": self.rule_name,
            "rule_version": self.rule_version,
            "purpose": self.purpose,
            "severity": self.severity,
            "organisation": self.organisation,
            "resident_id": self.resident_id,
            "household_id": self.household_id,
            "as_at": self.as_at.isoformat() if self.as_at else None,
            "reason": self.sentence or None,
            "status": self.status,
            "name": self.name,
            "last_action": (
                {
                    "outcome": self.last_action.outcome,
                    "at": self.last_action.at.isoformat(),
                    "current": self.last_action.current,
                }
                if self.last_action
                else None
            ),
        }
        if detail:
            out["values"] = [
                {
                    "kind": v.kind,
                    "source": v.alias,
                    "field": v.field,
                    "organisation": v.organisation,
                    "dataset": v.dataset,
                    "value": v.value if v.shown else None,
                    "label": v.label,
                    "text": v.text if v.shown else None,
                    "shown": v.shown,
                    "withheld_because": None if v.shown else v.reason,
                }
                for v in self.values
            ]
            out["records"] = [
                {
                    "source": r.alias,
                    "organisation": r.organisation,
                    "dataset": r.dataset,
                    "version": r.version,
                    "source_record_id": r.source_record_id if r.shown else None,
                    "date": r.date.isoformat() if r.date else None,
                }
                for r in self.records
            ]
            out["actions"] = [
                {
                    "outcome": a.outcome,
                    "note": a.note,
                    "user": a.user,
                    "at": a.at.isoformat(),
                    "current": a.current,
                }
                for a in self.actions
            ]
        return out


@dataclass
class FlagPage:
    flags: list[Flag]
    total: int
    page: int
    page_size: int
    run_id: int | None
    run_date: date | None
    rules: list[dict[str, Any]]
    counts: dict[str, int]


@dataclass(frozen=True)
class FlagFilter:
    rule: str | None = None
    severity: str | None = None
    status: str = "open"
    household_id: str | None = None
    page: int = 1
    page_size: int = PAGE_SIZE


class _Visibility:
    """Which (organisation, dataset, fields) this person may see: the catalogue is read once
    per request (the datasets, and the policy's user, grant and agreements) and each set of
    fields is decided in memory by the one policy decision, once."""

    def __init__(self, session: Session, actor: Actor, own_code: str, today: date) -> None:
        self.own = own_code
        self.cache: dict[tuple[str, str, tuple[str, ...]], Decision] = {}
        # one query: every organisation (for its names) with each of its datasets, if any
        rows = session.execute(
            select(
                Organisation.code,
                Organisation.id,
                Organisation.name,
                Organisation.gss_code,
                Dataset.name,
                Dataset.standard,
            ).outerjoin(Dataset, Dataset.organisation_id == Organisation.id)
        ).all()
        self.datasets = {
            (code, name): (int(org), str(std))
            for code, org, _, _, name, std in rows
            if name is not None
        }
        #: organisation codes and GSS codes → names, for reading
        self.names: dict[str, str] = {c: n for c, _, n, _, _, _ in rows}
        self.names.update({g: n for _, _, n, g, _, _ in rows if g})
        assert actor.purpose is not None
        self.policy = Policy(session, actor.user_id, actor.organisation_id, actor.purpose, today)

    def decide(self, organisation: str, dataset: str, fields: tuple[str, ...]) -> Decision:
        if organisation == self.own:
            return Decision(True, "the organisation's own data")
        if not fields:
            return Decision(True, "provenance only")
        key = (organisation, dataset, fields)
        if key not in self.cache:
            found = self.datasets.get((organisation, dataset))
            if found is None:
                self.cache[key] = Decision(False, "the dataset is no longer in the catalogue")
            else:
                self.cache[key] = self.policy.decide(found[0], dataset, found[1], fields)
        return self.cache[key]


def _check_person(session: Session, actor: Actor, roles: frozenset[str]) -> tuple[User, str]:
    if actor.purpose is None:
        raise AccessDenied(Decision(False, "choose the purpose you are acting under first"))
    user = session.get(User, actor.user_id, options=[joinedload(User.organisation)])
    if user is None or not user.is_active or user.organisation_id != actor.organisation_id:
        raise AccessDenied(Decision(False, "the account does not exist or is disabled"))
    if user.role not in roles:
        raise AccessDenied(
            Decision(False, f"the role {user.role} does not work flags (caseworkers do)")
        )
    return user, user.organisation.code


def _latest_run(session: Session) -> InsightRun | None:
    return session.scalars(select(InsightRun).order_by(InsightRun.id.desc()).limit(1)).first()


#: Runs' flags kept in memory per (flags snapshot, organisation, purpose): the latest few.
_KEPT_RUNS = 32
_kept: OrderedDict[tuple[str, str, str], list[dict[str, Any]]] = OrderedDict()
_kept_lock = threading.Lock()


def _run_flags(
    settings: Settings, run: InsightRun, organisation: str, purpose: str
) -> list[dict[str, Any]]:
    """Every flag of the run for ``organisation`` and ``purpose``, in worklist order. A flags
    snapshot never changes (it is named by its hash), and reading its nested values and
    records is the dear part of a page, so they are read once per process and kept; callers
    must not change them."""
    key = (run.flags_sha256, organisation, purpose)
    with _kept_lock:
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key]
    source = SnapshotStore(settings).sql_source(run.flags_sha256)
    with duckdb_reader(settings) as con:
        cur = con.execute(
            f"SELECT * FROM {source} WHERE organisation = ? AND purpose = ? "
            "ORDER BY severity_rank DESC, as_at DESC NULLS LAST, rule_id, flag_id",
            [organisation, purpose],
        )
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    with _kept_lock:
        _kept[key] = rows
        while len(_kept) > _KEPT_RUNS:
            _kept.popitem(last=False)
    return rows


def _query_flags(
    settings: Settings,
    session: Session,
    run: InsightRun,
    organisation: str,
    purpose: str,
    **equal: str | None,
) -> list[dict[str, Any]]:
    """The run's flags of ``organisation`` under ``purpose`` whose columns have the values in
    ``equal`` (None: any), less those of residents who have objected to the purpose since (by
    resident id or by record): an objection takes effect at once, not at the next run."""
    objecting = objecting_residents(settings, session, purpose)
    wanted = [(column, value) for column, value in equal.items() if value is not None]
    return [
        row
        for row in _run_flags(settings, run, organisation, purpose)
        if row["resident_id"] not in objecting and all(row[c] == v for c, v in wanted)
    ]


def _actions(session: Session, org_id: int, flag_ids: list[str]) -> dict[str, list[FlagAction]]:
    out: dict[str, list[FlagAction]] = {}
    for i in range(0, len(flag_ids), 500):
        chunk = flag_ids[i : i + 500]
        rows = session.scalars(
            select(FlagAction)
            .options(joinedload(FlagAction.user))  # the name shown: not one query an action
            .where(FlagAction.organisation_id == org_id, FlagAction.flag_id.in_(chunk))
            .order_by(FlagAction.created_at.desc(), FlagAction.id.desc())
        ).all()
        for row in rows:
            out.setdefault(row.flag_id, []).append(row)
    return out


def _readable(flag: Flag, rule: dict[str, Any], names: dict[str, str]) -> None:
    """Labels and readable text for the flag's values, and its reason sentence."""
    standards: dict[str, str] = rule.get("standards") or {}
    flag.organisation_name = names.get(flag.organisation, flag.organisation)
    for v in flag.values:
        v.label = reasons.label(standards.get(v.alias), v.field)
        v.text = reasons.value_text(standards.get(v.alias), v.field, v.value, names)
        v.organisation_name = names.get(v.organisation, v.organisation)
    for r in flag.records:
        r.organisation_name = names.get(r.organisation, r.organisation)
    template = str(rule.get("reason") or "")
    if template:
        flag.sentence = reasons.render(
            template,
            [reasons.Shown(v.alias, v.field, v.value, v.shown) for v in flag.values],
            {r.alias: r.organisation for r in flag.records},
            standards,
            names,
            flag.as_at,
        )


def _build(
    row: dict[str, Any],
    vis: _Visibility,
    actions: list[FlagAction],
    rules: dict[str, dict[str, Any]] | None = None,
) -> Flag:
    flag = Flag(
        flag_id=row["flag_id"],
        rule_id=row["rule_id"],
        rule_name=row["rule_name"],
        rule_version=row["rule_version"],
        purpose=row["purpose"],
        severity=row["severity"],
        organisation=row["organisation"],
        resident_id=row["resident_id"],
        household_id=row["household_id"],
        as_at=row["as_at"],
        fingerprint=row["fingerprint"],
    )
    for v in row["values"] or []:
        decision = vis.decide(v["organisation"], v["dataset"], tuple(v["needs"] or ()))
        flag.values.append(
            Value(
                kind=v["kind"],
                alias=v["alias"],
                field=v["field"],
                organisation=v["organisation"],
                dataset=v["dataset"],
                value=v["value"] if decision.allow else None,
                shown=decision.allow,
                reason="" if decision.allow else decision.reason,
            )
        )
    for r in row["records"] or []:
        decision = vis.decide(r["organisation"], r["dataset"], ("source_record_id",))
        flag.records.append(
            Record(
                alias=r["alias"],
                organisation=r["organisation"],
                dataset=r["dataset"],
                version=int(r["version"]),
                source_record_id=r["source_record_id"] if decision.allow else None,
                date=r["date"],
                shown=decision.allow,
            )
        )
    for a in actions:
        flag.actions.append(
            ActionView(
                outcome=a.outcome,
                label=OUTCOME_LABELS.get(a.outcome, a.outcome),
                note=a.note,
                user=a.user.display_name if a.user else "",
                at=a.created_at,
                current=a.fingerprint == flag.fingerprint,
            )
        )
    _readable(flag, (rules or {}).get(flag.rule_id, {}), vis.names)
    return flag


def _audit(
    session: Session,
    actor: Actor,
    target: str,
    flags: list[Flag],
    details: dict[str, Any],
    decision: str = "allow",
    reason: str = "flags of the organisation's residents under the purpose",
) -> None:
    audit_as(
        session,
        actor,
        AuditAction.PERSONAL_DATA_READ,
        decision=decision,
        reason=reason,
        target_type="flags",
        target_id=target,
        records=[f.flag_id for f in flags[:AUDITED_RECORD_IDS]],
        details=details,
    )


def _refuse(session: Session, actor: Actor, exc: AccessDenied, target: str) -> None:
    audit_as(
        session,
        actor,
        AuditAction.PERSONAL_DATA_READ,
        decision="deny",
        reason=exc.decision.reason,
        target_type="flags",
        target_id=target,
    )


def list_flags(
    settings: Settings, actor: Actor, filters: FlagFilter, today: date | None = None
) -> FlagPage:
    """One page of the worklist: the flags the person may see, open ones first by default."""
    today = today or date.today()
    with session_scope(settings) as session:
        try:
            _, own = _check_person(session, actor, FLAG_ROLES)
        except AccessDenied as exc:
            _refuse(session, actor, exc, "worklist")
            session.commit()
            raise
        run = _latest_run(session)
        if run is None:
            return FlagPage([], 0, 1, filters.page_size, None, None, [], {})
        assert actor.purpose is not None
        rows = _query_flags(
            settings,
            session,
            run,
            own,
            actor.purpose,
            rule_id=filters.rule,
            severity=filters.severity,
            household_id=filters.household_id,
        )
        actions = _actions(session, actor.organisation_id, [r["flag_id"] for r in rows])
        counts = {"open": 0, "quiet": 0}
        kept: list[dict[str, Any]] = []
        for r in rows:
            history = actions.get(r["flag_id"], [])
            quiet = bool(history) and history[0].fingerprint == r["fingerprint"]
            counts["quiet" if quiet else "open"] += 1
            if filters.status == "all" or filters.status == ("quiet" if quiet else "open"):
                kept.append(r)
        start = (filters.page - 1) * filters.page_size
        page_rows = kept[start : start + filters.page_size]
        vis = _Visibility(session, actor, own, today)
        by_id = {r["id"]: r for r in run.rules}
        flags = [_build(r, vis, actions.get(r["flag_id"], []), by_id) for r in page_rows]
        _audit(
            session,
            actor,
            f"insight_run/{run.id}",
            flags,
            {
                "rule": filters.rule,
                "severity": filters.severity,
                "status": filters.status,
                "household": filters.household_id,
                "rows": len(flags),
                "page": filters.page,
            },
        )
        rules = [r for r in run.rules if r.get("purpose") == actor.purpose]
        return FlagPage(
            flags, len(kept), filters.page, filters.page_size, run.id, run.run_date, rules, counts
        )


def get_flag(settings: Settings, actor: Actor, flag_id: str, today: date | None = None) -> Flag:
    """One flag with its reasons, records and actions (NotFound unless the person may see it)."""
    today = today or date.today()
    with session_scope(settings) as session:
        try:
            _, own = _check_person(session, actor, FLAG_ROLES)
        except AccessDenied as exc:
            _refuse(session, actor, exc, f"flag/{flag_id}")
            session.commit()
            raise
        run = _latest_run(session)
        if run is None:
            raise NotFound("no flags yet")
        assert actor.purpose is not None
        rows = _query_flags(settings, session, run, own, actor.purpose, flag_id=flag_id)
        if not rows:
            raise NotFound(f"no flag {flag_id} for your organisation and purpose")
        actions = _actions(session, actor.organisation_id, [flag_id])
        vis = _Visibility(session, actor, own, today)
        by_id = {r["id"]: r for r in run.rules}
        flag = _build(rows[0], vis, actions.get(flag_id, []), by_id)
        _audit(
            session,
            actor,
            f"flag/{flag_id}",
            [flag],
            {
                "run": run.id,
                "records": [
                    f"{r.organisation}/{r.dataset}/{r.version}/{r.source_record_id}"
                    for r in flag.records
                    if r.shown
                ],
                "withheld": sorted(
                    {f"{v.organisation}/{v.dataset}.{v.field}" for v in flag.values if not v.shown}
                ),
            },
        )
        return flag


def record_action(
    settings: Settings,
    actor: Actor,
    flag_id: str,
    outcome: str,
    note: str = "",
    today: date | None = None,
) -> Flag:
    """Record a caseworker's action on a flag (audited); the flag goes quiet on this data."""
    if outcome not in OUTCOME_LABELS:
        raise FlagError(f"choose an outcome: {', '.join(OUTCOME_LABELS.values())}")
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise FlagError(f"the note must be {MAX_NOTE} characters or fewer")
    with session_scope(settings) as session:
        try:
            _check_person(session, actor, ACTION_ROLES)
        except AccessDenied as exc:
            _refuse(session, actor, exc, f"flag/{flag_id}")
            session.commit()
            raise
    flag = get_flag(settings, actor, flag_id, today)
    with session_scope(settings) as session:
        run = _latest_run(session)
        keys = [
            f"{r.organisation}/{r.dataset}/{r.source_record_id}" for r in flag.records if r.shown
        ]
        session.add(
            FlagAction(
                flag_id=flag.flag_id,
                rule_id=flag.rule_id,
                organisation_id=actor.organisation_id,
                user_id=actor.user_id,
                insight_run_id=run.id if run else None,
                outcome=outcome,
                note=note,
                fingerprint=flag.fingerprint,
                record_keys=keys if outcome == FlagOutcome.WRONG_MATCH.value else [],
            )
        )
        audit_as(
            session,
            actor,
            AuditAction.FLAG_ACTION,
            target_type="flag",
            target_id=flag.flag_id,
            records=[flag.flag_id],
            details={"outcome": outcome, "rule": flag.rule_id, "note_length": len(note)},
        )
        if outcome == FlagOutcome.WRONG_MATCH.value:
            # feeds linkage review: the records the caseworker says are not one household
            audit_as(
                session,
                actor,
                AuditAction.LINKAGE_WRONG_MATCH,
                target_type="flag",
                target_id=flag.flag_id,
                records=[
                    f"{r.organisation}/{r.dataset}/{r.source_record_id}"
                    for r in flag.records
                    if r.shown
                ],
            )
    return get_flag(settings, actor, flag_id, today)


def wrong_match_reports(settings: Settings) -> list[dict[str, Any]]:
    """Flags a caseworker said rest on a wrong match: the records, for linkage review."""
    with session_scope(settings) as session:
        rows = session.scalars(
            select(FlagAction)
            .where(FlagAction.outcome == FlagOutcome.WRONG_MATCH.value)
            .order_by(FlagAction.id)
        ).all()
        return [
            {
                "flag_id": r.flag_id,
                "rule": r.rule_id,
                "record_keys": list(r.record_keys),
                "at": r.created_at.isoformat(),
            }
            for r in rows
        ]
