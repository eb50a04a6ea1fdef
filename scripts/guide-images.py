"""Make the role guides' pictures (docs/guides/img/) from the journey tests' screenshots.

Run the journeys first (they screenshot the synthetic demo region only):

    .venv/bin/pytest tests/browser/test_journeys.py
    .venv/bin/python scripts/guide-images.py

Each picture is the top of one step's full-page screenshot (at most ``HEIGHT`` pixels, from
``top``), scaled to ``WIDTH`` and reduced to a small palette, so each stays under 200 KB.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "tests" / ".screenshots"
OUT = ROOT / "docs" / "guides" / "img"
WIDTH, HEIGHT, LIMIT = 960, 1300, 200_000
#: picture name -> (role folder, step file, top pixel of the crop)
PICTURES = {
    "analyst-dashboard.png": ("analyst", "02-dashboard.png", 180),
    "analyst-dashboard-map.png": ("analyst", "02-dashboard.png", 1500),
    "analyst-fairness.png": ("analyst", "05-fairness-method.png", 180),
    "analyst-impact-form.png": ("analyst", "06-impact-list.png", 180),
    "analyst-impact-error.png": ("analyst", "07-impact-error.png", 0),
    "analyst-impact-estimate.png": ("analyst", "08-impact-estimate.png", 180),
    "hub-admin-home.png": ("hub-admin", "01-home.png", 0),
    "hub-admin-failed-jobs.png": ("hub-admin", "02-failed-jobs.png", 0),
    "hub-admin-new-user.png": ("hub-admin", "07-new-user.png", 0),
    "hub-admin-user-added.png": ("hub-admin", "08-user-added.png", 0),
    "public-open-data.png": ("public", "02-open-data.png", 0),
    "public-dataset.png": ("public", "04-aggregate-dataset.png", 0),
    "public-no-chart.png": ("public", "04-aggregate-dataset.png", 900),
    "public-spend-chart.png": ("public", "05-spend-dataset.png", 900),
}


def picture(source: Path, top: int) -> Image.Image:
    image = Image.open(source).convert("RGB")
    top = min(top, max(image.height - 200, 0))
    image = image.crop((0, top, image.width, min(image.height, top + HEIGHT)))
    scaled = image.resize((WIDTH, round(image.height * WIDTH / image.width)), Image.LANCZOS)
    return scaled.quantize(colors=64, method=Image.Quantize.MEDIANCUT)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    missing = []
    for name, (role, step, top) in PICTURES.items():
        source = SHOTS / role / step
        if not source.is_file():
            missing.append(str(source.relative_to(ROOT)))
            continue
        target = OUT / name
        picture(source, top).save(target, optimize=True)
        size = target.stat().st_size
        print(f"{target.relative_to(ROOT)}: {size:,} bytes")
        if size >= LIMIT:
            print(f"  too big (limit {LIMIT:,} bytes)", file=sys.stderr)
            return 1
    if missing:
        print("missing (run the journey tests first): " + ", ".join(missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
