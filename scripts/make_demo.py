#!/usr/bin/env python3
"""Put the demo media in place (data/demo/): public-domain photos from scikit-image's bundled data.

The replay source and `scripts/run.sh` use them when no camera is present. Not committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"


def main() -> int:
    DEMO.mkdir(parents=True, exist_ok=True)
    target = DEMO / "astronaut.jpg"
    if target.exists():
        return 0
    try:
        from skimage import data
    except ImportError:
        print("make_demo: scikit-image missing (dev extra); no demo photo", file=sys.stderr)
        return 1
    rgb = data.astronaut()  # public domain (NASA), 512x512
    # A kiosk-like frame: the portrait upscaled on a 1280x720 canvas.
    img = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    img = cv2.resize(img, (720, 720), interpolation=cv2.INTER_CUBIC)
    canvas = cv2.copyMakeBorder(img, 0, 0, 280, 280, cv2.BORDER_REPLICATE)
    cv2.imwrite(str(target), canvas, [cv2.IMWRITE_JPEG_QUALITY, 92])
    print(f"make_demo: wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
