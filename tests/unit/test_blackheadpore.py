"""blackheadpore: seed names and types, planted blackheads found on the nose, and every type rule on
truth-known features."""

from __future__ import annotations

import numpy as np
import pytest

from edge.analysis import blackheadpore as bp
from tests.unit.lesion_scenes import ev, kind, plant

SEED_KEYS = ["poly", "circles", "pore_num", "pore_segs_type", "blackhead_num", "blackhead_segs_type"]
POLY_KEYS = ["class_id", "score", "left", "right", "top", "bottom", "point"]


@pytest.fixture(scope="module")
def planted(engine):
    img = ev.photo_scene()
    ctx = engine.face_contexts(img)[0]
    ys, xs = np.nonzero(ctx.regions.mask("nose") > 0)
    cx, cy = float(np.median(xs)), float(np.percentile(ys, 70))
    step = 3.5 / ctx.mm_per_px  # 3.5 mm apart
    sites = [(kind("blackhead", 1), cx + dx * step, cy + dy * step, 1.2) for dx, dy in ((-1, 0), (1, 0), (0, -1.5))]
    out = plant(img, ctx, sites)
    run_ctx = engine.face_contexts(out)[0]
    return sites, ctx, engine.analyzer("blackheadpore").analyze(run_ctx, extended=True), run_ctx


def test_seed_field_names_and_types(planted) -> None:
    _, _, out, _ = planted
    field = out["blackheadpore"]
    assert list(field) == SEED_KEYS
    assert isinstance(field["circles"], list) and len(field["circles"]) == 1
    assert list(field["circles"][0]) == ["blackhead", "pore"]
    for name, types, allowed in (("blackhead", "blackhead_segs_type", {1, 2, 3}), ("pore", "pore_segs_type", {1, 2, 3, 4})):
        circles = field["circles"][0][name]
        assert field[f"{name}_num"] == len(circles) == len(field[types])
        assert all(isinstance(t, int) and t in allowed for t in field[types])
        for c in circles:
            assert list(c) == ["x", "y", "r"] and all(isinstance(c[k], float) for k in c) and c["r"] > 0
    assert field["poly"], "the planted blackheads make at least one area"
    for p in field["poly"]:
        assert list(p) == POLY_KEYS
        assert p["class_id"] in (0, 1) and 0.0 <= p["score"] <= 1.0
        assert p["left"] <= p["right"] and p["top"] <= p["bottom"]
        assert p["point"] and all(list(q) == ["x", "y"] for q in p["point"])
        xs, ys = [q["x"] for q in p["point"]], [q["y"] for q in p["point"]]
        assert p["left"] - 1 <= min(xs) and max(xs) <= p["right"] + 1 and p["top"] - 1 <= min(ys) <= p["bottom"] + 1


def test_planted_blackheads_found_on_the_nose(engine, planted) -> None:
    """The blackhead rules find the planted dots (`blackhead_dots`). The analyzer then leaves out those the
    lesion model reports (it reads these rendered 1.2 mm dots as a mole and a spot: one spot is reported
    once, by acnespotmole), so this checks the rules, not the reported count."""
    sites, ctx, _, run_ctx = planted
    dots = bp.blackhead_dots(run_ctx, engine.store)
    for _, x, y, _ in sites:
        d = [np.hypot(c.x - x, c.y - y) for c in dots]
        assert d and min(d) <= 1.5 / run_ctx.mm_per_px, f"blackhead at crop ({x:.0f}, {y:.0f}) not found"
    assert [c.type for c in dots].count(bp.FAT_PLUG) >= len(sites)  # dark, >= 0.8 mm, apart
    reported = bp.blackheads(run_ctx, engine.store)
    boxes = np.array([f.box for f in bp.asm.findings(run_ctx, engine.store)]).reshape(-1, 4)
    assert len(reported) == int(bp.outside_boxes(boxes, np.array([(c.x, c.y) for c in dots]).reshape(-1, 2)).sum())


def test_extended_only_on_request(engine) -> None:
    ctx = engine.face_contexts(ev.photo_scene())[0]
    assert set(engine.analyzer("blackheadpore").analyze(ctx)) == {"blackheadpore"}


# --- type rules ----------------------------------------------------------------------------------------
def test_blackhead_types() -> None:
    assert bp.blackhead_type(bp.BlackheadFeatures(dark=0.5, diameter_mm=1.2, neighbours=0)) == bp.FAT_PLUG
    assert bp.blackhead_type(bp.BlackheadFeatures(dark=bp.FAT_PLUG_MIN_DARK_OD - 0.05, diameter_mm=1.2,
                                                  neighbours=0)) == bp.FILAMENT
    assert bp.blackhead_type(bp.BlackheadFeatures(dark=0.5, diameter_mm=bp.FAT_PLUG_MIN_MM - 0.1,
                                                  neighbours=0)) == bp.FILAMENT
    assert bp.blackhead_type(bp.BlackheadFeatures(dark=0.5, diameter_mm=1.2,
                                                  neighbours=bp.MITE_CLUSTER_MIN)) == bp.MITE


def test_pore_types() -> None:
    plain = bp.PoreFeatures(dark=0.08, elongation=1.1, shine=0.0)
    assert bp.pore_type(plain) == bp.DEHYDRATED
    assert bp.pore_type(bp.PoreFeatures(dark=0.08, elongation=1.1, shine=bp.OILY_SHINE_OD + 0.01)) == bp.OILY
    assert bp.pore_type(bp.PoreFeatures(dark=bp.PORE_KERATIN_OD + 0.01, elongation=1.1, shine=0.0)) == bp.KERATIN
    assert bp.pore_type(bp.PoreFeatures(dark=0.08, elongation=bp.PORE_AGING_ELONGATION + 0.1, shine=0.0)) == bp.AGING


def test_mite_clusters_counted() -> None:
    xy = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [0.5, 0.5], [50, 50]], float)
    counts = bp._neighbour_counts(xy, 2.0)
    assert list(counts) == [4, 4, 4, 4, 4, 0]
