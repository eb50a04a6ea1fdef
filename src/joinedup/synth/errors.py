"""The record-level error model: how one system's record of a person differs from the truth.

Every error is drawn per *source entity*: (seed, system, organisation, person) through a keyed
hash, so a system repeats the same mistake in every export, as a real database would; two
systems make independent mistakes. Each applied error is logged (truth/errors.parquet) so that
evaluation can tell what linkage had to overcome.

Rates come from :class:`~joinedup.synth.config.ErrorRates`, multiplied by the global
``error_rate`` and the system's scale in ``system_error_scale``. The errors:

=====================  ======================================================================
``typo``               one-character substitution, deletion, insertion or transposition
``nickname``           diminutive or spelling/transliteration variant (Robert→Bob, Md)
``family_variant``     accents dropped, apostrophes and spaces changed (O'Brien→OBrien)
``maiden_name``        birth surname shown instead of the married name
``hyphen_part``        one half of a hyphenated surname
``name_swap``          given and family names swapped
``missing``            field left blank (dob, middle name, postcode, identifiers, UPRN)
``day_month_swap``     date of birth with day and month transposed
``dob_digit``          date of birth a day, a year or ten years out
``identifier_typo``    NHS number / NI number / UPN with one digit changed or two swapped
``stale_address``      the address before a move, for a while after it
``postcode_typo``      one character of the postcode wrong
=====================  ======================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from .config import SynthConfig
from .util import MISSING_DAY, keyed_int, keyed_uniform

FIELDS = (
    "given_name",
    "middle_name",
    "family_name",
    "dob",
    "nhs_number",
    "ni_number",
    "upn",
    "address",
    "postcode",
    "uprn",
)
ERRORS = (
    "typo",
    "nickname",
    "family_variant",
    "maiden_name",
    "hyphen_part",
    "name_swap",
    "missing",
    "day_month_swap",
    "dob_digit",
    "identifier_typo",
    "stale_address",
    "postcode_typo",
)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_PC_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@dataclass
class ErrorLog:
    """Which rows of one file carry which error in which field."""

    rows: list[npt.NDArray[np.int64]] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(
        self,
        mask_or_rows: npt.NDArray[np.bool_] | npt.NDArray[np.int64],
        field_name: str,
        error: str,
        offset: int = 0,
    ) -> None:
        arr = np.asarray(mask_or_rows)
        rows = np.flatnonzero(arr) if arr.dtype == np.bool_ else arr.astype(np.int64)
        if rows.size:
            self.rows.append(rows + offset)
            self.fields.append(field_name)
            self.errors.append(error)

    def merge(self, other: ErrorLog, keep: npt.NDArray[np.bool_]) -> None:
        """Add ``other``'s entries for rows where ``keep`` is true."""
        for rows, f, e in zip(other.rows, other.fields, other.errors, strict=True):
            self.add(rows[keep[rows]], f, e)

    def table(
        self, record_ids: pa.Array, file_path: str, shown: frozenset[str] | None = None
    ) -> pa.Table | None:
        """The log as truth rows; ``shown`` limits it to fields the export actually carries."""
        keep = [i for i, f in enumerate(self.fields) if shown is None or f in shown]
        if not keep:
            return None
        rows = np.concatenate([self.rows[i] for i in keep])
        counts = [self.rows[i].size for i in keep]
        fields_kept = [self.fields[i] for i in keep]
        errors_kept = [self.errors[i] for i in keep]
        return pa.table(
            {
                "file": pa.array(np.full(rows.size, file_path, dtype=object), pa.string()),
                "record_id": pc.take(record_ids, pa.array(rows)),
                "field": pa.array(
                    np.repeat(np.array(fields_kept, dtype=object), counts), pa.string()
                ),
                "error": pa.array(
                    np.repeat(np.array(errors_kept, dtype=object), counts), pa.string()
                ),
            }
        )


def shown_fields(columns: set[str]) -> frozenset[str]:
    """Error-log field names that a layout with these canonical columns actually shows."""
    shown = set(columns) & {"dob", "nhs_number", "ni_number", "upn", "postcode", "uprn"}
    for name in ("given_name", "family_name", "middle_name"):
        if name in columns or "full_name" in columns:
            shown.add(name)
    if "joint_full_name" in columns:
        shown |= {"joint_given_name", "joint_family_name"}
    if columns & {"address", "address_line1"}:
        shown.add("address")
    return frozenset(shown)


def typo(text: str, op: int, pos: int, letter: int) -> str:
    """A one-character keying error (deterministic given op, pos, letter)."""
    if len(text) < 2:
        return text + _LETTERS[letter % 26]
    i = pos % len(text)
    ch = _LETTERS[letter % 26]
    if text[i].isupper():
        ch = ch.upper()
    if op == 0:  # substitution
        out = text[:i] + ch + text[i + 1 :]
    elif op == 1:  # deletion
        out = text[:i] + text[i + 1 :]
    elif op == 2:  # insertion (often a doubled letter)
        out = text[:i] + (text[i] if letter % 2 else ch) + text[i:]
    else:  # transposition of neighbours
        j = min(i, len(text) - 2)
        out = text[:j] + text[j + 1] + text[j] + text[j + 2 :]
    return out if out != text else text[:i] + ("x" if text[i] != "x" else "y") + text[i + 1 :]


def digit_typo(text: str, op: int, pos: int, digit: int) -> str:
    """Change one digit or swap two neighbouring digits (keeps letters and spaces)."""
    places = [i for i, ch in enumerate(text) if ch.isdigit()]
    if len(places) < 2:
        return text
    chars = list(text)
    i = places[pos % (len(places) - 1)]
    j = places[places.index(i) + 1]
    if op == 0 and chars[i] != chars[j]:
        chars[i], chars[j] = chars[j], chars[i]
    else:
        chars[i] = str((int(chars[i]) + 1 + digit % 9) % 10)
    return "".join(chars)


def postcode_typo(text: str, op: int, letter: int) -> str:
    outward, _, inward = text.partition(" ")
    if not inward:
        return text
    if op == 0:  # a wrong inward letter
        pos = 1 + letter % 2
        inward = inward[:pos] + _PC_LETTERS[letter % len(_PC_LETTERS)] + inward[pos + 1 :]
    elif op == 1:  # inward letters transposed
        inward = inward[0] + inward[2] + inward[1]
    else:  # a wrong inward digit
        inward = str((int(inward[0]) + 1 + letter % 9) % 10) + inward[1:]
    out = f"{outward} {inward}"
    return out if out != text else f"{outward} {inward[0]}{inward[2]}{inward[1]}X"[: len(text)]


class ErrorModel:
    """Draws the errors one system of one organisation makes."""

    def __init__(self, config: SynthConfig, system: str, organisation: str) -> None:
        self.config = config
        self.system = system
        self.organisation = organisation
        self.scale = config.error_rate * config.system_error_scale.get(system, 1.0)
        self.rates = config.errors

    def rate(self, name: str) -> float:
        return float(min(1.0, getattr(self.rates, name) * self.scale))

    def u(self, keys: npt.ArrayLike, *labels: object) -> npt.NDArray[np.float64]:
        return keyed_uniform(keys, self.config.seed, self.system, self.organisation, *labels)

    def i(self, keys: npt.ArrayLike, high: int, *labels: object) -> npt.NDArray[np.int64]:
        return keyed_int(keys, high, self.config.seed, self.system, self.organisation, *labels)

    def hit(self, keys: npt.ArrayLike, rate_name: str, *labels: object) -> npt.NDArray[np.bool_]:
        rate = self.rate(rate_name)
        if rate <= 0:
            return np.zeros(np.asarray(keys).shape, dtype=np.bool_)
        return self.u(keys, rate_name, *labels) < rate

    # --- strings ---
    def typo_strings(
        self, values: pa.Array, mask: npt.NDArray[np.bool_], keys: npt.ArrayLike, label: str
    ) -> pa.Array:
        rows = np.flatnonzero(mask & ~np.asarray(pc.is_null(values)))
        if rows.size == 0:
            return values
        k = np.asarray(keys)[rows]
        op = self.i(k, 4, label, "op")
        pos = self.i(k, 97, label, "pos")
        letter = self.i(k, 26, label, "letter")
        texts = pc.take(values, pa.array(rows)).to_pylist()
        cache: dict[tuple[str, int, int, int], str] = {}
        out = []
        for t, o, p, c in zip(texts, op.tolist(), pos.tolist(), letter.tolist(), strict=True):
            key = (t, o, p, c)
            v = cache.get(key)
            if v is None:
                v = cache[key] = typo(t, o, p, c)
            out.append(v)
        full = np.zeros(len(values), dtype=np.bool_)
        full[rows] = True
        return pc.replace_with_mask(values, pa.array(full), pa.array(out, pa.string()))

    def identifier_errors(
        self, values: pa.Array, keys: npt.ArrayLike, field_name: str, log: ErrorLog
    ) -> pa.Array:
        keys = np.asarray(keys)
        present = ~np.asarray(pc.is_null(values))
        typo_mask = present & self.hit(keys, "identifier_typo", field_name)
        rows = np.flatnonzero(typo_mask)
        if rows.size:
            k = keys[rows]
            op = self.i(k, 2, field_name, "op").tolist()
            pos = self.i(k, 31, field_name, "pos").tolist()
            dig = self.i(k, 9, field_name, "digit").tolist()
            texts = pc.take(values, pa.array(rows)).to_pylist()
            new = [digit_typo(t, o, p, d) for t, o, p, d in zip(texts, op, pos, dig, strict=True)]
            values = pc.replace_with_mask(values, pa.array(typo_mask), pa.array(new, pa.string()))
            log.add(typo_mask, field_name, "identifier_typo")
        missing = present & ~typo_mask & self.hit(keys, "missing_identifier", field_name)
        if missing.any():
            values = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), values)
            log.add(missing, field_name, "missing")
        return values

    def postcode_errors(self, values: pa.Array, keys: npt.ArrayLike, log: ErrorLog) -> pa.Array:
        keys = np.asarray(keys)
        typo_mask = self.hit(keys, "postcode_typo")
        rows = np.flatnonzero(typo_mask)
        if rows.size:
            k = keys[rows]
            op = self.i(k, 3, "postcode", "op").tolist()
            letter = self.i(k, 20, "postcode", "letter").tolist()
            texts = pc.take(values, pa.array(rows)).to_pylist()
            new = [postcode_typo(t, o, c) for t, o, c in zip(texts, op, letter, strict=True)]
            values = pc.replace_with_mask(values, pa.array(typo_mask), pa.array(new, pa.string()))
            log.add(typo_mask, "postcode", "postcode_typo")
        missing = ~typo_mask & self.hit(keys, "missing_postcode")
        if missing.any():
            values = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), values)
            log.add(missing, "postcode", "missing")
        return values

    # --- dates of birth ---
    def dob_errors(
        self, dob: npt.NDArray[np.int32], keys: npt.ArrayLike, log: ErrorLog
    ) -> npt.NDArray[np.int32]:
        keys = np.asarray(keys)
        out = dob.copy()
        dates = dob.astype("datetime64[D]")
        years = dates.astype("datetime64[Y]")
        months = dates.astype("datetime64[M]")
        day = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
        month = (months - years.astype("datetime64[M]")).astype(np.int64) + 1
        swappable = (day <= 12) & (day != month)
        swap = swappable & self.hit(keys, "dob_day_month_swap")
        if swap.any():
            swapped = (years.astype("datetime64[M]") + (day - 1)).astype("datetime64[D]") + (
                month - 1
            )
            out = np.where(swap, swapped.astype(np.int64), out).astype(np.int32)
            log.add(swap, "dob", "day_month_swap")
        digit = ~swap & self.hit(keys, "dob_digit")
        if digit.any():
            kind = self.i(keys, 4, "dob_digit_kind")
            shift = np.choose(
                kind,
                [
                    np.ones_like(kind),
                    -np.ones_like(kind),
                    np.full_like(kind, 365),
                    np.full_like(kind, 3653),
                ],
            )
            out = np.where(digit, out + shift, out).astype(np.int32)
            log.add(digit, "dob", "dob_digit")
        missing = self.hit(keys, "missing_dob")
        if missing.any():
            out = np.where(missing, MISSING_DAY, out).astype(np.int32)
            log.add(missing, "dob", "missing")
        return out
