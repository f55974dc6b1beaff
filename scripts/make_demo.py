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
BACKGROUND_BGR = (196, 198, 200)  # a neutral light grey wall around the photo
FEATHER_PX = 48  # the photo's edges fade into the wall over this width (no hard seam, no smeared border)
DEMO_VERSION = "2"  # bump when the frame changes, so set-up rewrites an older one


def demo_frame(head_bgr):
    """The kiosk-like frame: the head photo on a neutral wall, its edges feathered into it."""
    import numpy as np

    head = cv2.resize(head_bgr, (DEMO_HEAD_SIDE, DEMO_HEAD_SIDE), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    ramp = np.clip(np.minimum(np.arange(DEMO_HEAD_SIDE), np.arange(DEMO_HEAD_SIDE)[::-1]) / FEATHER_PX, 0, 1)
    alpha = np.minimum.outer(ramp, ramp)[..., None]
    canvas = np.empty((DEMO_SIZE[1], DEMO_SIZE[0], 3), np.float32)
    canvas[:] = BACKGROUND_BGR
    x0, y0 = (DEMO_SIZE[0] - DEMO_HEAD_SIDE) // 2, 10
    window = canvas[y0 : y0 + DEMO_HEAD_SIDE, x0 : x0 + DEMO_HEAD_SIDE]
    window[:] = alpha * head + (1 - alpha) * window
    return np.clip(canvas + 0.5, 0, 255).astype(np.uint8)


def main() -> int:
    DEMO.mkdir(parents=True, exist_ok=True)
    target, stamp = DEMO / "astronaut.jpg", DEMO / ".version"
    if target.exists() and stamp.exists() and stamp.read_text().strip() == DEMO_VERSION:
        return 0
    try:
        from skimage import data
    except ImportError:
        print("make_demo: scikit-image missing (dev extra); no demo photo", file=sys.stderr)
        return 1
    rgb = data.astronaut()  # public domain (NASA), 512x512
    # A kiosk-like 4:3 frame: head and shoulders filling it as in front of a mirror, the face about
    # 0.27 of the frame width, so the capture gate lets the demo auto-capture (min_face_fraction).
    canvas = demo_frame(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)[5:265, 95:355])
    cv2.imwrite(str(target), canvas, [cv2.IMWRITE_JPEG_QUALITY, 92])
    stamp.write_text(DEMO_VERSION + "\n")
    print(f"make_demo: wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
