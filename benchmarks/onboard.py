"""Benchmark the mapping suggestions on a corpus of generated council export layouts.

    .venv/bin/python benchmarks/onboard.py [--files N] [--rows N] [--seed S] [--holdout 0.3]

For every standard, N files (default 40, so at least 30 header variants each) are generated
from a seed: each keeps the standard's required fields and a random share of the others,
names each column from one of the field's names and perturbs it with general rules (case
style, separators, camelCase, a typo, words cut short or stripped of vowels, ``number`` as
``no``/``num``, words reordered, a system prefix), adds unrelated columns (notes, batch ids)
in random places, and writes values in the file's own formats (date formats, money with £ and
thousands separators, codes in another case or as their labels, blank and REDACTED values in a
redactable field).

Two arms are measured. *Seen*: column names start from any name the vocabulary lists.
*Held out*: a share (``--holdout``) of every field's vocabulary names is removed from the
engine for the run, and the corpus names those fields only from the removed names (or, for a
field with none removed, its title): the figure says how the engine does on names it has
never been given. Each file is suggested a mapping (unedited) and validated with it in DuckDB,
as ``joinedup ingest`` would (a file with a required field unmapped, or over 20% of rows
rejected, does not ingest). Reported: the share of files that ingest, the share of rows
accepted, and per-field precision (suggested columns that are the field's) and recall.
"""

from __future__ import annotations

import argparse
import random
import re
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import sre_constants
    import sre_parse
import statistics
import string
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from joinedup.config import Settings
from joinedup.errors import JoinedupError
from joinedup.ingest.guided import preview
from joinedup.ingest.suggest import suggest_mapping
from joinedup.standards import identifiers, list_standards, load_schema, required_fields
from joinedup.standards import vocab as vocab_module

DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%b-%Y", "%d/%m/%Y %H:%M:%S", "%d.%m.%Y", "serial")
WORDS = [
    "care",
    "fees",
    "repairs",
    "fuel",
    "rent",
    "office",
    "supplies",
    "consultancy",
    "transport",
    "agency",
    "staff",
    "grants",
    "equipment",
    "licences",
    "training",
    "catering",
    "cleaning",
    "security",
    "legal",
    "postage",
    "energy",
    "water",
    "adults",
    "housing",
    "schools",
    "highways",
    "waste",
    "parks",
    "libraries",
    "finance",
    "planning",
    "leisure",
]
SURNAMES = [
    "Smith",
    "Jones",
    "Okafor",
    "Nguyen",
    "Patel",
    "Brown",
    "Taylor",
    "Wilson",
    "Evans",
    "Khan",
    "Murphy",
    "Cohen",
]
FORENAMES = [
    "Amy",
    "John",
    "Siân",
    "Chidi",
    "Anh",
    "Priya",
    "Tom",
    "Ewan",
    "Zara",
    "Ola",
    "Mark",
    "Ruth",
]
DISTRACTORS = ("Notes", "Batch ID", "Extract Run", "Row Hash", "Comments", "Last Updated By",
               "Source System", "Record Status Flag", "Import Timestamp")  # fmt: skip
PREFIXES = ("", "", "", "", "fld_", "x_", "src ", "col_")
ARMS = ("seen", "held out")
SHORT = {"number": ("no", "num", "nbr"), "reference": ("ref",), "identifier": ("id",)}


# --- values ----------------------------------------------------------------------------------


def from_pattern(rng: random.Random, pattern: str) -> str:
    """A random string matching a (simple) regular expression, from its parse tree."""

    def emit(tree: Any) -> str:
        out = []
        for op, arg in tree:
            if op is sre_constants.LITERAL:
                out.append(chr(arg))
            elif op is sre_constants.IN:
                chars: list[str] = []
                for iop, iarg in arg:
                    if iop is sre_constants.LITERAL:
                        chars.append(chr(iarg))
                    elif iop is sre_constants.RANGE:
                        chars += [chr(c) for c in range(iarg[0], iarg[1] + 1)]
                    elif iop is sre_constants.CATEGORY:
                        chars += list(string.ascii_letters + string.digits)
                    elif iop is sre_constants.NEGATE:
                        chars = list(string.ascii_lowercase)
                        break
                out.append(rng.choice(chars))
            elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
                low, high, sub = arg
                high = min(high, low + 3)
                out += [emit(sub) for _ in range(rng.randint(low, high))]
            elif op is sre_constants.SUBPATTERN:
                out.append(emit(arg[-1]))
            elif op is sre_constants.BRANCH:
                out.append(emit(rng.choice(arg[1])))
            elif op is sre_constants.ANY:
                out.append(rng.choice(string.ascii_lowercase))
        return "".join(out)

    return emit(sre_parse.parse(pattern))


def _text_value(rng: random.Random, spec: dict[str, Any]) -> str:
    name = spec["name"]
    if name in ("given_name", "middle_names"):
        return rng.choice(FORENAMES)
    if name == "family_name":
        return rng.choice(SURNAMES)
    if name.endswith(("_ref", "_id", "_number", "_code")):
        return rng.choice(string.ascii_uppercase) + str(rng.randint(10000, 999999))
    if "name" in name or name.endswith(("_org", "agency")):
        return f"{rng.choice(SURNAMES)} {rng.choice(['Ltd', 'Services', 'Trust', 'plc'])}"
    return " ".join(rng.sample(WORDS, rng.randint(1, 3))).capitalize()


@dataclass
class FileStyle:
    """How one file writes its values."""

    date_format: str
    currency: bool
    code_case: str  # as, upper, title, label
    boolean: tuple[str, str]

    @classmethod
    def draw(cls, rng: random.Random) -> FileStyle:
        return cls(
            rng.choice(DATE_FORMATS),
            rng.random() < 0.5,
            rng.choice(("as", "as", "upper", "title", "label")),
            rng.choice((("Y", "N"), ("Yes", "No"), ("TRUE", "FALSE"), ("1", "0"))),
        )


def value(rng: random.Random, spec: dict[str, Any], style: FileStyle) -> str:
    kind, c = spec.get("type", "string"), spec.get("constraints", {})
    name = spec["name"]
    if kind == "date":
        day = date(2019, 1, 1) + timedelta(days=rng.randint(0, 6 * 365))
        if "birth" in name:
            day = date(1940, 1, 1) + timedelta(days=rng.randint(0, 70 * 365))
        if style.date_format == "serial":
            return str((day - date(1899, 12, 30)).days)
        return day.strftime(style.date_format)
    if kind == "number":
        low, high = float(c.get("minimum", 0)), float(c.get("maximum", 250000))
        amount = round(rng.uniform(max(low, 0), min(high, 250000)), 2)
        if style.currency:
            return f"£{amount:,.2f}"
        return f"{amount:.2f}"
    if kind == "integer":
        return str(rng.randint(int(c.get("minimum", 1)), int(c.get("maximum", 999999999))))
    if kind == "boolean":
        return rng.choice(style.boolean)
    if c.get("enum"):
        code = str(rng.choice(c["enum"]))
        labels = spec.get("x-joinedup-codes") or {}
        if style.code_case == "label" and code in labels:
            return str(labels[code])
        return {"upper": code.upper(), "title": code.title()}.get(style.code_case, code)
    if name == "nhs_number":
        return next(v for v in iter(lambda: f"{rng.randint(0, 10**10 - 1):010d}", None)
                    if identifiers.is_valid_nhs_number(v))  # fmt: skip
    if name == "upn":
        return next(v for v in iter(lambda: from_pattern(rng, c["pattern"]), None)
                    if identifiers.is_valid_upn(v))  # fmt: skip
    if c.get("pattern"):
        return from_pattern(rng, c["pattern"])
    return _text_value(rng, spec)[: c.get("maxLength", 200)]


# --- headers ---------------------------------------------------------------------------------


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("drop", "swap", "double", "replace"))
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "swap":
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice(string.ascii_lowercase) + word[i + 1 :]


def _shorten(rng: random.Random, word: str) -> str:
    if word in SHORT:
        return rng.choice(SHORT[word])
    if len(word) < 6:
        return word
    if rng.random() < 0.5:
        return word[: rng.randint(3, 4)]
    return word[0] + re.sub("[aeiou]", "", word[1:])


def perturb(rng: random.Random, name: str) -> str:
    """A header a council system might give ``name``: general rules, not a list of names."""
    words = vocab_module.header_words(name)
    if rng.random() < 0.3:
        i = rng.randrange(len(words))
        words[i] = _typo(rng, words[i])
    if rng.random() < 0.3:
        i = rng.randrange(len(words))
        words[i] = _shorten(rng, words[i])
    if len(words) == 2 and rng.random() < 0.1:
        words.reverse()
    style = rng.choice(("title", "upper", "lower", "snake", "camel", "pascal", "dots"))
    if style == "title":
        header = " ".join(w.capitalize() for w in words)
    elif style == "upper":
        header = rng.choice((" ", "_")).join(w.upper() for w in words)
    elif style == "lower":
        header = " ".join(words)
    elif style == "snake":
        header = "_".join(words)
    elif style == "camel":
        header = words[0] + "".join(w.capitalize() for w in words[1:])
    elif style == "pascal":
        header = "".join(w.capitalize() for w in words)
    else:
        header = ".".join(w.capitalize() for w in words)
    return rng.choice(PREFIXES) + header


# --- the corpus ------------------------------------------------------------------------------


@dataclass
class Layout:
    standard: str
    columns: list[str]
    truth: dict[str, str]  # column → field
    rows: list[list[str]]


@dataclass
class Split:
    """The vocabulary the engine sees, and the names held out of it for the corpus."""

    seen: dict[str, tuple[str, ...]]
    held: dict[str, tuple[str, ...]] = field(default_factory=dict)


def split_vocabulary(standard: str, share: float, rng: random.Random) -> Split:
    full = vocab_module.aliases(standard)
    split = Split({})
    for name, names in full.items():
        shuffled = list(names)
        rng.shuffle(shuffled)
        cut = round(len(shuffled) * share)
        split.held[name] = tuple(shuffled[:cut])
        split.seen[name] = tuple(shuffled[cut:])
    return split


def make_layout(
    rng: random.Random, standard: str, split: Split, held_out: bool, n_rows: int
) -> Layout:
    specs = load_schema(standard)["fields"]
    chosen = [s for s in specs if s.get("constraints", {}).get("required") or rng.random() < 0.6]
    style = FileStyle.draw(rng)
    columns: list[str] = []
    truth: dict[str, str] = {}
    for spec in chosen:
        if held_out:
            names = split.held.get(spec["name"]) or (spec.get("title", spec["name"]),)
        else:
            names = (spec["name"], spec.get("title", ""), *split.seen.get(spec["name"], ()))
        header = perturb(rng, rng.choice([n for n in names if n]))
        if header.lower() in {c.lower() for c in columns} or not header.strip("_. "):
            continue
        columns.append(header)
        truth[header] = spec["name"]
    for extra in rng.sample(DISTRACTORS, rng.randint(0, 3)):
        if extra.lower() not in {c.lower() for c in columns}:
            columns.insert(rng.randrange(len(columns) + 1), extra)
    by_name = {s["name"]: s for s in specs}
    plain = [k for k in load_schema(standard).get("primaryKey") or []
             if not by_name[k].get("constraints", {}).keys() & {"pattern", "enum"}
             and by_name[k]["type"] in ("string", "integer")]  # fmt: skip
    keys = set(plain[:1]) | {"source_record_id"}  # one key field unique makes the key unique
    rows = []
    for i in range(n_rows):
        row = []
        for column in columns:
            spec = by_name.get(truth.get(column, ""))
            if spec is None:
                row.append(f"x{rng.randint(1, 99)}")
            elif spec.get("x-joinedup-redactable") and rng.random() < 0.05:
                row.append(rng.choice(("", "REDACTED", "Redacted - personal data")))
            elif spec["name"] in keys or spec.get("constraints", {}).get("unique"):
                row.append(str(100000 + i) if spec["type"] == "integer" else f"R{i:06d}")
            else:
                row.append(value(rng, spec, style))
        rows.append(_consistent(standard, columns, truth, row))
    return Layout(standard, columns, truth, rows)


def _consistent(
    standard: str, columns: list[str], truth: dict[str, str], row: list[str]
) -> list[str]:
    """The standard's row checks hold: end dates after start dates, only-when fields blank."""
    at = {truth[c]: i for i, c in enumerate(columns) if c in truth}
    for check in load_schema(standard).get("x-joinedup-row-checks", []):
        if check["check"] == "date_order" and all(f in at for f in check["fields"]):
            start, end = (at[f] for f in check["fields"])
            row[end] = row[start]  # the same day is in order, in any format
        elif check["check"] == "only_when" and check["field"] in at:
            allowed = {str(v).lower() for v in check["in"]}
            if check["when"] not in at or row[at[check["when"]]].lower() not in allowed:
                row[at[check["field"]]] = ""
    return row


def write_csv(path: Path, layout: Layout) -> None:
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(layout.columns)
        writer.writerows(layout.rows)


@contextmanager
def engine_vocabulary(split_by_standard: dict[str, Split]) -> Iterator[None]:
    """The engine sees only each standard's ``seen`` names for the run."""
    original = vocab_module._resolved
    vocab_module._resolved = lambda standard: split_by_standard[standard].seen  # type: ignore[assignment]
    try:
        yield
    finally:
        vocab_module._resolved = original


# --- the measure -----------------------------------------------------------------------------


@dataclass
class Tally:
    files: int = 0
    ingested: int = 0
    rows: int = 0
    accepted: int = 0
    suggested: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    correct: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    present: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lost: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # why rows were lost


def measure(settings: Settings, layout: Layout, folder: Path, tally: Tally, today: str) -> None:
    sample = {c: [r[i] for r in layout.rows if r[i]] for i, c in enumerate(layout.columns)}
    draft, suggestions = suggest_mapping(layout.standard, layout.columns, sample)
    for f in set(layout.truth.values()):
        tally.present[f] += 1
    for s in suggestions:
        if s.column is not None:
            tally.suggested[s.field] += 1
            tally.correct[s.field] += layout.truth.get(s.column) == s.field
    tally.files += 1
    tally.rows += len(layout.rows)
    path = folder / f"{layout.standard}-{tally.files}.csv"
    write_csv(path, layout)
    try:
        report = preview(settings, path, draft, path.name, today)
    except JoinedupError as exc:
        unmapped = sorted(s.field for s in suggestions if s.column is None)
        missing = [f for f in unmapped if f in required_fields(layout.standard)]
        cause = f"unmapped {', '.join(missing)}" if missing else type(exc).__name__
        tally.lost[f"not ingested: {cause}"] += len(layout.rows)
        return
    finally:
        path.unlink(missing_ok=True)
    tally.accepted += report["accepted"]
    lost = "rejected"
    if report["rows"] and report["rejected"] / report["rows"] <= 0.2:
        tally.ingested += 1
    else:
        lost = "rejected, file over 20%"
    for rule in report["rules"]:
        mapped = next((s for s in suggestions if s.field == rule["field"]), None)
        wrong = mapped is not None and layout.truth.get(mapped.column or "") != rule["field"]
        why = "wrong column" if wrong else "right column"
        tally.lost[f"{lost}: {rule['field']} {rule['rule']} ({why})"] += rule["rows"]


def run(
    n_files: int,
    n_rows: int,
    seed: int,
    holdout: float,
    arms: tuple[str, ...] = ARMS,
    only: tuple[str, ...] = (),
) -> dict[str, dict[str, Tally]]:
    rng = random.Random(seed)
    standards = list_standards()
    split = {s: split_vocabulary(s, holdout, rng) for s in standards}
    results: dict[str, dict[str, Tally]] = {arm: {} for arm in arms}
    today = date.today().isoformat()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp) / "home")
        folder = Path(tmp)
        for arm, held in (("seen", False), ("held out", True)):
            if arm not in arms:
                continue
            context = engine_vocabulary(split) if held else _nothing()
            with context:
                for standard in standards:
                    if only and standard not in only:
                        continue
                    # each arm and standard its own corpus, so either can be run alone
                    rng = random.Random(f"{seed}/{arm}/{standard}")
                    tally = results[arm].setdefault(standard, Tally())
                    for _ in range(n_files):
                        layout = make_layout(rng, standard, split[standard], held, n_rows)
                        measure(settings, layout, folder, tally, today)
    return results


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def report(results: dict[str, dict[str, Tally]], why: int = 0) -> None:
    for arm, tallies in results.items():
        print(f"\n{arm}: files ingesting unedited, rows accepted, field precision / recall")
        all_files = all_ing = all_rows = all_acc = 0
        precisions = []
        for standard, t in tallies.items():
            sug = sum(t.suggested.values())
            cor = sum(t.correct.values())
            rec = cor / max(1, sum(t.present.values()))
            print(
                f"  {standard:24} {t.ingested:3}/{t.files:<3} ({t.ingested / t.files:5.1%})  "
                f"rows {t.accepted / t.rows:6.1%}  precision {cor / max(1, sug):6.1%}  "
                f"recall {rec:6.1%}"
            )
            all_files, all_ing = all_files + t.files, all_ing + t.ingested
            all_rows, all_acc = all_rows + t.rows, all_acc + t.accepted
            precisions += [t.correct[f] / t.suggested[f] for f in t.suggested if t.suggested[f]]
        print(
            f"  {'all':24} {all_ing:3}/{all_files:<3} ({all_ing / all_files:5.1%})  "
            f"rows {all_acc / all_rows:6.1%}  median field precision "
            f"{statistics.median(precisions):6.1%}, lowest {min(precisions):6.1%}"
        )
        worst = sorted(
            (
                (t.correct[f] / t.suggested[f], s, f)
                for s, t in tallies.items()
                for f in t.suggested
            ),
        )[:8]
        print("  lowest-precision fields: " + ", ".join(f"{s}.{f} {p:.0%}" for p, s, f in worst))
        if why:
            lost = sorted(((n, s, k) for s, t in tallies.items() for k, n in t.lost.items()),
                          reverse=True)[:why]  # fmt: skip
            print("  rows lost, most first:")
            for n, s, k in lost:
                print(f"    {n:6}  {s}: {k}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=40, help="files per standard and arm")
    parser.add_argument("--rows", type=int, default=60, help="rows per file")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--holdout", type=float, default=0.3)
    parser.add_argument("--arm", choices=ARMS, action="append", help="measure only this arm")
    parser.add_argument("--why", type=int, default=0, help="list the N largest row losses")
    parser.add_argument("--standard", action="append", help="measure only this standard")
    args = parser.parse_args()
    wall, cpu = time.perf_counter(), time.process_time()
    arms, only = tuple(args.arm or ARMS), tuple(args.standard or ())
    results = run(args.files, args.rows, args.seed, args.holdout, arms, only)
    report(results, args.why)
    print(
        f"\n{time.perf_counter() - wall:.0f} s wall, {time.process_time() - cpu:.0f} s CPU "
        f"(python {sys.version.split()[0]})"
    )


if __name__ == "__main__":
    main()
