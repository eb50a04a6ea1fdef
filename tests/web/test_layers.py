"""The web is a thin layer: pages never import the API, and no web code decides anything by
reading an error's text (errors carry their status and field as data: joinedup.errors)."""

from __future__ import annotations

import ast
from pathlib import Path

import joinedup
from joinedup.errors import JoinedupError, Missing, Refused
from joinedup.governance.agreements import AgreementError, AgreementPermissionError
from joinedup.publish.definitions import PublicationError

SRC = Path(joinedup.__file__).parent


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_pages_do_not_import_the_api() -> None:
    offenders = {
        path.name: sorted(m for m in _imports(path) if m.startswith("joinedup.web.api"))
        for path in (SRC / "web" / "pages").glob("*.py")
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_services_do_not_import_the_web() -> None:
    services = [
        *(SRC / "governance" / "service").glob("*.py"),
        SRC / "ingest" / "service.py",
        SRC / "jobs" / "service.py",
    ]
    offenders = {
        str(path.relative_to(SRC)): sorted(
            m for m in _imports(path) if m.startswith("joinedup.web")
        )
        for path in services
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_no_web_code_reads_an_errors_text() -> None:
    """``str(exc)`` tested with ``in``, ``startswith``, ``partition`` … was how a status or a
    form field used to be chosen; the web now reads ``exc.status`` and ``exc.field``."""
    readers = []
    for path in (SRC / "web").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"partition", "removeprefix", "startswith", "split"}
                and isinstance(node.func.value, ast.Call)
                and isinstance(node.func.value.func, ast.Name)
                and node.func.value.func.id == "str"
                and node.func.value.args
                and isinstance(node.func.value.args[0], ast.Name)
                and node.func.value.args[0].id == "exc"
            ):
                readers.append(f"{path.relative_to(SRC)}:{node.lineno}")
            if isinstance(node, ast.Compare) and any(isinstance(o, ast.In) for o in node.ops):
                right = node.comparators[0]
                if (
                    isinstance(right, ast.Call)
                    and isinstance(right.func, ast.Name)
                    and right.func.id == "str"
                    and right.args
                    and isinstance(right.args[0], ast.Name)
                    and right.args[0].id == "exc"
                ):
                    readers.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert readers == []


def test_errors_carry_status_and_field_as_data() -> None:
    draft = AgreementError("an agreement 'x' already exists", status=422, field="reference")
    assert (draft.status, draft.field) == (422, "reference")
    assert str(draft) == "an agreement 'x' already exists"  # the CLI's wording is kept
    assert draft.detail == "An agreement 'x' already exists"  # people see a sentence
    assert draft.field_errors("name") == {"reference": "An agreement 'x' already exists"}
    assert AgreementError("only a draft can be proposed").status == 409
    assert AgreementPermissionError("only a data owner approves").status == 403
    note = PublicationError("at most 500 characters", field="note")
    assert str(note) == "note: at most 500 characters"  # the established wording
    assert note.field_message == "at most 500 characters"
    assert note.field_errors("name", known=("title",)) == {"name": "at most 500 characters"}
    assert Refused(409, "Already done", "code").status == 409
    assert isinstance(Missing("No such job"), LookupError)
    assert issubclass(AgreementError, JoinedupError) and issubclass(AgreementError, ValueError)
