"""Regenerate the shipped reference model from a built index's model.

    python -m joinedup.linkage.reference <home>     # e.g. a `joinedup demo` home

The reference model holds the parameters learned on the synthetic demo region. The standalone
commands use it for files too small to train on (see ``MIN_TRAINING_RECORDS``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from joinedup.linkage.model import REFERENCE_MODEL


def main(argv: list[str]) -> int:
    home = Path(argv[0]) if argv else Path("joinedup-demo")
    models = sorted((home / "linkage" / "models").glob("*.json"), key=lambda p: int(p.stem))
    if not models:
        print(f"no model under {home}/linkage/models", file=sys.stderr)
        return 1
    data = json.loads(models[-1].read_text(encoding="utf-8"))
    training = data.get("training", {})
    data["training"] = {
        k: training.get(k) for k in ("records", "options", "probability_two_random_records_match")
    }
    REFERENCE_MODEL.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    print(f"wrote {REFERENCE_MODEL} from {models[-1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
