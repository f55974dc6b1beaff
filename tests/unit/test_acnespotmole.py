"""acnespotmole on the trained `lesion_centernet` model: the seed's field names and types, boxes in
original px, the seed-type mapping, calibration, decoding, exclusion of eyes/brows/lips/nostrils, the
operating points read from the manifest, and blackheadpore never reporting a spot that is a lesion.

Accuracy is not tested here: that is measured on real labelled faces (tests/integration/
test_eval_real_gate.py, scripts/eval_real.py). The plant-and-find tests of the old rule-based analyzer
were retired with it: lesions drawn with our own colour model on one portrait said nothing about real
skin (they passed while the analyzer found 15 % of real lesions at 6 % precision)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import yaml

from edge.analysis import acnespotmole as asm
from edge.analysis import blackheadpore as bp
from edge.analysis import lesion_net as ln
from edge.runtime.manifest import ModelError, ModelStore
from tests.unit.lesion_scenes import to_crop

SEED_KEYS = ["acne_num", "acne_list", "speckle_num", "speckle_list", "mole_num", "mole_list"]
TYPED_ITEM_KEYS = ["type", "score", "left", "top", "right", "bottom"]
MOLE_ITEM_KEYS = ["score", "left", "top", "right", "bottom"]
EVERY_PEAK = {f: 0.0 for f in asm.FAMILY_OF_CHANNEL.values()}  # report every decoded peak


@pytest.fixture(scope="module")
def every_peak(engine, portrait_ctx):
    """The analyzer with its thresholds at 0 (every decoded peak, so there are items to check)."""
    analyzer = asm.AcneSpotMole(engine.store)
    analyzer.thresholds = dict(EVERY_PEAK)
    return analyzer.analyze(portrait_ctx, extended=True)


def _is_2dp(v: float) -> bool:
    return isinstance(v, float) and abs(round(v, 2) - v) < 1e-9


def test_seed_field_names_and_types(every_peak) -> None:
    field = every_peak["acnespotmole"]
    assert list(field) == SEED_KEYS
    assert sum(field[f"{f}_num"] for f in ("acne", "speckle", "mole")) > 0, "no peak at all on a face"
    for fam, keys in (("acne", TYPED_ITEM_KEYS), ("speckle", TYPED_ITEM_KEYS), ("mole", MOLE_ITEM_KEYS)):
        items = field[f"{fam}_list"]
        assert isinstance(field[f"{fam}_num"], int) and field[f"{fam}_num"] == len(items)
        for it in items:
            assert list(it) == keys
            if "type" in it:
                allowed = {0, 1, 2, 3} if fam == "acne" else {asm.FRECKLE, asm.AGE_SPOT}
                assert isinstance(it["type"], int) and it["type"] in allowed
            assert 0.0 <= it["score"] <= 1.0 and _is_2dp(it["score"])
            assert all(_is_2dp(it[k]) for k in ("left", "top", "right", "bottom"))
            assert it["left"] < it["right"] and it["top"] < it["bottom"]


def test_items_are_strongest_first_and_boxes_map_back_to_the_crop(engine, portrait_ctx, every_peak) -> None:
    found = asm.findings(portrait_ctx, engine.store, EVERY_PEAK)
    assert [f.score for f in found] == sorted((f.score for f in found), reverse=True)
    field = every_peak["acnespotmole"]
    for prefix in ("acne", "speckle", "mole"):
        mine = [f for f in found if asm.LIST_OF_FAMILY[f.family] == prefix]
        assert len(mine) == field[f"{prefix}_num"]
        for f, it in zip(mine, field[f"{prefix}_list"], strict=True):
            x0, y0 = to_crop(portrait_ctx, it["left"], it["top"])
            x1, y1 = to_crop(portrait_ctx, it["right"], it["bottom"])
            # the crop is upright-rotated against the photo: the mapped corners lie within the box's diagonal
            cx, cy = f.centre
            assert abs((x0 + x1) / 2 - cx) < 2.0 and abs((y0 + y1) / 2 - cy) < 2.0


def test_no_peak_on_eyes_brows_lips_nostrils(engine, portrait_ctx) -> None:
    excluded = ln.cell_share(portrait_ctx.regions.mask("exclusion"))
    assert (excluded >= ln.MAX_EXCLUDED_SHARE * 255).any(), "the exclusion mask should cover the eyes"
    scale = ln.INPUT / portrait_ctx.crop_size / ln.STRIDE
    for f in asm.candidates(portrait_ctx, engine.store):
        cx, cy = f.centre
        cell = excluded[int(np.clip(cy * scale, 0, ln.OUTPUT - 1)), int(np.clip(cx * scale, 0, ln.OUTPUT - 1))]
        assert cell < ln.MAX_EXCLUDED_SHARE * 255 + 1, f"peak at crop ({cx:.0f}, {cy:.0f}) on an excluded cell"


def test_extended_only_on_request(engine, portrait_ctx, every_peak) -> None:
    assert set(engine.analyzer("acnespotmole").analyze(portrait_ctx)) == {"acnespotmole"}
    ext = every_peak["extended"]["acnespotmole"]
    assert ext["model"] == ln.MODEL_NAME and len(ext["items"]) == sum(
        every_peak["acnespotmole"][f"{p}_num"] for p in ("acne", "speckle", "mole"))


# --- the mapping to the seed's types ---------------------------------------------------------------------
def test_seed_types_by_class_and_size() -> None:
    assert asm.seed_type(ln.WHITEHEAD, 2.0) == asm.WHITEHEAD
    assert asm.seed_type(ln.SCAR, 2.0) == asm.MARK
    assert asm.seed_type(ln.PIMPLE, asm.NODULE_MIN_MM - 0.1) == asm.PUSTULE
    assert asm.seed_type(ln.PIMPLE, asm.NODULE_MIN_MM) == asm.NODULE
    assert asm.seed_type(ln.SPOT, asm.AGE_SPOT_MIN_MM - 0.1) == asm.FRECKLE
    assert asm.seed_type(ln.SPOT, asm.AGE_SPOT_MIN_MM) == asm.AGE_SPOT
    assert asm.seed_type(ln.MOLE, 3.0) is None


def test_calibration_is_platt_on_the_logit_and_monotone() -> None:
    point = asm.OperatingPoint(threshold=0.3, platt=(1.7, -1.2))
    for p in (0.05, 0.3, 0.8):
        assert point.calibrate(p) == pytest.approx(1 / (1 + np.exp(-(1.7 * np.log(p / (1 - p)) - 1.2))))
    peaks = np.linspace(0.01, 0.99, 50)
    assert np.all(np.diff([point.calibrate(float(p)) for p in peaks]) > 0)
    assert asm.OperatingPoint(0.5, (1.0, 0.0)).calibrate(0.42) == pytest.approx(0.42)  # identity


def test_operating_points_come_from_the_manifest(engine) -> None:
    points = asm.operating_points(engine.store)
    info = engine.store.entry(ln.MODEL_NAME).info["operating"]
    assert set(points) == {asm.ACNE, asm.ACNE_MARK, asm.SPECKLE, asm.MOLE}
    for family, point in points.items():
        assert point.threshold == info[family]["threshold"] and 0.0 < point.threshold < 1.0


def test_a_manifest_entry_without_operating_points_is_refused(engine, tmp_path) -> None:
    entry = dict(engine.store.entry(ln.MODEL_NAME).info)
    entry.pop("operating")
    shutil.copy(engine.store.path_of(ln.MODEL_NAME), tmp_path / entry["file"])
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump({"models": {ln.MODEL_NAME: entry}}))
    with pytest.raises(ModelError, match="operating point"):
        asm.operating_points(ModelStore(tmp_path, tmp_path / "manifest.yaml"))


# --- decoding ---------------------------------------------------------------------------------------------
def test_decode_peaks_sizes_order_and_exclusion() -> None:
    n = ln.OUTPUT
    heat = np.zeros((n, n, ln.NUM_CLASSES), np.float32)
    log_size = np.zeros((n, n, 2), np.float32)
    heat[20, 30, ln.MOLE] = 0.9  # symmetric neighbours: the centre stays on the cell
    heat[20, 29, ln.MOLE] = heat[20, 31, ln.MOLE] = 0.5
    log_size[20, 30] = np.log([12.0, 8.0])
    heat[50, 10, ln.PIMPLE] = 0.6  # a stronger right neighbour pulls the centre right
    heat[50, 11, ln.PIMPLE] = 0.5
    heat[50, 9, ln.PIMPLE] = 0.1
    heat[70, 70, ln.SPOT] = 0.7  # on an excluded cell
    heat[5, 5, ln.SPOT] = 0.04  # under the threshold
    ok = np.ones((n, n), bool)
    ok[70, 70] = False
    dets = ln.decode(heat, log_size, 0.05, ok)
    assert [d.channel for d in dets] == [ln.MOLE, ln.PIMPLE]
    mole, pimple = dets
    assert mole.cx == pytest.approx((30 + 0.5) * ln.STRIDE) and mole.cy == pytest.approx((20 + 0.5) * ln.STRIDE)
    assert mole.x1 - mole.x0 == pytest.approx(12.0) and mole.y1 - mole.y0 == pytest.approx(8.0)
    assert (10 + 0.5) * ln.STRIDE < pimple.cx < (11 + 0.5) * ln.STRIDE
    assert pimple.score == pytest.approx(0.6)


def test_decode_finds_peaks_per_family() -> None:
    """A mole beside a stronger spot is still a mole (its own map), while a whitehead and a pimple answer at
    the same cell are one acne finding named by the likelier kind."""
    n = ln.OUTPUT
    heat = np.zeros((n, n, ln.NUM_CLASSES), np.float32)
    log_size = np.zeros((n, n, 2), np.float32)
    heat[30, 30, ln.SPOT] = 0.8
    heat[30, 30, ln.MOLE] = 0.4  # under the spot at the same cell: argmax over classes would drop it
    heat[60, 40, ln.WHITEHEAD] = 0.3
    heat[60, 40, ln.PIMPLE] = 0.5
    dets = ln.decode(heat, log_size, 0.05)
    assert sorted((d.channel, round(d.score, 2)) for d in dets) == [(ln.PIMPLE, 0.5), (ln.SPOT, 0.8), (ln.MOLE, 0.4)]


# --- blackheadpore does not report lesions again -----------------------------------------------------------
def test_a_dot_inside_a_lesion_box_is_not_a_blackhead_or_pore() -> None:
    boxes = np.array([[100.0, 100.0, 120.0, 120.0], [200.0, 50.0, 210.0, 60.0]])
    xy = np.array([[110.0, 110.0], [99.0, 110.0], [300.0, 300.0], [120.0, 120.0], [205.0, 55.0]])
    assert bp.outside_boxes(boxes, xy).tolist() == [False, True, True, False, False]
    assert bp.outside_boxes(np.zeros((0, 4)), xy).all()


def test_blackheadpore_dots_lie_outside_every_reported_lesion(engine, portrait_ctx) -> None:
    analyzer = asm.AcneSpotMole(engine.store)
    boxes = [f.box for f in asm.findings(portrait_ctx, engine.store, analyzer.thresholds)]
    out = engine.analyzer("blackheadpore").analyze(portrait_ctx)["blackheadpore"]["circles"][0]
    for c in out["blackhead"] + out["pore"]:
        x, y = to_crop(portrait_ctx, c["x"], c["y"])
        assert not any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes), (x, y)
