"""The subject access document: everything held about one resident, collected for a DPO.

For the resident (by ``resident_id`` in the latest resident index) it lists

* every source record joined to them, by organisation, dataset and version, with every field
  of every row (read through :func:`joinedup.governance.access.read_records` as the DPO:
  decided, audited), and any dispute of the record;
* the sharing agreements that cover those datasets, and the purposes (with lawful bases)
  under which the data was shared or used;
* the recipients: who read their records, when, for what purpose, from the audit log
  (organisation and role, not staff names);
* the flags raised about them, with reasons and the actions taken, and the flags about other
  people that used their records;
* their objections and their effect (flags withdrawn on the next insight run), and their
  disputes.

**Redaction.** Data about other people is never put into the document: the other members of
the household are counted, not named; a flag's values and records that come from another
resident's records are replaced by a redaction entry; flags about other people are listed
by rule and organisation only. Every such omission is listed in ``redactions`` (where, what
kind, why), which the DPO reviews before release. Free-text notes written by caseworkers are
withheld by default too (they may mention other people); the DPO may release them after
reading them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import (
    Agreement,
    AgreementData,
    AuditEvent,
    Dataset,
    DatasetVersion,
    FlagAction,
    InsightRun,
    Objection,
    Organisation,
    Purpose,
    User,
)
from joinedup.config import Settings
from joinedup.governance.access import AccessDenied, Actor, NotFound, read_records
from joinedup.governance.audit_actions import DISCLOSURES, AuditAction
from joinedup.governance.policy import AccessRequest, decide, effective_status
from joinedup.linkage.explain import RecordView, check_resident_id, get_run
from joinedup.rights.common import RightsError, audit, check_dpo
from joinedup.rights.disputes import disputes_for
from joinedup.rights.find import resident_records
from joinedup.rights.readable import describe_flag, organisation_names
from joinedup.standards import field_names
from joinedup.standards.sentences import label
from joinedup.store import SnapshotStore, duckdb_session

FORMAT = "joinedup-subject-access/1"
OTHER_PERSON = "data about another person"
FREE_TEXT = "free text written by staff, which may mention other people"
MAX_DISCLOSURES = 2000


@dataclass(frozen=True)
class CollectOptions:
    release_notes: bool = False  # the DPO read the staff notes and releases them


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _household(settings: Settings, run: Any, household_id: str, resident_id: str) -> int:
    source = SnapshotStore(settings).sql_source(run.index_sha256)
    with duckdb_session(settings) as con:
        return int(
            con.execute(
                f"SELECT count(DISTINCT resident_id) FROM {source} "
                "WHERE household_id = ? AND resident_id <> ?",
                [household_id, resident_id],
            ).fetchall()[0][0]
        )


def _snapshot_columns(settings: Settings, sha: str) -> set[str]:
    return set(pq.read_schema(SnapshotStore(settings).path_of(sha)).names)


def _records(
    settings: Settings, actor: Actor, records: list[RecordView], session: Session
) -> list[dict[str, Any]]:
    """Each record with every row and field, read through the gateway as the DPO."""
    groups: dict[tuple[str, str, int], list[RecordView]] = defaultdict(list)
    for record in records:
        groups[(record.organisation, record.dataset, record.version)].append(record)
    disputes = disputes_for(settings, [r.record_key for r in records], only_open=False)
    out: list[dict[str, Any]] = []
    for (organisation, dataset, version), members in sorted(groups.items()):
        found = session.execute(
            select(Organisation, Dataset, DatasetVersion)
            .join(Dataset, Dataset.organisation_id == Organisation.id)
            .join(DatasetVersion, DatasetVersion.dataset_id == Dataset.id)
            .where(
                Organisation.code == organisation,
                Dataset.name == dataset,
                DatasetVersion.version == version,
            )
        ).first()
        rows_by_id: dict[str, list[dict[str, str | None]]] = defaultdict(list)
        withheld = None
        standard = None
        org_name = organisation
        if found is None:
            withheld = "the dataset version is no longer held"
        else:
            org, ds, row = found
            standard, org_name = ds.standard, org.name
            columns = _snapshot_columns(settings, row.snapshot_sha256)
            fields = [f for f in field_names(ds.standard) if f in columns]
            try:
                table = read_records(
                    settings,
                    actor,
                    organisation=organisation,
                    dataset=dataset,
                    version=version,
                    fields=["source_record_id", *[f for f in fields if f != "source_record_id"]],
                    record_ids=sorted({m.source_record_id for m in members}),
                )
            except (AccessDenied, NotFound) as exc:
                withheld = str(exc)
            else:
                for item in table.to_pylist():
                    rows_by_id[str(item["source_record_id"])].append(
                        {k: _text(v) for k, v in item.items() if k != "source_record_id"}
                    )
        for member in members:
            out.append(
                {
                    "record_key": member.record_key,
                    "organisation": organisation,
                    "organisation_name": org_name,
                    "dataset": dataset,
                    "version": version,
                    "standard": standard,
                    "source_record_id": member.source_record_id,
                    "rows": rows_by_id.get(member.source_record_id, []),
                    "withheld": withheld,
                    "disputes": [d.to_dict() for d in disputes.get(member.record_key, [])],
                }
            )
    return out


def _agreements(
    session: Session, records: list[dict[str, Any]], today: date
) -> list[dict[str, Any]]:
    """Agreements whose shared data covers a dataset holding one of the records."""
    held = {(r["organisation"], r["dataset"], r["standard"]) for r in records}
    orgs = {o.id: o for o in session.scalars(select(Organisation))}
    out = []
    for agreement in session.scalars(select(Agreement).order_by(Agreement.reference)).unique():
        covered = sorted(
            {
                f"{code}/{dataset}"
                for item in agreement.data
                for code, dataset, standard in held
                if _covers(item, orgs, code, dataset, standard)
            }
        )
        if not covered:
            continue
        parties = defaultdict(list)
        for party in agreement.parties:
            parties[party.role].append(orgs[party.organisation_id].name)
        out.append(
            {
                "reference": agreement.reference,
                "title": agreement.title,
                "status": effective_status(agreement, today),
                "lawful_basis": agreement.lawful_basis,
                "special_category_condition": agreement.special_category_condition,
                "start_date": agreement.start_date.isoformat(),
                "expiry_date": agreement.expiry_date.isoformat(),
                "retention": agreement.retention,
                "purposes": sorted(p.code for p in agreement.purposes),
                "providers": sorted(parties["provider"]),
                "recipients": sorted(parties["recipient"]),
                "datasets": covered,
            }
        )
    return out


def _covers(
    item: AgreementData, orgs: dict[int, Organisation], code: str, dataset: str, standard: Any
) -> bool:
    provider = orgs.get(item.provider_id)
    if provider is None or provider.code != code:
        return False
    if item.dataset is not None and item.dataset != dataset:
        return False
    return item.standard is None or item.standard == standard


def _disclosures(
    session: Session,
    resident_id: str,
    records: list[dict[str, Any]],
    flag_ids: set[str],
) -> list[dict[str, Any]]:
    """Who was given the resident's data, from the audit log (allowed events only)."""
    versions: dict[str, set[str]] = defaultdict(set)
    keys = {r["record_key"] for r in records}
    for r in records:
        versions[f"{r['organisation']}/{r['dataset']}/{r['version']}"].add(r["source_record_id"])
    orgs = {o.id: o for o in session.scalars(select(Organisation))}
    roles = {u.id: u.role for u in session.scalars(select(User))}
    query = (
        select(AuditEvent)
        .where(AuditEvent.action.in_(list(DISCLOSURES)))
        .where(AuditEvent.decision == "allow")
        .order_by(AuditEvent.id)
    )
    out: list[dict[str, Any]] = []
    for event in session.scalars(query):
        records_listed = {str(x) for x in (event.records or [])}
        what = DISCLOSURES.get(event.action, event.action)
        dataset = None
        if event.target_type == "dataset_version" and event.target_id in versions:
            if event.action == AuditAction.PERSONAL_DATA_READ and not (
                records_listed & versions[event.target_id]
            ):
                continue
            dataset = event.target_id
        elif event.target_type in ("flags", "flag") and records_listed & flag_ids:
            what = "Read flags about the resident"
        elif event.target_id == resident_id or records_listed & keys:
            pass
        else:
            continue
        org = orgs.get(event.organisation_id) if event.organisation_id else None
        out.append(
            {
                "at": event.occurred_at.astimezone(UTC).isoformat(),
                "organisation": org.code if org else None,
                "organisation_name": org.name if org else None,
                "role": roles.get(event.actor_user_id) if event.actor_user_id else "service",
                "purpose": event.purpose,
                "what": what,
                "dataset": dataset,
                "agreement": (event.details or {}).get("agreement"),
                "audit_event": event.id,
            }
        )
        if len(out) >= MAX_DISCLOSURES:
            break
    return out


def _recipients(disclosures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    grouped: dict[tuple[Any, Any], dict[str, Any]] = {}
    for d in disclosures:
        key = (d["organisation"], d["purpose"])
        entry = grouped.setdefault(
            key,
            {
                "organisation": d["organisation"],
                "organisation_name": d["organisation_name"],
                "purpose": d["purpose"],
                "times": 0,
                "first": d["at"],
                "last": d["at"],
            },
        )
        entry["times"] += 1
        entry["last"] = d["at"]
    return sorted(grouped.values(), key=lambda e: (str(e["organisation"]), str(e["purpose"])))


def _flag_rows(settings: Settings, run: InsightRun | None) -> list[dict[str, Any]]:
    if run is None:
        return []
    source = SnapshotStore(settings).sql_source(run.flags_sha256)
    with duckdb_session(settings) as con:
        cursor = con.execute(f"SELECT * FROM {source} ORDER BY flag_id")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


class _Redactions:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, section: str, item: str, kind: str, reason: str = OTHER_PERSON) -> None:
        self.items.append({"section": section, "item": item, "kind": kind, "reason": reason})


def _flags(
    settings: Settings,
    session: Session,
    actor: Actor,
    resident_id: str,
    keys: set[str],
    run: InsightRun | None,
    redactions: _Redactions,
    options: CollectOptions,
    today: date,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The resident's own flags (redacted of others' data) and flags about others that used
    their records (rule and organisation only)."""
    rows = _flag_rows(settings, run)
    mine = [r for r in rows if r["resident_id"] == resident_id]
    ids = {r["flag_id"] for r in mine}
    actions: dict[str, list[FlagAction]] = defaultdict(list)
    if ids:
        for action in session.scalars(
            select(FlagAction).where(FlagAction.flag_id.in_(sorted(ids))).order_by(FlagAction.id)
        ):
            actions[action.flag_id].append(action)
    index_keys = _resident_keys(settings, run)
    names = organisation_names(session)
    rules = {r["id"]: r for r in (run.rules if run else [])}
    decisions: dict[tuple[str, str, tuple[str, ...]], bool] = {}
    flags = []
    for row in mine:
        records, other_aliases = [], set()
        for r in row["records"] or []:
            key = f"{r['organisation']}/{r['dataset']}/{r['source_record_id']}"
            if index_keys.get(key, resident_id) != resident_id:
                other_aliases.add(r["alias"])
                redactions.add(
                    f"flag {row['rule_name']}",
                    f"a record from {names.get(r['organisation'], r['organisation'])}'s "
                    f"{r['dataset'].replace('-', ' ')}",
                    "record",
                )
                continue
            records.append(
                {
                    "organisation": r["organisation"],
                    "dataset": r["dataset"],
                    "version": r["version"],
                    "source_record_id": r["source_record_id"],
                    "date": _text(r["date"]),
                }
            )
        values = []
        for v in row["values"] or []:
            if v["alias"] in other_aliases:
                standard = (rules.get(row["rule_id"], {}).get("standards") or {}).get(v["alias"])
                what = f"the value {label(standard, v['field']).lower()}"
                redactions.add(f"flag {row['rule_name']}", what, "value")
                continue
            shown = _may_see(session, actor, v, decisions, today)
            values.append(
                {
                    "kind": v["kind"],
                    "field": v["field"],
                    "organisation": v["organisation"],
                    "dataset": v["dataset"],
                    "value": v["value"] if shown else None,
                    "withheld": None if shown else "not shared under the subject-access purpose",
                }
            )
        flag_actions = []
        for a in actions.get(row["flag_id"], []):
            note = a.note if options.release_notes else None
            if a.note and not options.release_notes:
                redactions.add(f"flag {row['rule_name']}", "a caseworker's note", "note", FREE_TEXT)
            flag_actions.append(
                {"outcome": a.outcome, "at": a.created_at.isoformat(), "note": note}
            )
        flags.append(
            {
                "flag_id": row["flag_id"],
                "rule": row["rule_id"],
                "rule_name": row["rule_name"],
                "rule_version": row["rule_version"],
                "purpose": row["purpose"],
                "severity": row["severity"],
                "organisation": row["organisation"],
                "as_at": _text(row["as_at"]),
                "insight_run": run.id if run else None,
                "values": values,
                "records": records,
                "actions": flag_actions,
            }
        )
        describe_flag(flags[-1], row, rules.get(row["rule_id"], {}), other_aliases, names)
    used = []
    for row in rows:
        if row["resident_id"] == resident_id:
            continue
        theirs = [
            f"{r['organisation']}/{r['dataset']}/{r['source_record_id']}"
            for r in row["records"] or []
        ]
        mine_used = sorted(k for k in theirs if k in keys)
        if mine_used:
            used.append(
                {
                    "rule_name": row["rule_name"],
                    "purpose": row["purpose"],
                    "organisation": row["organisation"],
                    "as_at": _text(row["as_at"]),
                    "your_records": mine_used,
                }
            )
            redactions.add(
                "flags about other people",
                f"who the flag {row['rule_name']} is about, and its other records",
                "flag",
            )
    return flags, used


def _may_see(
    session: Session,
    actor: Actor,
    value: dict[str, Any],
    cache: dict[tuple[str, str, tuple[str, ...]], bool],
    today: date,
) -> bool:
    needs = tuple(value["needs"] or ())
    key = (value["organisation"], value["dataset"], needs)
    if not needs:
        return True
    if key not in cache:
        found = session.execute(
            select(Organisation.id, Dataset.standard)
            .join(Dataset, Dataset.organisation_id == Organisation.id)
            .where(Organisation.code == key[0], Dataset.name == key[1])
        ).first()
        if found is None:
            cache[key] = False
        else:
            assert actor.purpose is not None
            cache[key] = decide(
                session,
                AccessRequest(
                    user_id=actor.user_id,
                    organisation_id=actor.organisation_id,
                    purpose=actor.purpose,
                    provider_id=found[0],
                    dataset=key[1],
                    standard=found[1],
                    fields=needs,
                    today=today,
                ),
            ).allow
    return cache[key]


def _resident_keys(settings: Settings, run: InsightRun | None) -> dict[str, str]:
    """record key → resident id in the index the flags were computed from."""
    if run is None:
        return {}
    from joinedup.catalog.models import LinkageRun

    with session_scope(settings) as session:
        linkage = session.get(LinkageRun, run.linkage_run_id)
        sha = linkage.index_sha256 if linkage else None
    if sha is None:
        return {}
    with duckdb_session(settings) as con:
        rows = con.execute(
            f"SELECT record_key, resident_id FROM {SnapshotStore(settings).sql_source(sha)}"
        ).fetchall()
    return {str(k): str(r) for k, r in rows}


def _objections(
    settings: Settings,
    session: Session,
    resident_id: str,
    records: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The resident's objections, and which of their flags each withdrew on the next run."""
    held = {(r["organisation"], r["dataset"], r["source_record_id"]) for r in records}
    orgs = {o.id: o.code for o in session.scalars(select(Organisation))}
    objectable = [p for p in session.scalars(select(Purpose)) if p.objection_allowed]
    runs = list(session.scalars(select(InsightRun).order_by(InsightRun.id)))
    out = []
    for o in session.scalars(select(Objection).order_by(Objection.id)):
        by_record = (orgs.get(o.organisation_id or 0), o.dataset, o.source_record_id)
        if o.resident_id != resident_id and by_record not in held:
            continue
        covered = [o.purpose] if o.purpose else objectable
        codes = {p.code for p in covered if p is not None}
        before = [r for r in runs if r.created_at <= o.recorded_at]
        after = [r for r in runs if r.created_at > o.recorded_at]
        effect: dict[str, Any] = {"purposes": sorted(codes), "flags_withdrawn": []}
        if before and after:
            earlier = {
                r["flag_id"]: r
                for r in _flag_rows(settings, before[-1])
                if r["resident_id"] == resident_id and r["purpose"] in codes
            }
            later = {r["flag_id"] for r in _flag_rows(settings, after[0])}
            effect["flags_withdrawn"] = [
                {
                    "rule_name": r["rule_name"],
                    "purpose": r["purpose"],
                    "organisation": r["organisation"],
                    "last_raised_in_run": before[-1].id,
                    "withdrawn_in_run": after[0].id,
                }
                for fid, r in sorted(earlier.items())
                if fid not in later
            ]
            effect["next_run"] = after[0].id
        else:
            effect["next_run"] = None
        out.append(
            {
                "id": o.id,
                "purpose": o.purpose.code if o.purpose else None,
                "purpose_name": o.purpose.name
                if o.purpose
                else "Every purpose that allows objection",
                "recorded_at": o.recorded_at.isoformat(),
                "withdrawn_at": o.withdrawn_at.isoformat() if o.withdrawn_at else None,
                "effect": effect,
            }
        )
    return out


def _purposes(
    session: Session, agreements: list[dict[str, Any]], disclosures: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    codes = {p for a in agreements for p in a["purposes"]} | {
        d["purpose"] for d in disclosures if d["purpose"]
    }
    out = []
    for p in session.scalars(select(Purpose).order_by(Purpose.code)):
        if p.code in codes:
            out.append(
                {
                    "code": p.code,
                    "name": p.name,
                    "description": p.description,
                    "lawful_basis": p.lawful_basis,
                    "special_category_condition": p.special_category_condition,
                    "objection_allowed": p.objection_allowed,
                    "agreements": sorted(
                        a["reference"] for a in agreements if p.code in a["purposes"]
                    ),
                }
            )
    return out


def collect(
    settings: Settings,
    actor: Actor,
    resident_id: str,
    options: CollectOptions | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """The subject access document for ``resident_id`` (reads are audited)."""
    check_dpo(actor)
    options = options or CollectOptions()
    today = today or date.today()
    try:
        check_resident_id(resident_id)
    except LookupError as exc:
        raise RightsError(str(exc), 404) from None
    run = get_run(settings)
    views = resident_records(settings, run, [resident_id])
    if not views:
        raise RightsError("There is no such resident in the latest linkage run", 404)
    household_id = views[0].household_id
    redactions = _Redactions()
    others = _household(settings, run, household_id, resident_id)
    if others:
        redactions.add(
            "household",
            f"{others} other member{'s' if others != 1 else ''} of the household",
            "person",
        )
    with session_scope(settings) as session:
        records = _records(settings, actor, views, session)
        keys = {r["record_key"] for r in records}
        insight = session.scalars(select(InsightRun).order_by(InsightRun.id.desc())).first()
        flags, used = _flags(
            settings, session, actor, resident_id, keys, insight, redactions, options, today
        )
        agreements = _agreements(session, records, today)
        disclosures = _disclosures(session, resident_id, records, {f["flag_id"] for f in flags})
        objections = _objections(settings, session, resident_id, records)
        purposes = _purposes(session, agreements, disclosures)
        controller = session.get(Organisation, actor.organisation_id)
        audit(
            session,
            actor,
            AuditAction.PERSONAL_DATA_READ,
            "flags",
            f"insight_run/{insight.id}" if insight else "flags",
            records=[f["flag_id"] for f in flags],
            details={"resident": resident_id, "for": "subject access"},
            reason="a subject access request: the resident's own flags",
        )
        audit(
            session,
            actor,
            AuditAction.RIGHTS_COLLECT,
            "resident",
            resident_id,
            records=sorted(keys),
            details={"records": len(records), "redactions": len(redactions.items)},
        )
        session.commit()
    disputes = [d for r in records for d in r["disputes"]]
    return {
        "format": FORMAT,
        "resident_id": resident_id,
        "household_id": household_id,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "controller": controller.name if controller else None,
        "linkage_run": run.id,
        "insight_run": insight.id if insight else None,
        "records": records,
        "agreements": agreements,
        "purposes": purposes,
        "recipients": _recipients(disclosures),
        "disclosures": disclosures,
        "flags": flags,
        "flags_about_others_using_your_records": used,
        "objections": objections,
        "disputes": disputes,
        "household": {"other_members": others, "redacted": bool(others)},
        "redactions": redactions.items,
        "notes_released": options.release_notes,
    }
