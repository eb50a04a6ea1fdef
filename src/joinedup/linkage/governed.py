"""Linkage views are governed like any other read.

A linkage view (the review queue, a pair, a resident) names source records by their key
(``<organisation>/<dataset>/<source_record_id>``). That a record exists is itself personal
data (a children's social care episode, a benefit claim), so a view shows a record's key,
dataset and organisation only where the one policy decision
(:func:`joinedup.governance.policy.decide`) lets the viewer read the record's
``source_record_id`` under the purpose they act under: their own organisation's records, or
those an agreement shares with them for that purpose. Every other record shows as
:data:`HIDDEN`, and a reviewer decides only pairs whose two records they may see.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Dataset, Organisation
from joinedup.config import Settings
from joinedup.governance.access import Actor
from joinedup.governance.policy import AccessRequest, decide

#: What a view shows in place of a record the viewer may not know of.
HIDDEN = "A record held by another organisation"
KEY_FIELD = ("source_record_id",)


def source_of(key: str) -> str:
    """``organisation/dataset`` of a record key ('' for a hidden record)."""
    if not key:
        return ""
    organisation, dataset, _ = key.split("/", 2)
    return f"{organisation}/{dataset}"


class Visibility:
    """Which sources (``organisation/dataset``) ``actor`` may know the records of, decided
    once per source by the policy decision and kept for the view."""

    def __init__(self, settings: Settings, actor: Actor, today: date | None = None) -> None:
        self.settings, self.actor = settings, actor
        self.today = today or date.today()
        self._seen: dict[str, bool] = {}

    def _decide(self, source: str) -> bool:
        organisation, _, dataset = source.partition("/")
        if self.actor.purpose is None:
            return False
        with session_scope(self.settings) as session:
            found = session.execute(
                select(Organisation.id, Dataset.standard)
                .join(Dataset, Dataset.organisation_id == Organisation.id)
                .where(Organisation.code == organisation, Dataset.name == dataset)
            ).first()
            if found is None:
                return False
            provider, standard = found
            return decide(
                session,
                AccessRequest(
                    user_id=self.actor.user_id,
                    organisation_id=self.actor.organisation_id,
                    purpose=self.actor.purpose,
                    provider_id=int(provider),
                    dataset=dataset,
                    standard=str(standard),
                    fields=KEY_FIELD,
                    today=self.today,
                ),
            ).allow

    def sees_source(self, source: str) -> bool:
        if source not in self._seen:
            self._seen[source] = bool(source) and self._decide(source)
        return self._seen[source]

    def sees(self, key: str) -> bool:
        """May the viewer know of the record ``key``?"""
        return self.sees_source(source_of(key))

    def visible_sources(self, sources: list[str]) -> list[str]:
        return [s for s in sources if self.sees_source(s)]
