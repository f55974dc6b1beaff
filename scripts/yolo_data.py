"""A YOLO-format split of labelled face photos (`images/`, `labels/`), as the training and evaluation
scripts read it. Build and evaluation time only: nothing in `edge/` reads labelled data.

Label lines are `class cx cy w h`, normalised to the image; an empty label file means the image was
labelled as having none of the classes ("clean"). Classes are those of acne-new v36
(`../shared/data/acne-new-v36/README.md`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CLASS_NAMES = ("acne", "mole1", "mole2", "pimple", "scar", "spot")
ACNE, MOLE1, MOLE2, PIMPLE, SCAR, SPOT = range(6)

# Evaluation families (issue 11): acne = acne + pimple, speckle = spot, mole = mole1 + mole2; scars are
# neither found nor missed.
FAMILY_OF_CLASS = {ACNE: "acne", PIMPLE: "acne", SPOT: "speckle", MOLE1: "mole", MOLE2: "mole", SCAR: None}
FAMILIES = ("acne", "speckle", "mole")

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
GROUPS = ("ffhq", "portrait", "web")
_FFHQ = re.compile(r"^\d{5}_png")  # FFHQ-numbered photos: 00048_png_jpg.rf....


def source_group(name: str) -> str:
    """ffhq (FFHQ-numbered), portrait (`-is-a-` rural portraits, mostly darker skin), web (the rest:
    web, stock photos and selfies)."""
    if _FFHQ.match(name):
        return "ffhq"
    if "-is-a-" in name:
        return "portrait"
    return "web"


@dataclass(frozen=True)
class LabelledImage:
    path: Path
    boxes: np.ndarray  # (N, 5) float: class, cx, cy, w, h normalised to the image

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def group(self) -> str:
        return source_group(self.path.name)

    @property
    def clean(self) -> bool:
        return len(self.boxes) == 0

    def boxes_px(self, width: int, height: int) -> np.ndarray:
        """(N, 5): class, x0, y0, x1, y1 in image pixels."""
        b = self.boxes
        out = np.zeros((len(b), 5), np.float64)
        if len(b):
            out[:, 0] = b[:, 0]
            out[:, 1] = (b[:, 1] - b[:, 3] / 2) * width
            out[:, 2] = (b[:, 2] - b[:, 4] / 2) * height
            out[:, 3] = (b[:, 1] + b[:, 3] / 2) * width
            out[:, 4] = (b[:, 2] + b[:, 4] / 2) * height
        return out


def read_labels(path: Path) -> np.ndarray:
    rows = []
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 5:
                rows.append([float(p) for p in parts])
    return np.asarray(rows, np.float64).reshape(-1, 5)


def load_split(split_dir: str | Path) -> list[LabelledImage]:
    """Every image of a split that has a label file, sorted by name (deterministic order)."""
    split_dir = Path(split_dir)
    images, labels = split_dir / "images", split_dir / "labels"
    if not images.is_dir() or not labels.is_dir():
        raise SystemExit(f"{split_dir}: expected images/ and labels/ folders (YOLO layout)")
    out = []
    for path in sorted(images.iterdir()):
        if path.suffix.lower() in IMAGE_SUFFIXES:
            label = labels / (path.stem + ".txt")
            if label.exists():
                out.append(LabelledImage(path, read_labels(label)))
    return out
