#!/usr/bin/env python3
"""Draw the demo catalogue's placeholder product images (catalogue/images/*.png, committed).

One flat picture per product, drawn with OpenCV: the container of its routine step (pump bottle for
cleanse, dropper for treat, jar for moisturise, tube for protect) in its brand's colour with the brand's
initials. Deterministic: the same catalogue draws the same files. Run after adding a demo product:

    .venv/bin/python scripts/make_catalogue_images.py [catalogue/catalogue.yaml]
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edge.shop.catalogue import load_catalogue  # noqa: E402

SIZE = 160  # px: a card shows it at ~96 px, the report at ~40 px
BACKGROUND = (244, 241, 238)  # BGR, warm off-white shelf
INK = (60, 50, 45)


def brand_colour(brand: str) -> tuple[int, int, int]:
    """A stable, muted colour per brand (hue from its name's hash)."""
    hue = hashlib.sha256(brand.encode()).digest()[0] * 180 // 256
    hsv = np.uint8([[[hue, 90, 200]]])
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def initials(brand: str) -> str:
    return "".join(w[0] for w in brand.split()[:2]).upper()


def draw(step: str, brand: str) -> np.ndarray:
    img = np.full((SIZE, SIZE, 3), BACKGROUND, np.uint8)
    c = brand_colour(brand)
    aa = cv2.LINE_AA
    if step == "cleanse":  # pump bottle
        cv2.rectangle(img, (52, 52), (108, 146), c, -1, aa)
        cv2.rectangle(img, (70, 34), (90, 52), INK, -1, aa)
        cv2.rectangle(img, (60, 26), (104, 34), INK, -1, aa)
    elif step == "treat":  # dropper bottle
        cv2.rectangle(img, (56, 70), (104, 146), c, -1, aa)
        cv2.rectangle(img, (68, 48), (92, 70), INK, -1, aa)
        cv2.ellipse(img, (80, 40), (10, 14), 0, 0, 360, INK, -1, aa)
    elif step == "moisturise":  # jar
        cv2.rectangle(img, (36, 84), (124, 140), c, -1, aa)
        cv2.rectangle(img, (32, 64), (128, 84), INK, -1, aa)
    else:  # protect: tube, cap down
        pts = np.array([[48, 24], [112, 24], [100, 120], [60, 120]], np.int32)
        cv2.fillPoly(img, [pts], c, aa)
        cv2.rectangle(img, (62, 120), (98, 146), INK, -1, aa)
    text = initials(brand)
    scale = 0.8
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, scale, 2)
    cy = 112 if step == "moisturise" else 96
    cv2.putText(img, text, (80 - tw // 2, cy + th // 2), cv2.FONT_HERSHEY_DUPLEX, scale, (255, 255, 255), 2, aa)
    return img


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    path = Path(args[0]) if args else ROOT / "catalogue" / "catalogue.yaml"
    import yaml

    # Read the raw rows (the catalogue validates only once its images exist), draw, then validate.
    for item in yaml.safe_load(path.read_text(encoding="utf-8"))["products"]:
        target = path.parent / item["image"]
        target.parent.mkdir(parents=True, exist_ok=True)
        ok, buf = cv2.imencode(".png", draw(str(item["step"]), str(item["brand"])),
                               [cv2.IMWRITE_PNG_COMPRESSION, 9])
        assert ok
        target.write_bytes(buf.tobytes())
    load_catalogue(path, currency="EUR")  # now every image is there: the file must validate
    print(f"make_catalogue_images: drew {len(list((path.parent / 'images').glob('*.png')))} images")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
