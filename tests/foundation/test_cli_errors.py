"""Every command fails cleanly: a walk over the whole ``joinedup`` command tree (read from the
Typer app, so a new command is covered without touching this file) with a missing home, an
uninitialised home, a missing, empty or binary file and bad option values. Each failure is one
``Error:`` line and a non-zero exit code, never a traceback (``joinedup.clikit.CleanErrors``).
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from joinedup.catalog.db import dispose_engines
from joinedup.cli import app
from joinedup.clikit import NEEDS_NO_HOME
from joinedup.home import init_home
from tests.support import make_settings

#: Commands that serve, poll or build a whole region when their input is good: they take part
#: only in the cases that must stop them before any work (their home or their options).
LONG_RUNNING = {"serve", "worker", "demo", "synth"}


def _commands() -> Iterator[tuple[str, Any]]:
    root = typer.main.get_command(app)
    ctx = typer.Context(root)

    def walk(command: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
        if hasattr(command, "list_commands"):
            for name in command.list_commands(ctx):
                yield from walk(command.get_command(ctx, name), [*path, name])
        else:
            yield " ".join(path), command

    yield from walk(root, [])


COMMANDS = dict(_commands())


def _annotation(param: Any) -> Any:
    annotation = param.type_descriptor.annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return args[0] if args and typing.get_origin(annotation) is not list else annotation


def _value(param: Any, file: Path) -> str:
    """A plausible value for a required parameter (the file under test for paths)."""
    kind = _annotation(param)
    if kind is Path:
        return str(file)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return str(next(iter(kind)).value)
    if typing.get_origin(kind) is typing.Literal:
        return str(typing.get_args(kind)[0])
    return {int: "1", float: "0.5"}.get(kind, "x")


def _args(path: str, file: Path, bad: Any = None) -> list[str]:
    """``joinedup PATH`` with every required parameter filled in; ``bad`` (an option) gets a
    value of the wrong type."""
    args = path.split()
    for param in COMMANDS[path].params:
        if param is bad:
            args += [param.opts[0], "not-a-number"]
        elif param.required:
            value = _value(param, file)
            args += [value] if not param.opts[0].startswith("-") else [param.opts[0], value]
    return args


def _has_path(path: str) -> bool:
    return any(_annotation(p) is Path for p in COMMANDS[path].params)


def _numeric_options() -> list[tuple[str, str]]:
    return [
        (path, p.name)
        for path, command in COMMANDS.items()
        for p in command.params
        if p.opts[0].startswith("--") and _annotation(p) in (int, float)
    ]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Fresh files for each test: a command may write where a path points (`backup FILE`)."""
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "empty.csv").write_bytes(b"")
    (folder / "binary.csv").write_bytes(bytes(range(256)) * 8)
    (folder / "header-only.csv").write_text("first_name,last_name,date_of_birth\n")
    return {
        "missing": folder / "no-such-file.csv",
        "empty": folder / "empty.csv",
        "binary": folder / "binary.csv",
        "header-only": folder / "header-only.csv",
    }


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    root = tmp_path_factory.mktemp("homes")
    (root / "uninitialised").mkdir()
    init_home(make_settings(root / "ready"))
    yield {
        "missing": root / "missing",
        "uninitialised": root / "uninitialised",
        "ready": root / "ready",
    }
    dispose_engines()


def run(args: list[str], home: Path) -> tuple[int, str]:
    """Run ``joinedup ARGS`` in this process; fail on any exception the CLI let escape."""
    env = {"JOINEDUP_HOME": str(home), "JOINEDUP_DEBUG": "", "JOINEDUP_DATABASE_URL": ""}
    result = CliRunner().invoke(app, args, env=env)
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), (
            f"joinedup {' '.join(args)} let {type(result.exception).__name__} escape"
        )
    return result.exit_code, result.output


def assert_one_line_error(code: int, output: str, args: list[str]) -> str:
    assert code != 0, f"joinedup {' '.join(args)} exited 0 on bad input:\n{output}"
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, f"joinedup {' '.join(args)}:\n{output}"
    assert "unexpected" not in errors[0], f"joinedup {' '.join(args)}: {errors[0]}"
    return errors[0]


NEED_HOME = sorted(p for p in COMMANDS if p not in NEEDS_NO_HOME)


def test_the_walk_sees_every_command() -> None:
    assert {"init", "store verify", "linkage ids", "dedupe", "match", "backup"} <= set(COMMANDS)
    assert len(COMMANDS) > 40
    unknown = NEEDS_NO_HOME - set(COMMANDS) - {"backup verify"}
    assert not unknown, f"NEEDS_NO_HOME names commands that do not exist: {unknown}"


@pytest.mark.parametrize("state", ["missing", "uninitialised"])
@pytest.mark.parametrize("path", NEED_HOME)
def test_a_command_without_a_home_says_to_run_init(
    path: str, state: str, homes: dict[str, Path], files: dict[str, Path]
) -> None:
    args = _args(path, files["header-only"])
    error = assert_one_line_error(*run(args, homes[state]), args)
    assert str(homes[state].resolve()) in error and "joinedup init" in error
    assert not homes["missing"].exists(), "a refused command created the home"


@pytest.mark.parametrize("kind", ["missing", "empty", "binary", "header-only"])
@pytest.mark.parametrize(
    "path", sorted(p for p in COMMANDS if _has_path(p) and p not in LONG_RUNNING)
)
def test_a_bad_file_is_refused_in_one_line(
    path: str, kind: str, homes: dict[str, Path], files: dict[str, Path]
) -> None:
    """A path given a bad file: either the command refuses it in one line, or (where the path
    is one it writes, as `backup FILE` and `--out`) it succeeds; never a traceback."""
    args = _args(path, files[kind])
    code, output = run(args, homes["ready"])
    if code != 0:
        assert_one_line_error(code, output, args)


@pytest.mark.parametrize(("path", "option"), _numeric_options())
def test_a_bad_option_value_is_a_usage_error(
    path: str, option: str, homes: dict[str, Path], files: dict[str, Path]
) -> None:
    bad = next(p for p in COMMANDS[path].params if p.name == option)
    args = _args(path, files["header-only"], bad)
    code, output = run(args, homes["ready"])
    error = assert_one_line_error(code, output, args)
    assert code == 2 and bad.opts[0] in error and "--help" in error


def test_dedupe_and_match_refuse_bad_files_as_ingest_does(
    homes: dict[str, Path], files: dict[str, Path], tmp_path: Path
) -> None:
    out = str(tmp_path / "out.csv")
    for kind, problem in [("header-only", "headers_only"), ("binary", "binary_content")]:
        for args in (
            ["dedupe", str(files[kind]), "--out", out],
            ["match", str(files[kind]), str(files["header-only"]), "--out", out],
        ):
            error = assert_one_line_error(*run(args, homes["ready"]), args)
            assert problem in error and files[kind].name in error


def test_debug_shows_the_traceback(homes: dict[str, Path], files: dict[str, Path]) -> None:
    args = ["dedupe", str(files["binary"]), "--out", str(files["missing"])]
    result = CliRunner().invoke(app, ["--debug", *args], env={"JOINEDUP_HOME": "x"})
    assert type(result.exception).__name__ == "IngestError"
    result = CliRunner().invoke(app, args, env={"JOINEDUP_DEBUG": "1"})
    assert type(result.exception).__name__ == "IngestError"


def test_an_unexpected_error_names_only_its_type() -> None:
    from joinedup.clikit import error_message

    message = error_message(KeyError("Jane Smith, 1 High Street"))
    assert message == "unexpected KeyError; run with --debug for details"
