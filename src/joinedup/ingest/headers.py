"""How much a column header reads like a standard field's name.

A field is known by its name, its title and the sector's names for it
(:mod:`joinedup.standards.vocab`). A header is compared with each of them, tolerating what real
exports do to names: case, spacing, underscores and camelCase (``TransNo``), typos
(``Expenditure Catergory``), abbreviations (``Trans No``, ``Amt``, ``Dept``), run-together
abbreviations (``caporrev``) and acronyms (``PD`` for polling district). Fuzzy string
similarity is rapidfuzz's.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import DamerauLevenshtein

from joinedup.standards.vocab import aliases, header_words

STOP_WORDS = frozenset({"of", "or", "the", "and", "a", "to", "in", "for", "by", "on", "per"})

#: Abbreviations no prefix or subsequence rule recovers (general English, not any one system).
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "no": ("number",),
    "nr": ("number",),
    "txn": ("transaction",),
    "tx": ("transaction",),
    "qty": ("quantity",),
    "dob": ("birth",),
    "ref": ("reference",),
    "id": ("identifier", "reference"),
    "yr": ("year",),
    "cd": ("code",),
    "ac": ("account",),
    "pcode": ("postcode",),
}


def _subsequence(short: str, word: str) -> bool:
    it = iter(word)
    return all(ch in it for ch in short)


@functools.lru_cache(maxsize=65536)
def token_similarity(token: str, word: str) -> float:
    """1 for the same word, less for an abbreviation or a misspelling of it, 0 otherwise."""
    if token == word:
        return 1.0
    if word in ABBREVIATIONS.get(token, ()):
        return 0.95
    if len(token) >= 3 and word.startswith(token):
        return 0.9
    if (
        len(token) >= 3
        and token[0] == word[0]
        and len(token) * 3 >= len(word)
        and len(token) < len(word)
        and _subsequence(token, word)
    ):
        return 0.85
    if min(len(token), len(word)) >= 4:
        edits = DamerauLevenshtein.distance(token, word, score_cutoff=2)
        if edits == 1 or (edits == 2 and max(len(token), len(word)) >= 8):
            return 0.9 if edits == 1 else 0.82  # a typo: Catergory, Organisatonal, Nmae
    return 0.0


def _content(words: list[str]) -> list[str]:
    kept = [w for w in words if w not in STOP_WORDS]
    return kept or words


def _dice(header: list[str], name: list[str]) -> float:
    """Words of the name matched by words of the header (each used once), as a Dice score."""
    h, n = _content(header), _content(name)
    if not h or not n:
        return 0.0
    used: set[int] = set()
    total = 0.0
    for word in n:
        best, best_i = 0.0, -1
        for i, token in enumerate(h):
            if i in used:
                continue
            sim = token_similarity(token, word)
            if sim > best:
                best, best_i = sim, i
        if best_i >= 0:
            used.add(best_i)
            total += best
    return 2 * total / (len(h) + len(n))


def _run_together(compact: str, name: list[str]) -> bool:
    """``caporrev`` is ``cap`` + ``or`` + ``rev``: prefixes of the name's words, in order."""

    @functools.cache
    def fits(i: int, j: int) -> bool:
        if i == len(compact):
            return all(w in STOP_WORDS for w in name[j:])
        if j == len(name):
            return False
        word = name[j]
        if word in STOP_WORDS and fits(i, j + 1):
            return True
        for length in range(len(word), min(2, len(word)) - 1, -1):
            if compact.startswith(word[:length], i) and fits(i + length, j + 1):
                return True
        return any(
            word in full and compact.startswith(short, i) and fits(i + len(short), j + 1)
            for short, full in ABBREVIATIONS.items()
        )

    return len(name) >= 2 and fits(0, 0)


def _typo(a: str, b: str) -> float:
    """Whole-string similarity, counted only when the strings differ by a typo or two (and
    not in their numbers: ``address line 2`` is no typo of ``address line 1``)."""
    if re.findall(r"\d+", a) != re.findall(r"\d+", b):
        return 0.0
    ratio = fuzz.ratio(a, b) / 100
    return ratio * 0.97 if ratio >= 0.9 else 0.0


def words(text: str) -> list[str]:
    """A header's words with numbers apart from letters (``addressLine1`` → address line 1)."""
    return [w for part in header_words(text) for w in re.findall(r"[a-z]+|[0-9]+", part)]


def numbers_disagree(spec: dict[str, Any], header: str) -> bool:
    """True when the field's own name or title has numbers and the header others only
    (``Address 3`` for ``address_line_1``)."""
    own = {w for w in words(f"{spec['name']} {spec.get('title', '')}") if w.isdigit()}
    given = {w for w in words(header) if w.isdigit()}
    return bool(own) and bool(given) and not own & given


def phrase_similarity(header: str, name: str) -> float:
    """How alike a header and one name of a field are, from 0 to 1."""
    h, n = words(header), words(name)
    if not h or not n:
        return 0.0
    if h == n:
        return 1.0
    compact_h, compact_n = "".join(h), "".join(n)
    if compact_h == compact_n:
        return 0.98
    scores = [_dice(h, n), _typo(" ".join(h), " ".join(n))]
    if len(h) == 1:
        content = _content(n)
        if len(content) >= 2 and compact_h == "".join(w[0] for w in content):
            scores.append(0.85)  # an acronym: PD for Polling District
        if _run_together(compact_h, n):
            scores.append(0.9)
        scores.append(_typo(compact_h, compact_n))
    return max(scores)


def field_names_for(standard: str, spec: dict[str, Any]) -> tuple[str, ...]:
    """Every name a field goes by: its own, its title and the sector's names for it."""
    names = [spec["name"].replace("_", " "), str(spec.get("title", ""))]
    names += aliases(standard).get(spec["name"], ())
    return tuple(dict.fromkeys(n for n in names if n))


def header_similarity(names: tuple[str, ...], header: str) -> tuple[float, str]:
    """The best similarity of ``header`` to any of ``names``, and that name."""
    best, which = 0.0, ""
    for name in names:
        score = phrase_similarity(header, name)
        if score > best:
            best, which = score, name
    return best, which
