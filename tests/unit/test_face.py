"""Face stage on real photographs: detection, roll, multiple faces, mesh placement, regions."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.errors import ErrorKind, SkinKioskError
from edge.face.detector import AnchorSpec
from edge.face.mesh import roll_degrees
from edge.face.regions import EXCLUSIONS, SKIN_REGIONS

# The astronaut's face box from BlazeFace is ~96 px wide in the 512 px photo.
ASTRONAUT_FACE_W = 96.0


def test_anchor_counts_match_models():
    assert len(AnchorSpec(128, (8, 16, 16, 16), 1.0).anchors()) == 896
    assert len(AnchorSpec(192, (4,), 0.0).anchors()) == 2304


def test_astronaut_one_face_box_contains_eyes_and_mouth(engine, astronaut_bgr):
    faces = engine.analyze(astronaut_bgr, max_faces=10)
    assert len(faces) == 1
    loc = faces[0]["location"]
    ctx = engine.face_contexts(astronaut_bgr)[0]
    kp = ctx.detection.keypoints  # right eye, left eye, nose, mouth
    for x, y in (kp[0], kp[1], kp[3]):
        assert loc["left"] <= x <= loc["left"] + loc["width"]
        assert loc["top"] <= y <= loc["top"] + loc["height"]
    assert abs(loc["degree"]) <= 8  # she holds her head nearly upright
    assert len(faces[0]["face_token"]) == 32 and int(faces[0]["face_token"], 16) >= 0


def test_face_token_is_random_per_request(engine, astronaut_bgr):
    a = engine.analyze(astronaut_bgr)[0]["face_token"]
    b = engine.analyze(astronaut_bgr)[0]["face_token"]
    assert a != b


def _rotate(img: np.ndarray, clockwise_deg: float) -> np.ndarray:
    h, w = img.shape[:2]
    side = int(np.hypot(h, w)) + 4
    canvas = cv2.copyMakeBorder(img, (side - h) // 2, (side - h + 1) // 2, (side - w) // 2, (side - w + 1) // 2,
                                cv2.BORDER_REPLICATE)
    # getRotationMatrix2D turns counter-clockwise for positive angles (y down): negate for clockwise.
    m = cv2.getRotationMatrix2D((side / 2, side / 2), -clockwise_deg, 1.0)
    return cv2.warpAffine(canvas, m, (side, side), borderMode=cv2.BORDER_REPLICATE)


@pytest.mark.parametrize("clockwise", [30, -30])
def test_degree_is_clockwise_roll(engine, astronaut_bgr, clockwise):
    upright = engine.analyze(astronaut_bgr)[0]["location"]["degree"]
    face = engine.analyze(_rotate(astronaut_bgr, clockwise))[0]
    assert face["location"]["degree"] - upright == pytest.approx(clockwise, abs=5)


def test_roll_sign_convention():
    assert roll_degrees(np.array([0.0, 0.0]), np.array([10.0, 0.0])) == 0
    assert roll_degrees(np.array([0.0, 0.0]), np.array([10.0, 10.0])) == pytest.approx(45)  # left eye lower: clockwise
    assert roll_degrees(np.array([0.0, 0.0]), np.array([10.0, -10.0])) == pytest.approx(-45)


def test_two_faces_side_by_side(engine, astronaut_bgr):
    small = cv2.resize(astronaut_bgr, (384, 384), interpolation=cv2.INTER_AREA)
    small = cv2.copyMakeBorder(small, 64, 64, 0, 0, cv2.BORDER_REPLICATE)
    pair = np.hstack([astronaut_bgr, small])
    assert len(engine.analyze(pair, max_faces=2)) == 2
    only = engine.analyze(pair)
    assert len(only) == 1
    assert only[0]["location"]["left"] < 512  # the larger face is the full-size copy on the left


def test_five_faces_64_to_400_px_on_1080p(engine, astronaut_bgr):
    canvas = np.full((1080, 1920, 3), (120, 140, 150), np.uint8)
    widths = [64, 110, 180, 280, 400]
    x = 20
    centers = []
    for w in widths:
        scale = w / ASTRONAUT_FACE_W
        crop = astronaut_bgr[60:210, 150:300]  # the face with a margin (1.56x its width)
        tile = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        th, tw = tile.shape[:2]
        y = (1080 - th) // 2
        canvas[y : y + th, x : x + tw] = tile
        centers.append((x + tw / 2, y + th / 2))
        x += tw + 15
    faces = engine.analyze(canvas, max_faces=10)
    assert len(faces) == 5
    found = sorted(f["location"]["left"] + f["location"]["width"] / 2 for f in faces)
    for (cx, _), fx in zip(sorted(centers), found, strict=True):
        assert abs(cx - fx) < 60
    widths_found = sorted(f["location"]["width"] for f in faces)
    assert widths_found[0] < 100 and widths_found[-1] > 300


def _face_patch(astronaut_bgr, width: float) -> np.ndarray:
    scale = width / ASTRONAUT_FACE_W
    crop = astronaut_bgr[60:210, 150:300]  # the face with a margin (1.56x its width)
    return cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def test_a_64_px_face_is_found_wherever_it_stands_on_1080p(engine, astronaut_bgr):
    """Issue 14: a small face was lost at some places (BlazeFace full-range scores a 16 px face 0.13-0.93
    depending on where it sits in a 768 px tile). Swept over a 10 x 6 grid reaching every edge."""
    patch = _face_patch(astronaut_bgr, 64)
    ph, pw = patch.shape[:2]
    lost = []
    for y in np.linspace(0, 1080 - ph, 6).astype(int):
        for x in np.linspace(0, 1920 - pw, 10).astype(int):
            canvas = np.full((1080, 1920, 3), (128, 128, 128), np.uint8)
            canvas[y : y + ph, x : x + pw] = patch
            found = engine.detector.detect(canvas, max_faces=1)
            if not (found and abs((found[0].box[0] + found[0].box[2]) / 2 - (x + pw / 2)) < 32
                    and abs((found[0].box[1] + found[0].box[3]) / 2 - (y + ph / 2)) < 32):
                lost.append((int(x), int(y)))
    assert not lost, f"64 px face lost at {lost}"


@pytest.mark.parametrize("top", [0, 300, 1080 - 625])  # top edge, middle, bottom edge (the 400 px face: 625 px)
def test_row_of_five_faces_65_to_400_px_all_found(engine, astronaut_bgr, top):
    canvas = np.full((1080, 1920, 3), (128, 128, 128), np.uint8)
    x, centers = 10, []
    for w in (65, 110, 180, 280, 400):
        patch = _face_patch(astronaut_bgr, w)
        ph, pw = patch.shape[:2]
        canvas[top : top + ph, x : x + pw] = patch
        centers.append(x + pw / 2)
        x += pw + 20
    faces = engine.face_contexts(canvas, max_faces=10)  # detection, then the mesh's presence check
    found = sorted((f.detection.box[0] + f.detection.box[2]) / 2 for f in faces)
    assert len(found) == 5, found
    assert all(abs(a - b) < 40 for a, b in zip(sorted(centers), found, strict=True))


def test_no_face_in_coffee(engine, coffee_bgr):
    with pytest.raises(SkinKioskError) as info:
        engine.analyze(coffee_bgr)
    assert info.value.kind is ErrorKind.NO_FACE


def test_mesh_eye_corners_land_on_detector_eyes(engine, astronaut_bgr):
    ctx = engine.face_contexts(astronaut_bgr)[0]
    lm, kp = ctx.landmarks[:, :2], ctx.detection.keypoints
    face_w = ctx.detection.width
    # BlazeFace gives eye centres; the midpoint of each eye's two mesh corners must lie within 5 %.
    right = (lm[33] + lm[133]) / 2
    left = (lm[263] + lm[362]) / 2
    assert np.linalg.norm(right - kp[0]) < 0.05 * face_w
    assert np.linalg.norm(left - kp[1]) < 0.05 * face_w


def test_regions_are_named_placed_and_exclusive(engine, astronaut_bgr):
    ctx = engine.face_contexts(astronaut_bgr)[0]
    regions = ctx.regions
    for name in SKIN_REGIONS + EXCLUSIONS + ("face", "skin"):
        assert regions.mask(name).any(), name
    for name in SKIN_REGIONS:
        overlap = (regions.mask(name) > 0) & (regions.mask("exclusion") > 0)
        assert not overlap.any(), f"{name} overlaps an exclusion"
    # the person's left is at larger x in the unmirrored crop
    def cx(n: str) -> float:
        return float(np.nonzero(regions.mask(n))[1].mean())

    for pair in ("cheek", "under_eye", "crows_feet", "nasolabial", "eye", "brow"):
        assert cx(f"{pair}_left") > cx(f"{pair}_right"), pair

    def cy(n: str) -> float:
        return float(np.nonzero(regions.mask(n))[0].mean())

    assert cy("forehead") < cy("glabella") < cy("nose") < cy("perioral") < cy("chin")
    assert cy("under_eye_left") < cy("cheek_left")
    # crop coordinates map back into the detection box
    eye = ctx.crop_to_original(regions.polygon("eye_left").mean(0, keepdims=True))[0]
    assert np.linalg.norm(eye - ctx.detection.keypoints[1]) < 0.1 * ctx.detection.width
    assert 40 < ctx.ipd_px < 400 and ctx.mm_per_px > 0


def test_overlay_draws(engine, astronaut_bgr):
    from edge.overlay import draw_faces

    ctx = engine.face_contexts(astronaut_bgr)
    out = draw_faces(astronaut_bgr, ctx)
    assert out.shape == astronaut_bgr.shape and (out != astronaut_bgr).sum() > 1000


def test_small_faces_on_the_whole_frame_are_not_doubled_by_tiles(engine, astronaut_bgr):
    """Three people side by side: exactly three faces, none reported twice (a loosely placed whole-
    frame box of a small face must not survive next to the tile's better one)."""
    row = np.hstack([astronaut_bgr, cv2.flip(astronaut_bgr, 1), astronaut_bgr])
    faces = engine.analyze(row, max_faces=10)
    assert len(faces) == 3
    centers = sorted(f["location"]["left"] + f["location"]["width"] / 2 for f in faces)
    assert [round(c / 512 - 0.5) for c in centers] == [0, 1, 2]


def test_face_cut_by_the_border_is_not_analysed_on_padding(engine, astronaut_bgr):
    """The aligned crop pads a face cut by the image edge; no skin region may reach the padding, and a
    region mostly outside the photo is not judged (its side of eyesattr is empty)."""
    cut = np.ascontiguousarray(astronaut_bgr[:, 205:])  # cuts the person's right cheek and eye corner
    ctx = engine.face_contexts(cut)[0]
    inv = ctx.crop_to_image_matrix
    ys, xs = np.mgrid[0 : ctx.crop_size, 0 : ctx.crop_size]
    outside = (xs * inv[0, 0] + ys * inv[0, 1] + inv[0, 2]) < 0
    assert outside.any()
    for name in ("skin", "cheek_right", "under_eye_right", "forehead"):
        assert not (ctx.regions.mask(name) > 0)[outside].any(), name
    assert not ctx.regions.visible("cheek_right") and ctx.regions.visible("cheek_left")
    face = engine.analyze(cut, ["eyesattr"])[0]["eyesattr"]
    assert face["dark_circle_right_type"] == [] and face["dark_circle_right"] == []
    full = engine.face_contexts(astronaut_bgr)[0]
    assert all(full.regions.visible(n) for n in ("cheek_left", "cheek_right", "forehead", "chin"))


@pytest.mark.parametrize("turn,expected", [(cv2.ROTATE_180, 180), (cv2.ROTATE_90_CLOCKWISE, 90),
                                           (cv2.ROTATE_90_COUNTERCLOCKWISE, -90)])
def test_sideways_and_upside_down_photos(engine, astronaut_bgr, turn, expected):
    """A phone photo without EXIF can arrive turned: the face is still found, `degree` says how it is
    turned, and the mesh is upright on the face (eyes above the mouth in the face's own frame)."""
    upright = engine.analyze(astronaut_bgr)[0]["location"]["degree"]
    img = cv2.rotate(astronaut_bgr, turn)
    face = engine.analyze(img)[0]
    diff = (face["location"]["degree"] - upright - expected + 180) % 360 - 180
    assert abs(diff) <= 8
    ctx = engine.face_contexts(img)[0]
    lm = ctx.landmarks_crop
    assert lm[152, 1] > lm[10, 1] and lm[13, 1] > lm[168, 1]  # chin below forehead, mouth below nose bridge
