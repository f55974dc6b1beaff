"""`--overlay` draws the findings (issue 14): lesion boxes, wrinkle lines, eye polygons, pore and
blackhead circles in the kiosk page's colours, with a legend; regions only with --overlay-regions."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np

from edge.overlay import FINDING_LAYERS, draw_findings

BOX = {"left": 100.0, "top": 120.0, "right": 120.0, "bottom": 140.0}


def _face() -> dict:
    return {
        "location": {"left": 40.0, "top": 40.0, "width": 300.0, "height": 300.0},
        "acnespotmole": {"acne_list": [{"type": 2, "score": 0.8, **BOX}], "speckle_list": [], "mole_list": []},
        "wrinkle": {"wrinkle_data": [[{"x": 200.0, "y": 80.0}, {"x": 260.0, "y": 80.0}]]},
        "eyesattr": {"dark_circle_left": [{"x": 150.0, "y": 200.0}, {"x": 190.0, "y": 200.0}, {"x": 170.0, "y": 230.0}]},
        "blackheadpore": {"circles": [{"blackhead": [], "pore": [{"x": 250.0, "y": 250.0, "r": 6.0}]}]},
    }


def _has(img: np.ndarray, colour: tuple[int, int, int], y0: int, y1: int, x0: int, x1: int) -> bool:
    patch = img[y0:y1, x0:x1].astype(int)
    return bool((np.abs(patch - np.array(colour)).sum(axis=2) <= 30).any())


def test_findings_are_drawn_in_the_page_colours_at_their_place_with_a_legend() -> None:
    img = np.full((400, 400, 3), 128, np.uint8)
    out = draw_findings(img, [_face()])
    assert _has(out, FINDING_LAYERS["acne"][1], 118, 142, 98, 122)
    assert _has(out, FINDING_LAYERS["wrinkle"][1], 78, 83, 200, 260)
    assert _has(out, FINDING_LAYERS["dark_circle"][1], 198, 232, 148, 192)
    assert _has(out, FINDING_LAYERS["pores"][1], 242, 258, 242, 258)
    assert not _has(out, FINDING_LAYERS["mole"][1], 0, 400, 0, 400)  # no mole: no mole colour, no legend row
    legend = out[0:120, 0:160]
    assert (legend > 200).all(axis=2).mean() > 0.1  # the light legend panel
    for layer in ("acne", "wrinkle", "dark_circle", "pores"):
        assert _has(legend, FINDING_LAYERS[layer][1], 0, 120, 0, 40), layer


def test_findings_in_original_px_are_scaled_to_the_analysis_image() -> None:
    img = np.full((200, 200, 3), 128, np.uint8)  # the analysis image is half the original
    out = draw_findings(img, [{"acnespotmole": {"acne_list": [{"type": 0, "score": 0.5, **BOX}]}}], to_original=2.0)
    assert _has(out, FINDING_LAYERS["acne"][1], 58, 72, 48, 62) and not _has(out, FINDING_LAYERS["acne"][1], 118, 142, 98, 122)


def test_cli_overlay_draws_findings_and_regions_only_on_request(tmp_path, astronaut_bgr) -> None:
    photo = tmp_path / "a.jpg"
    cv2.imwrite(str(photo), astronaut_bgr)
    plain, regions = tmp_path / "plain.png", tmp_path / "regions.png"
    for out, extra in ((plain, []), (regions, ["--overlay-regions"])):
        proc = subprocess.run([sys.executable, "-m", "edge.cli", "analyze", str(photo), "--fields", "all",
                               "--overlay", str(out), *extra], capture_output=True, text=True, timeout=180)
        assert proc.returncode == 0, proc.stderr
    a, b = cv2.imread(str(plain)), cv2.imread(str(regions))
    src = cv2.imread(str(photo))
    assert _has(a, FINDING_LAYERS["location"][1], 0, 512, 0, 512)  # face box + legend at least
    changed_plain = (np.abs(a.astype(int) - src).sum(axis=2) > 40).sum()
    changed_regions = (np.abs(b.astype(int) - src).sum(axis=2) > 40).sum()
    assert changed_regions > changed_plain * 1.5  # mesh and region outlines only with --overlay-regions
