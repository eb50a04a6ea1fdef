"""Reduce PNG screenshots to a 128-colour palette (Pillow) so each stays under 200 KB.

Usage: .venv/bin/python scripts/shrink-screenshots.py docs/guides/images/*.png
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

LIMIT = 200 * 1024


def shrink(path: Path, colours: int = 128) -> int:
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)
    return path.stat().st_size


if __name__ == "__main__":
    for name in sys.argv[1:]:
        size = shrink(Path(name))
        print(f"{name}: {size / 1024:.0f} KB{'  (over 200 KB)' if size > LIMIT else ''}")
