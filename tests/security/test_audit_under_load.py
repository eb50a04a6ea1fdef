"""Concurrent readers of personal data never get a server error from the audit log (issue 15,
6: three clients were enough for ``UNIQUE constraint failed: audit_event.id``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import AuditEvent
from joinedup.governance.audit import verify_chain
from tests.security.conftest import DATASET, SHARED, Hub

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

CLIENTS = 6
READS = 10
URL = f"/api/v1/datasets/{SHARED}/{DATASET}/records"


def test_concurrent_reads_are_all_answered_and_all_audited(hub: Hub) -> None:
    clients = [hub.signed_in("lam-analyst") for _ in range(CLIENTS)]

    def read(client: TestClient) -> list[int]:
        return [
            client.get(URL, params={"fields": "source_record_id"}).status_code for _ in range(READS)
        ]

    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = [s for batch in pool.map(read, clients) for s in batch]
    assert statuses == [200] * (CLIENTS * READS)
    with session_scope(hub.settings) as session:
        reads = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "personal_data.read")
        )
        assert reads == CLIENTS * READS
        assert verify_chain(session) == []
