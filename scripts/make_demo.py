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
DEMO_SIZE = (960, 720)  # frame (w, h)
DEMO_HEAD_SIDE = 700  # the 260 px head-and-shoulders crop, upscaled


def main() -> int:
    DEMO.mkdir(parents=True, exist_ok=True)
    target = DEMO / "astronaut.jpg"
    if target.exists() and cv2.imread(str(target)).shape[1::-1] == DEMO_SIZE:
        return 0
    try:
        from skimage import data
    except ImportError:
        print("make_demo: scikit-image missing (dev extra); no demo photo", file=sys.stderr)
        return 1
    rgb = data.astronaut()  # public domain (NASA), 512x512
    # A kiosk-like 4:3 frame: head and shoulders filling it as in front of a mirror, the face about
    # 0.27 of the frame width, so the capture gate lets the demo auto-capture (min_face_fraction).
    head = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)[5:265, 95:355]
    head = cv2.resize(head, (DEMO_HEAD_SIDE, DEMO_HEAD_SIDE), interpolation=cv2.INTER_CUBIC)
    pad_x = (DEMO_SIZE[0] - DEMO_HEAD_SIDE) // 2
    canvas = cv2.copyMakeBorder(head, 10, DEMO_SIZE[1] - DEMO_HEAD_SIDE - 10, pad_x, DEMO_SIZE[0] - DEMO_HEAD_SIDE - pad_x,
                                cv2.BORDER_REPLICATE)
    cv2.imwrite(str(target), canvas, [cv2.IMWRITE_JPEG_QUALITY, 92])
    print(f"make_demo: wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
