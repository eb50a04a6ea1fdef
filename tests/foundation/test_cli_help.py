"""Every command's help reads as prose: no sentence is broken across lines by the docstring's
own line breaks (clikit.prose, applied by the root group to every command)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer
import typer.rich_utils
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.clikit import prose

#: A paragraph's list items start on their own line.
LIST_ITEM = re.compile(r"\n(?=\s*(?:[-*\u2022]|\d+[.)])\s)")


def commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if not sub.hidden:
            yield from commands(sub, (*path, name))


def sentences(help_text: str | None) -> list[str]:
    """The help's paragraphs (each list item apart), whitespace collapsed: what a reader
    should find on one line."""
    shown = (help_text or "").partition("\f")[0]
    pieces = []
    for paragraph in re.split(r"\n\s*\n", shown.strip()):
        if paragraph.startswith("\b"):
            continue
        pieces += [" ".join(item.split()) for item in LIST_ITEM.split(paragraph) if item.strip()]
    return pieces


def one_line(output: str) -> list[str]:
    """Each output line with the panel borders and runs of spaces collapsed."""
    return [" ".join(line.strip("│ ").split()) for line in output.splitlines()]


def test_every_commands_help_keeps_each_paragraph_on_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At 1,000 columns nothing needs wrapping, so any line break left inside a paragraph
    came from the source's hard breaks: each paragraph of a command's help, each
    subcommand's summary and each option's help must be found whole on one line."""
    monkeypatch.setattr(typer.rich_utils, "MAX_WIDTH", 1000)
    root = typer.main.get_command(app)
    walked = list(commands(root))
    assert len(walked) > 40  # every stage's commands, not just the root's
    broken: list[str] = []
    for path, command in walked:
        result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "1000"})
        assert result.exit_code == 0, (path, result.output)
        lines = one_line(result.output)
        expected = sentences(command.help)
        for sub in getattr(command, "commands", {}).values():
            if not sub.hidden and sub.help:
                expected.append(sentences(sub.short_help or sub.help)[0])
        expected += [
            text
            for param in command.params
            if getattr(param, "help", None) and not getattr(param, "hidden", False)
            for text in sentences(param.help)
        ]
        for text in expected:
            if not any(text in line for line in lines):
                broken.append(f"joinedup {' '.join(path)}: {text[:70]}…")
    assert not broken, "help broken across lines:\n" + "\n".join(broken)


def test_prose_joins_paragraph_lines_and_keeps_lists_and_marked_blocks() -> None:
    text = """Build a region: four boroughs and a data
    hub.

    Steps:
    - read the files,
      then check them
    - store them

    \b
    keep
    these lines
    \f
    internal note"""
    assert prose(text) == (
        "Build a region: four boroughs and a data hub.\n\n"
        "Steps:\n- read the files, then check them\n- store them\n\n"
        "\b\nkeep\nthese lines\f\ninternal note"
    )
    assert prose(None) is None and prose("") == ""
