"""Copy the journey tests' screenshots into docs/guides/img/, small enough to commit.

    .venv/bin/pytest tests/browser/test_journeys_casework.py   # writes tests/.screenshots/
    .venv/bin/python scripts/guide_images.py caseworker data-owner dpo

Each screenshot is cut to its first 1,500 pixels (the top of a long page tells its story),
scaled to 960 pixels wide and reduced to a 128-colour palette; each must end under 200 KB.
The screenshots come from the synthetic demo region only.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tests" / ".screenshots"
TARGET = ROOT / "docs" / "guides" / "img"
WIDTH, MAX_HEIGHT, LIMIT = 960, 1500, 200_000


def shrink(source: Path, target: Path) -> int:
    with Image.open(source) as image:
        image = image.convert("RGB")
        image = image.crop((0, 0, image.width, min(image.height, MAX_HEIGHT)))
        height = round(image.height * WIDTH / image.width)
        image = image.resize((WIDTH, height), Image.Resampling.LANCZOS)
        image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
    return target.stat().st_size


def main(roles: list[str]) -> int:
    TARGET.mkdir(parents=True, exist_ok=True)
    for role in roles:
        for source in sorted((SOURCE / role).glob("*.png")):
            target = TARGET / f"{role}-{source.name}"
            size = shrink(source, target)
            print(f"{target.relative_to(ROOT)}: {size // 1000} KB")
            if size >= LIMIT:
                print(f"  too big (limit {LIMIT // 1000} KB)", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
