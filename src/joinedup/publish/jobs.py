"""Job kinds of the publish stage: a release, and the demo's publications."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Organisation, OrganisationType, Role, User
from joinedup.config import Settings
from joinedup.jobs.registry import JobContext, job
from joinedup.publish.definitions import shipped_definitions
from joinedup.publish.releases import create_release, decide, save_definition


@job("publish.release")
def release_job(ctx: JobContext) -> dict[str, Any]:
    """Build the next release of ``params['publication']`` (pending a DPO's approval)."""
    return create_release(
        ctx.settings,
        str(ctx.params["publication"]),
        user_id=ctx.params.get("user_id"),
        job_id=ctx.job_id,
        progress=ctx.progress,
    )


def start_release(settings: Settings, name: str, user_id: int) -> str:
    """Start the next release of a defined publication on a background thread (the web's
    way); returns the job id. ``NotFoundError`` (404) when no such publication is defined."""
    from joinedup.jobs.runner import run_in_thread
    from joinedup.publish.releases import NotFoundError, list_publications

    if name not in {p["name"] for p in list_publications(settings)}:
        raise NotFoundError(f"no publication {name!r}")
    return run_in_thread(
        settings, "publish.release", {"publication": name, "user_id": user_id}, user_id
    )


def _hub_user(settings: Settings, role: Role) -> int:
    with session_scope(settings) as session:
        user_id = session.scalars(
            select(User.id)
            .join(Organisation, Organisation.id == User.organisation_id)
            .where(Organisation.type == OrganisationType.HUB.value, User.role == role.value)
            .order_by(User.id)
        ).first()
    if user_id is None:
        raise RuntimeError(f"the demo needs a hub {role.value}: run the governance stage first")
    return int(user_id)


@job("publish.demo")
def demo_publish_job(ctx: JobContext) -> dict[str, Any]:
    """Define the shipped publications as the hub's analyst, release each, and approve the
    releases as the hub's DPO, so that they are on the public portal."""
    analyst, dpo = _hub_user(ctx.settings, Role.ANALYST), _hub_user(ctx.settings, Role.DPO)
    definitions = shipped_definitions()
    published = []
    for index, definition in enumerate(definitions):
        step = index / len(definitions)
        ctx.progress(step, f"Releasing {definition.name}")
        save_definition(ctx.settings, definition.model_dump(mode="json"), analyst)
        result = create_release(ctx.settings, definition.name, user_id=analyst, job_id=ctx.job_id)
        decide(ctx.settings, definition.name, result["version"], dpo, approve=True)
        disclosure = result["disclosure"] or {}
        published.append(
            {
                "publication": definition.name,
                "version": result["version"],
                "rows": result["rows"],
                "published": disclosure.get("published"),
                "suppressed": (disclosure.get("primary_suppressed", 0) or 0)
                + (disclosure.get("secondary_suppressed", 0) or 0)
                if disclosure
                else None,
            }
        )
    ctx.progress(1.0, "Published")
    return {
        "published": [f"{p['publication']} v{p['version']}" for p in published],
        "portal": "/open-data",
        "publications": published,
    }
