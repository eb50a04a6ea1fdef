"""The audit chain's anchor: signed checkpoints of its head, kept outside the database.

The hash chain (:mod:`joinedup.governance.audit`) shows an edit, a deletion in the middle or a
reordering, but not a deletion of the last events, nor an edit followed by recomputing every
later hash: the database alone holds nothing the chain can be checked against. So, after every
commit that appended audit events, the new head (event id and hash) is signed with Ed25519
(the ``cryptography`` library) and appended to ``<home>/audit/checkpoints.jsonl`` in the data
plane. The signing key is derived (HKDF-SHA256) from the home's secret key, which is held
outside the database (``JOINEDUP_SECRET_KEY`` or ``<home>/secret.key``), so whoever can change
the database cannot write a checkpoint that verifies.

:func:`verify_anchor` reports, per guarantee: a checkpoint whose signature fails (the
checkpoints file was edited), a log that ends before a signed head (truncation), and an event
whose hash differs from a signed one (rewrite). Writing a checkpoint never fails the request:
the commit it follows has already happened.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from joinedup.catalog.models import AuditEvent
from joinedup.config import Settings

log = logging.getLogger(__name__)

HEAD_KEY = "joinedup_audit_head"
SETTINGS_KEY = "joinedup_settings"
_INFO = b"joinedup audit checkpoints v1"
SIGNATURE, TRUNCATION, REWRITE = "signature", "truncation", "rewrite"
#: Where the checkpoints are kept, relative to the home (backups carry the file: ADR 0028).
CHECKPOINTS = "audit/checkpoints.jsonl"


def checkpoints_file(settings: Settings) -> Path:
    return settings.home / CHECKPOINTS


def checkpoint_head(line: str) -> tuple[int, str] | None:
    """The event id and hash a checkpoint line records (None: not a readable checkpoint;
    its signature is not checked here)."""
    try:
        item = json.loads(line)
        return int(item["event_id"]), str(item["hash"])
    except (ValueError, KeyError, TypeError):
        return None


def unverified_checkpoints(settings: Settings) -> int:
    """How many checkpoint lines do not verify with this home's key (0: none, or no file)."""
    return len(_read(settings)[1])


def _secret(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.secret_key_file
    if not path.exists():
        from joinedup.home import ensure_secret_key

        return ensure_secret_key(settings).encode()
    return path.read_text().strip().encode()


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The checkpoint signing key, derived from the home's secret key."""
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        _secret(settings)
    )
    return Ed25519PrivateKey.from_private_bytes(seed)


def _message(event_id: int, head: str, signed_at: str) -> bytes:
    return f"joinedup-audit-checkpoint\n{event_id}\n{head}\n{signed_at}".encode()


def write_checkpoint(settings: Settings, event_id: int, head: str) -> None:
    """Append a signed checkpoint of the head ``event_id`` (whose hash is ``head``)."""
    signed_at = datetime.now(UTC).isoformat(timespec="microseconds")
    signature = signing_key(settings).sign(_message(event_id, head, signed_at))
    line = json.dumps(
        {
            "event_id": event_id,
            "hash": head,
            "signed_at": signed_at,
            "signature": base64.b64encode(signature).decode(),
        },
        separators=(",", ":"),
    )
    path = checkpoints_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode())  # one write: lines of concurrent writers never mix
    finally:
        os.close(fd)


def note_head(session: Session, event_id: int, head: str) -> None:
    """Remember the head this transaction appended, to be signed once it commits."""
    session.info[HEAD_KEY] = (event_id, head)


@event.listens_for(Session, "after_commit")
def _sign_committed_head(session: Session) -> None:
    head = session.info.pop(HEAD_KEY, None)
    settings = session.info.get(SETTINGS_KEY)
    if head is None or not isinstance(settings, Settings):
        return
    try:
        write_checkpoint(settings, *head)
    except OSError as exc:  # never an outage: the next commit anchors a later head
        log.warning("could not write an audit checkpoint: %s", type(exc).__name__)


@event.listens_for(Session, "after_rollback")
def _forget_head(session: Session) -> None:
    session.info.pop(HEAD_KEY, None)


@dataclass(frozen=True)
class AnchorProblem:
    """A guarantee the anchor says failed: ``signature``, ``truncation`` or ``rewrite``."""

    guarantee: str
    event_id: int
    problem: str


@dataclass(frozen=True)
class AnchorReport:
    checkpoints: int  # checkpoints whose signature verified
    anchored_to: int  # the highest event id a valid checkpoint signs (0: none)
    problems: list[AnchorProblem]


def _read(settings: Settings) -> tuple[list[dict[str, Any]], list[AnchorProblem]]:
    path = checkpoints_file(settings)
    if not path.exists():
        return [], []
    public = signing_key(settings).public_key()
    valid: list[dict[str, Any]] = []
    problems: list[AnchorProblem] = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            event_id, head = int(item["event_id"]), str(item["hash"])
            public.verify(
                base64.b64decode(item["signature"]),
                _message(event_id, head, str(item["signed_at"])),
            )
        except (ValueError, KeyError, TypeError, InvalidSignature):
            problems.append(
                AnchorProblem(
                    SIGNATURE,
                    0,
                    f"checkpoint line {number} does not verify: the checkpoints file was edited",
                )
            )
            continue
        valid.append({"event_id": event_id, "hash": head})
    return valid, problems


def verify_anchor(settings: Settings, session: Session, batch: int = 1000) -> AnchorReport:
    """Check the log against every signed checkpoint (see the module docstring)."""
    checkpoints, problems = _read(settings)
    last = session.scalar(select(func.max(AuditEvent.id))) or 0
    signed: dict[int, str] = {}
    for item in checkpoints:
        signed.setdefault(item["event_id"], item["hash"])
    anchored = max(signed, default=0)
    if anchored > last:
        problems.append(
            AnchorProblem(
                TRUNCATION,
                anchored,
                f"the log ends at event {last} but a signed checkpoint records event {anchored}: "
                f"events {last + 1}..{anchored} were deleted",
            )
        )
    wanted = sorted(i for i in signed if i <= last)
    for start in range(0, len(wanted), batch):
        chunk = wanted[start : start + batch]
        rows = session.execute(
            select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.id.in_(chunk))
        ).all()
        stored = {int(i): str(h) for i, h in rows}
        for event_id in chunk:
            if event_id not in stored:
                problems.append(
                    AnchorProblem(
                        TRUNCATION, event_id, "a signed event is missing: events were deleted"
                    )
                )
            elif stored[event_id] != signed[event_id]:
                problems.append(
                    AnchorProblem(
                        REWRITE,
                        event_id,
                        "the event's hash differs from the signed checkpoint: the log was "
                        "rewritten up to here",
                    )
                )
    return AnchorReport(len(checkpoints), anchored, problems)
