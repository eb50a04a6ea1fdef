"""Given-name variants from a maintained dataset: the ``nicknames`` package.

The package ships a hand-curated CSV of English given names and their nicknames and
diminutives (Robert–Bob–Rob, Elizabeth–Liz–Beth, Henry–Harry, ...). Two given names are
*variants* when one is listed as a nickname of the other, in either direction: one hop only,
so James and Benjamin (both related to Jamie) are not variants of each other. The lookup is a
DuckDB table ``name_variants(name, variants)`` in the normalised form (upper case), joined onto
records when they are prepared for linkage.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import suppress
from functools import lru_cache
from importlib.metadata import version

import duckdb
import jellyfish
from duckdb.func import FunctionNullHandling
from duckdb.sqltypes import VARCHAR
from nicknames import name_triplets

TABLE = "name_variants"
#: The SQL function giving a name's sound key (see :func:`sound_key`).
SOUND_KEY = "name_sound_key"


def dataset_version() -> str:
    """The versions of the name-variant dataset and sound key in use (recorded in every model)."""
    return f"nicknames {version('nicknames')}, jellyfish {version('jellyfish')} (Metaphone)"


@lru_cache(maxsize=1)
def variant_pairs() -> dict[str, tuple[str, ...]]:
    """Each name (upper case) and the names it is directly related to, sorted."""
    related: dict[str, set[str]] = defaultdict(set)
    for triplet in name_triplets():
        a, b = triplet.name1.strip().upper(), triplet.name2.strip().upper()
        if a and b and a != b:
            related[a].add(b)
            related[b].add(a)
    return {name: tuple(sorted(names)) for name, names in sorted(related.items())}


def sound_key(name: str | None) -> str | None:
    """The name's Metaphone key (``jellyfish``), or None when it is shorter than two letters.

    Spellings of one name in another alphabet or language often share it where the nickname
    data has no entry (Muhammad/Mohammed/Mohamed MHMT, Piotr/Peter PTR, Jan/John JN). A
    one-letter key (Joao, Jo and Jay are all J) says too little to count.
    """
    if not name:
        return None
    key = jellyfish.metaphone(name)
    return key if len(key) >= 2 else None


def register_variants(con: duckdb.DuckDBPyConnection, table: str = TABLE) -> str:
    """Create (or replace) the variants table in ``con``, register the sound-key function
    :data:`SOUND_KEY` and return the table's name. The lists go to DuckDB as parameters, not
    through pyarrow, whose ``pa.array`` imports pandas (0.7 s of every ``joinedup match`` and
    ``dedupe``)."""
    with suppress(duckdb.NotImplementedException):  # already registered on this connection
        con.create_function(
            SOUND_KEY,
            sound_key,
            [VARCHAR],
            VARCHAR,
            null_handling=FunctionNullHandling.SPECIAL,
            side_effects=False,
        )
    pairs = variant_pairs()
    con.execute(
        f"""CREATE OR REPLACE TABLE {table} AS
        SELECT unnest($names) AS name, unnest($variants) AS variants""",
        {"names": list(pairs), "variants": [list(v) for v in pairs.values()]},
    )
    return table


def are_variants(a: str, b: str) -> bool:
    """Python twin of the SQL test (for tests and explanations)."""
    a, b = a.upper(), b.upper()
    pairs = variant_pairs()
    return b in pairs.get(a, ()) or a in pairs.get(b, ())
