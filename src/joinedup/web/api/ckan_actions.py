"""The CKAN read actions, each with its parameters (as CKAN's API documentation lists them)
and its result. Every action reads approved releases only. Registered in :data:`ACTIONS`;
:mod:`joinedup.web.api.ckan` serves them."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from joinedup import __version__
from joinedup.config import Settings
from joinedup.publish import ckan as pkgs
from joinedup.publish.portal import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    SearchError,
    ckan_fields,
    parse_filters,
    parse_resource_id,
    search_rows,
)
from joinedup.publish.releases import NotFoundError, ReleaseView, public_release, public_releases
from joinedup.publish.solr import QueryError
from joinedup.publish.sqlquery import ROW_LIMIT, SqlRefused, run_sql
from joinedup.web.api.ckan_params import CkanError, Param, invalid


@dataclass(frozen=True)
class Ctx:
    settings: Settings
    base_url: str


@dataclass(frozen=True)
class Action:
    name: str
    summary: str
    params: tuple[Param, ...]
    run: Callable[[Ctx, dict[str, Any]], Any]


ACTIONS: dict[str, Action] = {}

LIMIT = Param("limit", "int", "How many to return")
OFFSET = Param("offset", "int", "How many to skip")
ID = Param("id", "text", "The id or name", required=True)
Q = Param("q", "text", "Words to look for")


def action(summary: str, *params: Param) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(run: Callable[[Ctx, dict[str, Any]], Any]) -> Callable[..., Any]:
        ACTIONS[run.__name__] = Action(run.__name__, summary, params, run)
        return run

    return register


def _views(ctx: Ctx) -> list[ReleaseView]:
    return public_releases(ctx.settings)


def _packages(ctx: Ctx) -> list[dict[str, Any]]:
    return [pkgs.package(v, ctx.base_url) for v in _views(ctx)]


def _page(items: list[Any], p: dict[str, Any], default: int | None = None) -> list[Any]:
    start = p.get("offset", 0)
    limit = p.get("limit", default)
    return items[start:] if limit is None else items[start : start + limit]


def _find_package(ctx: Ctx, ident: str) -> dict[str, Any]:
    for package in _packages(ctx):
        if ident in (package["id"], package["name"]):
            return package
    raise CkanError("Not Found Error", "Not found")


def _no_tracking(p: dict[str, Any]) -> None:
    if p.get("include_tracking"):
        raise invalid("include_tracking", "this portal does not track page views")


TRACKING = Param("include_tracking", "bool", "Page-view counts: not kept here (true is refused)")
SCHEMA = Param("use_default_schema", "bool", "Accepted: every dataset uses the default schema")


PRIVATE = Param("include_private", "bool", "Accepted: every dataset here is public")
DRAFTS = Param("include_drafts", "bool", "Accepted: drafts (pending releases) are never listed")
DELETED = Param("include_deleted", "bool", "Accepted: no dataset is ever deleted")


@action("Names of the published datasets", LIMIT, OFFSET, PRIVATE, DRAFTS, DELETED)
def package_list(ctx: Ctx, p: dict[str, Any]) -> list[str]:
    return _page(sorted(v.publication for v in _views(ctx)), p)


@action(
    "Every published dataset with its resources",
    LIMIT,
    OFFSET,
    Param("page", "int", "Page number (from 1) of `limit` datasets"),
)
def current_package_list_with_resources(ctx: Ctx, p: dict[str, Any]) -> list[dict[str, Any]]:
    packages = sorted(_packages(ctx), key=lambda d: d["metadata_modified"], reverse=True)
    if p.get("page"):
        size = p.get("limit", 10)
        p = {"offset": (p["page"] - 1) * size, "limit": size}
    return _page(packages, p)


#: What ``ckanapi dump`` sends to every ``*_show`` action: meaningful for organisations and
#: users, not datasets (a dataset has no members or password), documented as such.
DUMP = (
    Param("include_datasets", "bool", "For organisations; a dataset lists no datasets"),
    Param("include_users", "bool", "For organisations; a dataset has no members"),
    Param("include_password_hash", "bool", "For users; this API shows no users"),
)


@action("One published dataset, by id or name", ID, TRACKING, SCHEMA, *DUMP)
def package_show(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    _no_tracking(p)
    return _find_package(ctx, p["id"])


@action(
    "Search the published datasets (Solr-style q and fq, sort, facets, paging)",
    Param("q", "text", "Words, or field:value clauses (see the docs)", max_length=1000),
    Param("fq", "text", "Filter query: field:value clauses (see the docs)", max_length=1000),
    Param("fq_list", "list", "More filter queries, each like fq"),
    Param("sort", "text", "e.g. 'name asc' or 'metadata_modified desc'"),
    Param("rows", "int", f"How many to return (default 10, at most {MAX_LIMIT})"),
    Param("start", "int", "How many to skip"),
    Param("facet", "bool", "Whether to count facets (default true)"),
    Param("facet.field", "list", "Fields to count values of (a JSON list)"),
    Param("facet.limit", "int", "How many values per facet (default 50)"),
    Param("facet.mincount", "int", "Leave out values with fewer datasets (default 1)"),
    PRIVATE,
    DRAFTS,
    DELETED,
    SCHEMA,
)
def package_search(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    params = pkgs.Search(
        q=p.get("q", ""),
        fq=(*([p["fq"]] if p.get("fq") else []), *p.get("fq_list", [])),
        sort=p.get("sort") or pkgs.DEFAULT_SORT,
        rows=min(p.get("rows", 10), MAX_LIMIT),
        start=p.get("start", 0),
        facet=p.get("facet", True),
        facet_fields=tuple(p.get("facet.field", ())),
        facet_limit=p.get("facet.limit", 50),
        facet_mincount=p.get("facet.mincount", 1),
    )
    try:
        return pkgs.search(_packages(ctx), params)
    except QueryError as exc:
        raise CkanError("Search Query Error", f"Search Query is invalid: {exc}", "q") from None


@action(
    "Datasets whose name or title contains the words",
    Param("q", "text", "Text to look for", required=True),
    LIMIT,
)
def package_autocomplete(ctx: Ctx, p: dict[str, Any]) -> list[dict[str, Any]]:
    text = p["q"].lower()
    out = []
    for package in _packages(ctx):
        field = next((f for f in ("name", "title") if text in package[f].lower()), None)
        if field:
            value = package[field]
            out.append(
                {
                    "name": package["name"],
                    "title": package["title"],
                    "match_field": field,
                    "match_displayed": value,
                }
            )
    return out[: p.get("limit", 10)]


def _resources(ctx: Ctx) -> list[dict[str, Any]]:
    return [r for package in _packages(ctx) for r in package["resources"]]


@action("One resource (a release's CSV or data package), by id", ID, TRACKING)
def resource_show(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    _no_tracking(p)
    for resource in _resources(ctx):
        if resource["id"] == p["id"]:
            return resource
    # an earlier approved version's CSV is still a resource
    view = _release_of(ctx, p["id"])
    return pkgs.resources(view, ctx.base_url)[0]


RESOURCE_FIELDS = ("id", "name", "description", "format", "url", "package_id", "hash")


@action(
    "Resources whose fields contain the terms (query: 'field:term', or a list of them)",
    Param("query", "list", f"field:term clauses (fields: {', '.join(RESOURCE_FIELDS)})"),
    Param("order_by", "text", "A resource field to sort by"),
    OFFSET,
    LIMIT,
)
def resource_search(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    terms = []
    for clause in p.get("query", []):
        field, sep, term = clause.partition(":")
        if not sep or field not in RESOURCE_FIELDS:
            raise invalid(
                "query", f"{clause[:60]!r}: use field:term ({', '.join(RESOURCE_FIELDS)})"
            )
        terms.append((field, term.lower()))
    order = p.get("order_by")
    if order and order not in RESOURCE_FIELDS:
        raise invalid("order_by", f"one of {', '.join(RESOURCE_FIELDS)}")
    found = [
        r
        for r in _resources(ctx)
        if all(
            (str(r[f] or "").lower().startswith(t) if f == "hash" else t in str(r[f]).lower())
            for f, t in terms
        )
    ]
    if order:
        found.sort(key=lambda r: str(r[order] or ""))
    return {"count": len(found), "results": _page(found, p)}


def _group_params(plural: str) -> tuple[Param, ...]:
    return (
        Param("sort", "text", "'name asc', 'title asc' or 'package_count desc'"),
        LIMIT,
        OFFSET,
        Param("q", "text", "Text in the name or title"),
        Param("all_fields", "bool", "Whole dictionaries, not just names"),
        Param("include_dataset_count", "bool", "With all_fields: the number of datasets"),
        Param("include_extras", "bool", "With all_fields: extras (none here)"),
        Param("include_tags", "bool", "With all_fields: tags (none here)"),
        Param("include_groups", "bool", "With all_fields: sub-groups (none here)"),
        Param("include_users", "bool", "With all_fields: members (not shown publicly)"),
        Param(plural, "list", f"Only these {plural} (names)"),
    )


def _list_groups(ctx: Ctx, p: dict[str, Any], plural: str, groups: list[dict[str, Any]]) -> Any:
    sort = (p.get("sort") or "name asc").split()
    if len(sort) not in (1, 2) or sort[0] not in ("name", "title", "package_count"):
        raise invalid("sort", "'name asc', 'title asc' or 'package_count desc'")
    if len(sort) == 2 and sort[1] not in ("asc", "desc"):
        raise invalid("sort", "asc or desc")
    found = [
        g
        for g in groups
        if (not p.get(plural) or g["name"] in p[plural])
        and (p.get("q", "").lower() in (g["name"] + " " + g["title"]).lower())
    ]
    found.sort(key=lambda g: g[sort[0]], reverse=len(sort) == 2 and sort[1] == "desc")
    found = _page(found, p)
    if not p.get("all_fields"):
        return [g["name"] for g in found]
    out = []
    for group in found:
        group = dict(group)
        if p.get("include_dataset_count") is False:
            group.pop("package_count")
        for key in ("extras", "tags", "groups", "users"):
            if p.get(f"include_{key}"):
                group[key] = []
        out.append(group)
    return out


def _organisations(ctx: Ctx) -> list[dict[str, Any]]:
    return [pkgs.organization(len(_views(ctx)))]


@action("The publishing organisations", *_group_params("organizations"))
def organization_list(ctx: Ctx, p: dict[str, Any]) -> Any:
    return _list_groups(ctx, p, "organizations", _organisations(ctx))


@action("The groups (this portal has none)", *_group_params("groups"))
def group_list(ctx: Ctx, p: dict[str, Any]) -> Any:
    return _list_groups(ctx, p, "groups", [])


SHOW_GROUP = (
    ID,
    Param("include_datasets", "bool", "With its datasets (default false)"),
    Param("include_dataset_count", "bool", "With the number of datasets (default true)"),
    Param("include_extras", "bool", "With extras (none here)"),
    Param("include_users", "bool", "With members (not shown publicly)"),
    Param("include_groups", "bool", "With sub-groups (none here)"),
    Param("include_tags", "bool", "With tags (none here)"),
    Param("include_followers", "bool", "With the follower count (not kept: 0)"),
)


@action("One organisation, by id or name", *SHOW_GROUP)
def organization_show(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    org = _organisations(ctx)[0]
    if p["id"] not in (org["id"], org["name"]):
        raise CkanError("Not Found Error", "Organization not found")
    if p.get("include_dataset_count") is False:
        org.pop("package_count")
    if p.get("include_datasets"):
        org["packages"] = _packages(ctx)
    for key in ("extras", "users", "groups", "tags"):
        if p.get(f"include_{key}"):
            org[key] = []
    if p.get("include_followers"):
        org["num_followers"] = 0
    return org


@action("One group (this portal has none: always not found)", *SHOW_GROUP)
def group_show(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    raise CkanError("Not Found Error", "Group not found")


@action("Organisations whose name or title contains the text", Q, LIMIT)
def organization_autocomplete(ctx: Ctx, p: dict[str, Any]) -> list[dict[str, Any]]:
    text = p.get("q", "").lower()
    found = [o for o in _organisations(ctx) if text in (o["name"] + " " + o["title"]).lower()]
    return [{"id": o["id"], "name": o["name"], "title": o["title"]} for o in found][
        : p.get("limit", 20)
    ]


def _tags(ctx: Ctx) -> list[str]:
    return sorted({k for v in _views(ctx) for k in v.keywords})


VOCABULARY = Param("vocabulary_id", "text", "Tag vocabularies: there are none (refused)")


def _no_vocabulary(p: dict[str, Any]) -> None:
    if p.get("vocabulary_id"):
        raise CkanError("Not Found Error", "Could not find vocabulary")


@action(
    "The tags (keywords) of the published datasets",
    Param("query", "text", "Only tags containing this"),
    VOCABULARY,
    Param("all_fields", "bool", "Whole dictionaries, not just names"),
)
def tag_list(ctx: Ctx, p: dict[str, Any]) -> list[Any]:
    _no_vocabulary(p)
    tags = [t for t in _tags(ctx) if p.get("query", "").lower() in t.lower()]
    if p.get("all_fields"):
        return [{"id": pkgs.stable_id("tag", t), "name": t, "vocabulary_id": None} for t in tags]
    return tags


@action(
    "Tags containing the text",
    Param("query", "text", "Text to look for", required=True),
    VOCABULARY,
    LIMIT,
    OFFSET,
)
def tag_autocomplete(ctx: Ctx, p: dict[str, Any]) -> list[str]:
    _no_vocabulary(p)
    return _page([t for t in _tags(ctx) if p["query"].lower() in t.lower()], p, 10)


@action("Resource formats containing the text", Param("q", "text", "Text", required=True), LIMIT)
def format_autocomplete(ctx: Ctx, p: dict[str, Any]) -> list[str]:
    formats = sorted({r["format"].lower() for r in _resources(ctx)})
    return [f for f in formats if p["q"].lower() in f][: p.get("limit", 5)]


@action("The licences datasets here may use")
def license_list(ctx: Ctx, p: dict[str, Any]) -> list[dict[str, Any]]:
    return [pkgs.licence()]


@action("The portal's name, version and extensions")
def status_show(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    return {
        "site_title": "joinedup open data",
        "site_url": ctx.base_url,
        "site_description": "Open data released by the regional data hub.",
        "error_emails_to": None,
        "locale_default": "en_GB",
        "ckan_version": "2.11.0",
        "joinedup_version": __version__,
        "extensions": ["datastore"],
    }


@action("What an action does and takes", Param("name", "text", "An action", required=True))
def help_show(ctx: Ctx, p: dict[str, Any]) -> str:
    found = ACTIONS.get(p["name"])
    if found is None:
        raise CkanError("Not Found Error", "Action function not found")
    takes = ", ".join(f"{q.name} ({q.description})" for q in found.params) or "nothing"
    return f"{found.summary}.\n\nParameters: {takes}."


def _all_versions(ctx: Ctx, name: str | None = None) -> list[ReleaseView]:
    views = _views(ctx) if name is None else [public_release(ctx.settings, name)]
    out = []
    for view in views:
        out += [public_release(ctx.settings, view.publication, n) for n in view.versions]
    return out


@action("A dataset's activity: one item per approved release, newest first", ID, OFFSET, LIMIT)
def package_activity_list(ctx: Ctx, p: dict[str, Any]) -> list[dict[str, Any]]:
    name = _find_package(ctx, p["id"])["name"]
    return _page(pkgs.activities(_all_versions(ctx, name), ctx.base_url), p, 31)


@action("The organisation's activity: every approved release, newest first", ID, OFFSET, LIMIT)
def organization_activity_list(ctx: Ctx, p: dict[str, Any]) -> list[dict[str, Any]]:
    organization_show(ctx, {"id": p["id"]})
    return _page(pkgs.activities(_all_versions(ctx), ctx.base_url), p, 31)


@action("Every approved release, newest first", OFFSET, LIMIT)
def recently_changed_packages_activity_list(ctx: Ctx, p: dict[str, Any]) -> list[dict[str, Any]]:
    return _page(pkgs.activities(_all_versions(ctx), ctx.base_url), p, 31)


def _release_of(ctx: Ctx, rid: str) -> ReleaseView:
    parsed = parse_resource_id(rid)
    if parsed is None:
        raise CkanError("Not Found Error", "Resource not found")
    try:
        return public_release(ctx.settings, parsed[0], parsed[1])
    except NotFoundError:
        raise CkanError("Not Found Error", "Resource not found") from None


@action("A datastore table's fields and row count", Param("id", "text", "Resource id", True))
def datastore_info(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    view = _release_of(ctx, p["id"])
    described = {f["name"]: f for f in view.fields}
    fields = []
    for field in ckan_fields(view)[1:]:
        source = described[field["id"]]
        info = {"label": source.get("title", ""), "notes": source.get("description", "")}
        fields.append({**field, "info": info, "schema": {"native_type": source.get("type")}})
    meta = {"id": p["id"], "count": view.row_count, "table_type": "BASE TABLE", "aliases": []}
    return {"meta": meta, "fields": fields}


FORMATS = ("objects", "lists", "csv", "tsv")


@action(
    "Rows of a published CSV: search, filters, fields, sort, distinct, paging",
    Param("resource_id", "text", "Resource id (<name>-v<version>)", max_length=120),
    Param("id", "text", "Another name for resource_id", max_length=120),
    Param("filters", "object", "Field → value or list of values (JSON object)"),
    Param("q", "words", "Words in any text field, or a JSON object of field → words"),
    Param("plain", "bool", "Accepted when true: q is always plain words"),
    Param("language", "text", "Full-text language: not supported (refused)"),
    Param("distinct", "bool", "Only distinct rows of the chosen fields"),
    Param("fields", "list", "Fields to return (a list or comma-separated; _id is one)"),
    Param("sort", "text", "e.g. 'count desc, area_code asc'"),
    Param("limit", "int", f"How many rows (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})"),
    OFFSET,
    Param("include_total", "bool", "Count the matching rows (default true)"),
    Param("total_estimation_threshold", "int", "Accepted: the total is always exact"),
    Param("records_format", "text", f"One of {', '.join(FORMATS)} (default objects)"),
)
def datastore_search(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    rid = p.get("resource_id") or p.get("id")
    if not rid:
        raise invalid("resource_id", "Missing value")
    if p.get("plain") is False or p.get("language"):
        field = "plain" if p.get("plain") is False else "language"
        raise invalid(field, "full-text query syntax is not supported: q is plain words")
    fmt = p.get("records_format", "objects")
    if fmt not in FORMATS:
        raise invalid("records_format", f"one of {', '.join(FORMATS)}")
    view = _release_of(ctx, rid)
    names = [f["name"] for f in view.fields]
    try:
        order = _datastore_sort(p.get("sort", ""))
        filters = parse_filters(p.get("filters"), names)
        q = p.get("q")
        if isinstance(q, dict) and not all(isinstance(v, str) for v in q.values()):
            raise SearchError("q", "a JSON object of field → words")
        rows = search_rows(
            ctx.settings,
            view,
            limit=p.get("limit", DEFAULT_LIMIT),
            offset=p.get("offset", 0),
            q=q,
            filters=filters,
            fields=p.get("fields"),
            sort=order,
            distinct=p.get("distinct", False),
            include_total=p.get("include_total", True),
            with_id=True,
        )
    except SearchError as exc:
        raise invalid(exc.field, exc.message) from None
    path = f"/api/3/action/datastore_search?resource_id={rid}"
    result: dict[str, Any] = {
        "resource_id": rid,
        "fields": rows.fields,
        "records": _format(rows.records, [f["id"] for f in rows.fields], fmt),
        "limit": rows.limit,
        "offset": rows.offset,
        "sort": p.get("sort") or "_id",
        "filters": filters,
        "records_format": fmt,
        "include_total": rows.total is not None,
        "_links": {
            "start": path,
            "next": f"{path}&offset={rows.offset + rows.limit}&limit={rows.limit}",
        },
    }
    if p.get("q"):
        result["q"] = p["q"]
    if p.get("distinct"):
        result["distinct"] = True
    if rows.total is not None:
        result["total"] = rows.total
        result["total_was_estimated"] = False
    return result


def _datastore_sort(text: str) -> list[tuple[str, bool]]:
    out = []
    for part in [s for s in text.split(",") if s.strip()]:
        words = part.split()
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise SearchError("sort", f"{part.strip()[:60]!r}: use 'field asc' or 'field desc'")
        out.append((words[0].strip('"'), len(words) == 2 and words[1].lower() == "desc"))
    return out


def _format(records: list[dict[str, Any]], names: list[str], fmt: str) -> Any:
    if fmt == "objects":
        return records
    rows = [[r[n] for n in names] for r in records]
    if fmt == "lists":
        return rows
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


@action(
    "One read-only SQL SELECT over the published tables (quote the resource id as the table)",
    Param("sql", "text", 'e.g. SELECT * FROM "<resource id>" LIMIT 5', True, max_length=10_000),
)
def datastore_search_sql(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    tables = {f"{v.publication}-v{v.version}": v.table_sha256 for v in _all_versions(ctx)}
    try:
        result = run_sql(ctx.settings, p["sql"], tables)
    except SqlRefused as exc:
        raise CkanError("Validation Error", str(exc), "sql") from None
    answer: dict[str, Any] = {"sql": p["sql"], "fields": result.fields}
    answer["records"] = [
        {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in r.items()}
        for r in result.records
    ]
    if result.truncated:
        answer["records_truncated"] = True
        answer["records_limit"] = ROW_LIMIT
    return answer
