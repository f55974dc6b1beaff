"""acnespotmole on the real test portrait: seed field names and types, planted lesions found where they
were planted (original-image px), nothing reported on eyes/brows/lips/nostrils/hair/background, and
`extended` only on request."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.lesion_scenes import ev, kind, plant, to_crop

SEED_KEYS = ["acne_num", "acne_list", "speckle_num", "speckle_list", "mole_num", "mole_list"]
TYPED_ITEM_KEYS = ["type", "score", "left", "top", "right", "bottom"]
MOLE_ITEM_KEYS = ["score", "left", "top", "right", "bottom"]


@pytest.fixture(scope="module")
def scene(engine):
    img = ev.photo_scene()
    ctx = engine.face_contexts(img)[0]
    return img, ctx


@pytest.fixture(scope="module")
def planted(engine, scene):
    """A mole on the right cheek, a freckle on the left cheek, a pustule on the forehead, an age spot on
    the chin (crop px, from the face's own regions)."""
    img, ctx = scene
    sites = []
    for k, region in ((kind("mole", -1), "cheek_right"), (kind("speckle", 1), "cheek_left"),
                      (kind("acne", 2), "forehead"), (kind("speckle", 3), "chin")):
        ys, xs = np.nonzero(ctx.regions.mask(region))
        sites.append((k, float(np.median(xs)), float(np.median(ys)), float(np.mean(k.diameter_mm))))
    out = plant(img, ctx, sites)
    run_ctx = engine.face_contexts(out)[0]
    return sites, ctx, engine.analyzer("acnespotmole").analyze(run_ctx, extended=True)


def _is_2dp(v: float) -> bool:
    return isinstance(v, float) and abs(round(v, 2) - v) < 1e-9


def test_seed_field_names_and_types(planted) -> None:
    _, _, out = planted
    field = out["acnespotmole"]
    assert list(field) == SEED_KEYS
    for fam, keys in (("acne", TYPED_ITEM_KEYS), ("speckle", TYPED_ITEM_KEYS), ("mole", MOLE_ITEM_KEYS)):
        items = field[f"{fam}_list"]
        assert isinstance(field[f"{fam}_num"], int) and field[f"{fam}_num"] == len(items)
        for it in items:
            assert list(it) == keys
            if "type" in it:
                assert isinstance(it["type"], int) and 0 <= it["type"] <= 3
            assert 0.0 <= it["score"] <= 1.0 and _is_2dp(it["score"])
            assert all(_is_2dp(it[k]) for k in ("left", "top", "right", "bottom"))
            assert it["left"] < it["right"] and it["top"] < it["bottom"]


def test_planted_lesions_found_at_their_place_in_original_px(planted) -> None:
    sites, ctx, out = planted
    field = out["acnespotmole"]
    expect = {"mole": None, "speckle": 1, "acne": 2}
    for (k, x, y, _), fam in zip(sites[:3], ("mole", "speckle", "acne"), strict=True):
        ox, oy = ctx.crop_to_original(np.array([[x, y]]))[0]
        hits = [it for it in field[f"{fam}_list"]
                if it["left"] - 3 <= ox <= it["right"] + 3 and it["top"] - 3 <= oy <= it["bottom"] + 3]
        assert hits, f"{k.name} planted at ({ox:.0f}, {oy:.0f}) not reported: {field[f'{fam}_list']}"
        if expect[fam] is not None:
            assert hits[0]["type"] == expect[fam]


def test_extended_only_on_request(engine, scene) -> None:
    _, ctx = scene
    plain = engine.analyzer("acnespotmole").analyze(ctx)
    assert set(plain) == {"acnespotmole"}
    ext = engine.analyzer("acnespotmole").analyze(ctx, extended=True)
    assert "items" in ext["extended"]["acnespotmole"]


NON_SKIN = ("eye_left", "eye_right", "brow_left", "brow_right", "lips", "nostrils")


def _centres_crop(ctx, out) -> list[tuple[float, float]]:
    pts = []
    asm = out.get("acnespotmole", {})
    for key in ("acne_list", "speckle_list", "mole_list"):
        for it in asm.get(key, []):
            pts.append(to_crop(ctx, (it["left"] + it["right"]) / 2, (it["top"] + it["bottom"]) / 2))
    for c in (out.get("blackheadpore") or {}).get("circles", [{}])[0].get("blackhead", []) + \
            (out.get("blackheadpore") or {}).get("circles", [{}])[0].get("pore", []):
        pts.append(to_crop(ctx, c["x"], c["y"]))
    return pts


def test_nothing_reported_on_eyes_brows_lips_nostrils_hair_background(engine, scene) -> None:
    """Moles, red and brown spots planted on every non-skin part are never reported there."""
    img, ctx = scene
    rng = np.random.default_rng(3)
    sites = []
    for name in NON_SKIN:
        ys, xs = np.nonzero(ctx.regions.mask(name))
        for k in (kind("mole", -1), kind("acne", 3), kind("speckle", 1)):
            i = rng.integers(xs.size)
            sites.append((k, float(xs[i]), float(ys[i]), 1.5))
    face = ctx.regions.mask("face") > 0
    yy, xx = np.mgrid[0:ctx.crop_size, 0:ctx.crop_size]
    top = ctx.regions.polygon("face")[:, 1].min()
    hair = (~face) & (yy < top + 10) & (yy > 8) & (np.abs(xx - ctx.crop_size / 2) < 80)  # above the forehead
    background = (~face) & (np.abs(xx - ctx.crop_size / 2) > 0.42 * ctx.crop_size)  # beside the head
    for region in (hair, background):
        ys, xs = np.nonzero(region)
        for k in (kind("mole", -1), kind("speckle", 3), kind("acne", 3)):
            i = rng.integers(xs.size)
            sites.append((k, float(xs[i]), float(ys[i]), 3.0))
    out_img = plant(img, ctx, sites, seed=4)
    run_ctx = engine.face_contexts(out_img)[0]
    result = {}
    for field in ("acnespotmole", "blackheadpore"):
        result.update(engine.analyzer(field).analyze(run_ctx))
    excluded = np.zeros_like(face)
    for name in NON_SKIN:
        excluded |= run_ctx.regions.mask(name) > 0
    mm = 1.0 / run_ctx.mm_per_px
    for x, y in _centres_crop(run_ctx, result):
        xi, yi = int(round(x)), int(round(y))
        assert not excluded[yi, xi], f"finding at crop ({x:.0f}, {y:.0f}) is on an eye/brow/lip/nostril"
        assert run_ctx.regions.mask("face")[yi, xi], f"finding at crop ({x:.0f}, {y:.0f}) is off the face"
        for _, sx, sy, d in sites:
            assert np.hypot(x - sx, y - sy) > d / 2 * mm + 1.0 * mm, f"a planted non-skin feature was reported at ({sx:.0f}, {sy:.0f})"


def test_hair_fringe_over_the_forehead_is_not_skin(engine, scene) -> None:
    """Dark strands hanging from the hairline into the forehead: excluded from analysable skin, nothing
    reported on them."""
    import cv2

    from edge.analysis import lesions as les

    img, ctx = scene
    fh = ctx.regions.mask("forehead") > 0
    ys, xs = np.nonzero(fh)
    top, bottom = ys.min(), ys.min() + 0.5 * (ys.max() - ys.min())
    out = img.copy()
    strands = []
    for x in np.linspace(np.percentile(xs, 15), np.percentile(xs, 85), 9):
        a = ctx.crop_to_original(np.array([[x, top - 30.0]]))[0] / ctx.to_original
        b = ctx.crop_to_original(np.array([[x + 12.0, bottom]]))[0] / ctx.to_original
        cv2.line(out, tuple(int(v) for v in a), tuple(int(v) for v in b), (40, 55, 75), 3, cv2.LINE_AA)
        strands.append((a, b))
    run_ctx = engine.face_contexts(out)[0]
    result = {}
    for field in ("acnespotmole", "blackheadpore"):
        result.update(engine.analyzer(field).analyze(run_ctx))
    skin = les.analysable_skin(run_ctx)
    strand_mask = np.zeros(skin.shape, np.uint8)
    for a, b in strands:
        pa = to_crop(run_ctx, *(a * run_ctx.to_original))
        pb = to_crop(run_ctx, *(b * run_ctx.to_original))
        cv2.line(strand_mask, tuple(int(v) for v in pa), tuple(int(v) for v in pb), 1, 3)
    on_strands = strand_mask.astype(bool) & (run_ctx.regions.mask("face") > 0)
    assert skin[on_strands].mean() < 0.1  # the fringe is not analysable skin
    near = cv2.dilate(strand_mask, np.ones((7, 7), np.uint8)).astype(bool)
    for x, y in _centres_crop(run_ctx, result):
        assert not near[int(round(y)), int(round(x))], f"finding on a hair strand at crop ({x:.0f}, {y:.0f})"
