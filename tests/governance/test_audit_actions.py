"""The audit action registry: every action appended is declared once, and the subject access
export's disclosures are the declared disclosing actions."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import AgreementStatus, AuditEvent
from joinedup.config import Settings
from joinedup.governance.audit import append_event
from joinedup.governance.audit_actions import (
    DISCLOSURES,
    AuditAction,
    UnregisteredAction,
    agreement_moved,
)
from joinedup.rights import subject

SRC = Path(__file__).resolve().parents[2] / "src" / "joinedup"
ACTION_NAME = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
#: Functions that pass their ``action`` argument on to ``append_event``, and its position.
WRAPPERS = {"append_event": None, "audit_as": 2, "audit": 2, "_audit_view": 2, "_log_view": 3}


def _actions_named_in_source() -> dict[str, list[str]]:
    """Every string literal passed as an audit action anywhere in the package, with where."""
    found: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name not in WRAPPERS:
                continue
            position = WRAPPERS[name]
            values = [k.value for k in node.keywords if k.arg == "action"]
            if position is not None and len(node.args) > position:
                values.append(node.args[position])
            for value in values:
                for literal in ast.walk(value):
                    if (
                        isinstance(literal, ast.Constant)
                        and isinstance(literal.value, str)
                        and ACTION_NAME.match(literal.value)
                    ):
                        where = f"{path.relative_to(SRC)}:{node.lineno}"
                        found.setdefault(literal.value, []).append(where)
    return found


def test_every_action_named_in_the_source_is_declared() -> None:
    named = _actions_named_in_source()
    undeclared = {
        action: where for action, where in named.items() if action not in set(AuditAction)
    }
    assert not undeclared, f"declare these in joinedup.governance.audit_actions: {undeclared}"


def test_every_declared_action_is_used() -> None:
    """A declared action that nothing appends is dead (agreement moves are named by status)."""
    source = "\n".join(p.read_text() for p in SRC.rglob("*.py") if p.name != "audit_actions.py")
    moves = {agreement_moved(status) for status in AgreementStatus}
    unused = [
        action
        for action in AuditAction
        if action not in moves
        and f"AuditAction.{action.name}" not in source
        and f'"{action.value}"' not in source
    ]
    assert not unused


def test_appending_an_undeclared_action_is_refused(home_settings: Settings) -> None:
    with session_scope(home_settings) as session:
        with pytest.raises(UnregisteredAction, match=r"personal_data\.peek"):
            append_event(session, actor="test", action="personal_data.peek")
        before = session.query(AuditEvent).count()
        event = append_event(session, actor="test", action=AuditAction.SIGN_IN)
        assert event.action == "auth.sign_in"
        assert session.query(AuditEvent).count() == before + 1


def test_disclosures_are_the_declared_disclosing_actions() -> None:
    assert subject.DISCLOSURES is DISCLOSURES
    assert set(DISCLOSURES) == {a.value for a in AuditAction if a.discloses}
    # the reads the gateways write are disclosures
    assert {"personal_data.read", "personal_data.process", "rights.find"} <= set(DISCLOSURES)
    assert all(DISCLOSURES.values())
