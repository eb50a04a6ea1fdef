"""Make the role guides' pictures (docs/guides/img/) from the journey tests' screenshots.

Run the journeys first (they screenshot the synthetic demo region only), then one of:

    .venv/bin/python scripts/guide-images.py                 # analyst, hub admin, public guides
    .venv/bin/python scripts/guide-images.py caseworker dpo  # every step of these journeys
    .venv/bin/python scripts/guide-images.py --shrink FILE…  # reduce pictures in place

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
WIDTH, HEIGHT, LIMIT = 960, 1500, 200_000
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


def reduce(image: Image.Image, colours: int) -> Image.Image:
    return image.convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT)


def save(source: Path, target: Path, top: int = 0, colours: int = 64) -> int:
    """Crop ``source`` from ``top``, scale it to ``WIDTH`` and save it reduced; its size."""
    with Image.open(source) as opened:
        image = opened.convert("RGB")
    top = min(top, max(image.height - 200, 0))
    image = image.crop((0, top, image.width, min(image.height, top + HEIGHT)))
    scaled = image.resize((WIDTH, round(image.height * WIDTH / image.width)), Image.LANCZOS)
    reduce(scaled, colours).save(target, optimize=True)
    return target.stat().st_size


def report(target: Path, size: int) -> bool:
    print(f"{target}: {size:,} bytes")
    if size >= LIMIT:
        print(f"  too big (limit {LIMIT:,} bytes)", file=sys.stderr)
    return size < LIMIT


def main(args: list[str]) -> int:
    if args[:1] == ["--shrink"]:
        ok = True
        for name in args[1:]:
            with Image.open(name) as opened:
                small = reduce(opened, 128)
            small.save(name, optimize=True)
            ok &= report(Path(name), Path(name).stat().st_size)
        return 0 if ok else 1
    OUT.mkdir(parents=True, exist_ok=True)
    if args:  # every step of these roles' journeys
        jobs = [
            (f"{role}-{shot.name}", shot, 0)
            for role in args
            for shot in sorted((SHOTS / role).glob("*.png"))
        ]
    else:
        jobs = [(name, SHOTS / role / step, top) for name, (role, step, top) in PICTURES.items()]
    missing = [str(source.relative_to(ROOT)) for _, source, _ in jobs if not source.is_file()]
    if missing:
        print("missing (run the journey tests first): " + ", ".join(missing), file=sys.stderr)
        return 1
    ok = True
    for name, source, top in jobs:
        target = OUT / name
        ok &= report(target.relative_to(ROOT), save(source, target, top, 128 if args else 64))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
