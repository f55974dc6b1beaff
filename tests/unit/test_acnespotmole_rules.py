"""Truth-known tests of every acnespotmole type rule (edge/analysis/acnespotmole.py:classify).

Each test builds the features a rule looks at and checks the rule's decision on both sides of its
boundary, so a changed constant or a reordered rule shows up here by name.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from edge.analysis import acnespotmole as asm
from edge.analysis.acnespotmole import Features, classify

# A plain, round, mid-size brown spot on open skin; each test changes what its rule looks at.
BASE = Features(polarity=1, diameter_mm=3.0, dark=0.12, mel=0.30, hem=0.02, centre_bright=0.0, elongation=1.1)


def f(**kw) -> Features:
    return dataclasses.replace(BASE, **kw)


def test_base_is_a_freckle() -> None:
    assert classify(BASE) == (asm.SPECKLE, asm.FRECKLE)


def test_min_lesion_size() -> None:
    assert classify(f(diameter_mm=asm.MIN_LESION_MM * 0.9)) is None
    assert classify(f(diameter_mm=asm.MIN_LESION_MM * 1.1)) is not None


def test_max_elongation_rejects_folds() -> None:
    assert classify(f(elongation=asm.MAX_ELONGATION + 0.1)) is None
    assert classify(f(elongation=asm.MAX_ELONGATION - 0.1)) is not None
    assert classify(f(elongation=asm.MAX_ELONGATION + 0.1, diameter_mm=asm.CHLOASMA_MIN_MM + 1)) is not None
    assert classify(f(elongation=asm.LARGE_MAX_ELONGATION + 0.1, diameter_mm=asm.CHLOASMA_MIN_MM + 1)) is None


def test_min_colour_contrast() -> None:
    faint = asm.MIN_COLOUR_OD * 0.8
    assert classify(f(mel=faint, hem=0.0)) is None
    mel = asm.MIN_COLOUR_OD * 1.2
    assert classify(f(mel=mel, hem=0.0, dark=asm.DARK_PER_MEL * mel)) == (asm.SPECKLE, asm.FRECKLE)  # (no grey)


def test_large_spots_are_seen_at_lower_contrast() -> None:
    mid = (asm.LARGE_SPOT_MIN_COLOUR_OD + asm.MIN_COLOUR_OD) / 2
    pure = dict(mel=mid, hem=0.0, dark=asm.DARK_PER_MEL * mid)  # darkness all from the pigment (no grey)
    assert classify(f(diameter_mm=asm.LARGE_SPOT_MM + 1, **pure)) is not None
    assert classify(f(diameter_mm=asm.LARGE_SPOT_MM - 1, **pure)) is None


def test_mole_needs_darkness() -> None:
    assert classify(f(dark=asm.MOLE_MIN_DARK_OD + 0.05, mel=0.8)) == (asm.MOLE, -1)
    assert classify(f(dark=asm.MOLE_MIN_DARK_OD - 0.05, mel=0.8))[0] == asm.SPECKLE


def test_mole_size_range() -> None:
    dark = dict(dark=0.6, mel=0.9)
    assert classify(f(diameter_mm=asm.MOLE_MAX_MM + 1, **dark))[0] != asm.MOLE
    assert classify(f(diameter_mm=asm.MOLE_MIN_MM - 0.1, **dark))[0] != asm.MOLE
    assert classify(f(diameter_mm=(asm.MOLE_MIN_MM + asm.MOLE_MAX_MM) / 2, **dark)) == (asm.MOLE, -1)


def test_mole_is_round_and_not_red() -> None:
    dark = dict(dark=0.6, mel=0.9)
    assert classify(f(elongation=asm.MOLE_MAX_ELONGATION - 0.05, **dark)) == (asm.MOLE, -1)
    assert classify(f(dark=0.6, mel=0.1, hem=0.4)) != (asm.MOLE, -1)  # redness > MOLE_MAX_REDNESS


def test_blackhead_sized_dark_dot_on_nose_is_left_to_blackheadpore() -> None:
    dot = f(dark=0.6, mel=0.5, diameter_mm=asm.NOSE_DOT_MAX_MM - 0.2)
    assert classify(dataclasses.replace(dot, on_nose=True)) is None
    assert classify(dot) == (asm.MOLE, -1)


def test_freckle_vs_age_spot_vs_chloasma_by_size() -> None:
    assert classify(f(diameter_mm=asm.FRECKLE_MAX_MM - 0.5)) == (asm.SPECKLE, asm.FRECKLE)
    assert classify(f(diameter_mm=asm.FRECKLE_MAX_MM + 0.5)) == (asm.SPECKLE, asm.AGE_SPOT)
    assert classify(f(diameter_mm=asm.CHLOASMA_MIN_MM + 1)) == (asm.SPECKLE, asm.CHLOASMA)


def test_red_brown_small_is_acne_mark_large_is_sunburn() -> None:
    mixed = dict(mel=0.15, hem=0.18)  # redness ~0.55: between BROWN_MAX_REDNESS and RED_MIN_REDNESS
    assert classify(f(diameter_mm=3.0, **mixed)) == (asm.ACNE, asm.ACNE_MARK)
    assert classify(f(diameter_mm=asm.SUNBURN_MIN_MM + 1, **mixed)) == (asm.SPECKLE, asm.SUNBURN)


def test_red_lesions_by_size_and_head() -> None:
    red = dict(mel=0.0, hem=0.35)
    assert classify(f(diameter_mm=3.0, **red)) == (asm.ACNE, asm.PUSTULE)  # inflamed papule / pustule
    assert classify(f(diameter_mm=3.0, centre_bright=asm.PUSTULE_CENTRE_OD + 0.01, **red)) == (asm.ACNE, asm.PUSTULE)
    assert classify(f(diameter_mm=asm.NODULE_MIN_MM + 1, **red)) == (asm.ACNE, asm.NODULE)
    assert classify(f(diameter_mm=asm.SUNBURN_MIN_MM + 1, **red)) == (asm.SPECKLE, asm.SUNBURN)


def test_reddish_but_not_pure_red_is_an_acne_mark() -> None:
    # redness between RED_MIN_REDNESS and ACNE_MARK_MAX_REDNESS, no head, small: a flat mark
    assert classify(f(mel=0.10, hem=0.30, diameter_mm=3.0)) == (asm.ACNE, asm.ACNE_MARK)


def test_faint_pure_redness_is_not_a_lesion() -> None:
    assert classify(f(mel=0.0, hem=asm.INFLAMED_MIN_HEM_OD - 0.01, diameter_mm=3.0, dark=0.05)) is None
    assert classify(f(mel=0.0, hem=asm.INFLAMED_MIN_HEM_OD + 0.05, diameter_mm=3.0)) is not None


def test_whitehead_small_round_light_with_colour() -> None:
    light = f(polarity=-1, dark=-0.15, mel=-0.05, hem=-0.2, diameter_mm=1.5, sat_ratio=0.5)
    assert classify(light) == (asm.ACNE, asm.WHITEHEAD)
    assert classify(dataclasses.replace(light, diameter_mm=asm.WHITEHEAD_MAX_MM + 0.5)) is None
    glint = dataclasses.replace(light, sat_ratio=asm.GLINT_MAX_SAT_RATIO - 0.05, centre_value=asm.GLINT_MIN_VALUE + 2)
    assert classify(glint) is None
    assert classify(dataclasses.replace(glint, centre_value=asm.GLINT_MIN_VALUE - 10)) == (asm.ACNE, asm.WHITEHEAD)


def test_light_head_ringed_by_red_is_a_pustule() -> None:
    head = f(polarity=-1, dark=-0.15, mel=-0.05, hem=-0.2, diameter_mm=1.5, sat_ratio=0.5,
             halo_hem=asm.PUSTULE_HALO_HEM_OD + 0.02)
    assert classify(head) == (asm.ACNE, asm.PUSTULE)


def test_bilateral_highlights_are_not_whiteheads() -> None:
    light = f(polarity=-1, dark=-0.15, hem=-0.2, mel=-0.05, diameter_mm=1.5, sat_ratio=0.5)
    assert classify(dataclasses.replace(light, bilateral=asm.LIGHT_BILATERAL_MAX + 0.1)) is None


def test_bilateral_spots_in_fold_zones_are_anatomy_unless_strong_or_large() -> None:
    weak = f(mel=0.2, in_fold_zone=True, bilateral=(asm.BILATERAL_MIN + asm.BILATERAL_MAX) / 2)
    assert classify(weak) is None
    assert classify(dataclasses.replace(weak, in_fold_zone=False)) is not None
    assert classify(dataclasses.replace(weak, mel=asm.BILATERAL_STRONG_OD + 0.05)) is not None
    assert classify(dataclasses.replace(weak, diameter_mm=asm.LARGE_SPOT_MM + 1)) is not None
    assert classify(dataclasses.replace(weak, bilateral=asm.BILATERAL_MAX + 0.5)) is not None  # not a pair


def test_inflamed_lesions_in_fold_zones_are_not_paired_off() -> None:
    pair = dict(in_fold_zone=True, bilateral=(asm.BILATERAL_MIN + asm.BILATERAL_MAX) / 2)
    red = f(mel=0.0, hem=asm.INFLAMED_MIN_HEM_OD + 0.05, diameter_mm=6.0, **pair)  # a nodule by a fold
    assert classify(red) == (asm.ACNE, asm.NODULE)
    brownish = dataclasses.replace(red, mel=0.12)  # redness < RED_MIN_REDNESS: fold shading's tint
    assert classify(brownish) is None
    faint = dataclasses.replace(red, hem=asm.INFLAMED_MIN_HEM_OD - 0.02, mel=0.0)
    assert classify(dataclasses.replace(faint, in_fold_zone=False)) is None  # (faint redness: never a lesion)


def test_large_inflamed_patches_in_shaded_zones_are_kept() -> None:
    sunburn = f(mel=0.03, hem=0.22, diameter_mm=asm.LARGE_SPOT_MM + 1, in_shaded_zone=True)
    assert sunburn.hem + sunburn.mel < asm.SHADED_ZONE_FACTOR * asm.MIN_COLOUR_OD
    assert classify(sunburn) == (asm.SPECKLE, asm.SUNBURN)
    assert classify(dataclasses.replace(sunburn, diameter_mm=asm.LARGE_SPOT_MM - 1)) is None  # small: the bar holds
    assert classify(dataclasses.replace(sunburn, mel=0.12, hem=0.08)) is None  # brown: nose-flank shading


def test_grey_is_the_darkness_the_pigment_does_not_explain() -> None:
    assert f(dark=0.0, mel=0.0, hem=0.0).grey == 0.0
    pure = f(mel=0.2, hem=0.1, dark=asm.DARK_PER_MEL * 0.2 + asm.DARK_PER_HEM * 0.1)
    assert pure.grey == pytest.approx(0.0, abs=1e-9)
    assert dataclasses.replace(pure, dark=pure.dark + 0.05).grey == pytest.approx(0.05)


def test_shadows_tinted_like_pigment_are_not_spots() -> None:
    mark = f(mel=0.12, hem=0.16, diameter_mm=3.0)  # red-brown acne mark, pure pigment
    mark = dataclasses.replace(mark, dark=asm.DARK_PER_MEL * mark.mel + asm.DARK_PER_HEM * mark.hem)
    assert classify(mark) == (asm.ACNE, asm.ACNE_MARK)
    assert classify(dataclasses.replace(mark, dark=mark.dark + asm.SHADOW_GREY_OD + 0.01)) is None  # + a shadow
    assert classify(dataclasses.replace(mark, dark=mark.dark + asm.SHADOW_GREY_OD - 0.01)) is not None
    nodule = f(mel=0.0, hem=0.3, diameter_mm=6.0)  # inflamed and raised: its relief may shade it
    nodule = dataclasses.replace(nodule, dark=asm.DARK_PER_HEM * 0.3 + asm.SHADOW_GREY_OD + 0.02)
    assert classify(nodule) == (asm.ACNE, asm.NODULE)
    mole = f(mel=0.6, hem=0.05, dark=0.6, diameter_mm=3.0)  # moles are dark by definition (rule above)
    assert classify(mole) == (asm.MOLE, -1)


def test_shaded_zones_need_stronger_colour() -> None:
    mid = f(mel=asm.MIN_COLOUR_OD * (1 + asm.SHADED_ZONE_FACTOR) / 2, hem=0.0)
    assert classify(mid) is not None
    assert classify(dataclasses.replace(mid, in_shaded_zone=True)) is None
    large = dataclasses.replace(mid, diameter_mm=asm.CHLOASMA_MIN_MM + 1, in_shaded_zone=True)
    assert classify(large) is None  # the same bar for patches: nose-flank shading is a large soft patch


@pytest.mark.parametrize("mel,hem,expected", [(0.3, 0.0, 0.0), (0.0, 0.3, 1.0), (0.2, 0.2, 0.5), (-0.1, 0.2, 1.0)])
def test_redness(mel: float, hem: float, expected: float) -> None:
    assert f(mel=mel, hem=hem).redness == pytest.approx(expected)


def test_min_significance() -> None:
    assert classify(f(significance=asm.MIN_SIGNIFICANCE - 0.05)) is None
    assert classify(f(significance=asm.MIN_SIGNIFICANCE + 0.05)) is not None


def test_light_blobs_in_shaded_zones_need_more_contrast() -> None:
    light = f(polarity=-1, dark=-asm.DETECT_BRIGHT * 1.5, mel=-0.05, hem=-0.2, diameter_mm=1.5, sat_ratio=0.5)
    assert classify(light) == (asm.ACNE, asm.WHITEHEAD)
    assert classify(dataclasses.replace(light, in_shaded_zone=True)) is None


def test_small_lesions_are_compact() -> None:
    assert classify(f(solidity=asm.MIN_SOLIDITY - 0.05)) is None
    assert classify(f(solidity=asm.MIN_SOLIDITY - 0.05, diameter_mm=asm.CHLOASMA_MIN_MM + 1)) is not None


def test_acne_mark_keeps_redness() -> None:
    assert classify(f(mel=0.15, hem=asm.ACNE_MARK_MIN_HEM_OD + 0.02)) == (asm.ACNE, asm.ACNE_MARK)
    assert classify(f(mel=0.10, hem=asm.ACNE_MARK_MIN_HEM_OD - 0.02)) is None


def test_headed_red_lesion_keeps_its_ring_shaped_segment() -> None:
    ring = f(mel=0.0, hem=0.3, diameter_mm=2.5, solidity=asm.MIN_SOLIDITY - 0.1, elongation=asm.MAX_ELONGATION + 0.2,
             centre_bright=asm.PUSTULE_CENTRE_OD + 0.05)
    assert classify(ring) == (asm.ACNE, asm.PUSTULE)
    assert classify(dataclasses.replace(ring, centre_bright=0.0)) is None


def test_small_light_head_with_red_halo_is_a_pustule() -> None:
    head = f(polarity=-1, dark=-0.15, mel=-0.05, hem=-0.3, diameter_mm=(asm.PUSTULE_HEAD_MIN_MM + asm.MIN_LESION_MM) / 2,
             halo_hem=asm.PUSTULE_HALO_HEM_OD + 0.05)
    assert classify(head) == (asm.ACNE, asm.PUSTULE)
    assert classify(dataclasses.replace(head, halo_hem=0.0)) is None
    assert classify(dataclasses.replace(head, bilateral=asm.LIGHT_BILATERAL_MAX + 0.1)) is None


def test_tanned_red_patch_is_sunburn_pure_red_is_nodule() -> None:
    red = f(hem=0.35, diameter_mm=(asm.NODULE_MIN_MM + asm.SUNBURN_MIN_MM) / 2)
    assert classify(dataclasses.replace(red, mel=0.0)) == (asm.ACNE, asm.NODULE)
    tanned = dataclasses.replace(red, mel=asm.SUNBURN_MIN_MEL_OD + 0.01)  # redness stays >= RED_MIN_REDNESS
    assert tanned.redness >= asm.RED_MIN_REDNESS
    assert classify(tanned) == (asm.SPECKLE, asm.SUNBURN)


def test_segments_lying_along_a_facial_outline_are_folds() -> None:
    fold = f(elongation=asm.FOLD_LINE_MIN_ELONGATION + 0.1, outline_mm=asm.FOLD_LINE_REACH_MM - 1, outline_align=1.0)
    assert classify(fold) is None  # a lip border / nasolabial section
    assert classify(dataclasses.replace(fold, outline_align=0.5)) is not None  # across the outline: a lesion
    assert classify(dataclasses.replace(fold, outline_mm=asm.FOLD_LINE_REACH_MM + 1)) is not None  # far from it
    assert classify(dataclasses.replace(fold, elongation=asm.FOLD_LINE_MIN_ELONGATION - 0.1)) is not None  # round
    angle_in = float(np.cos(np.radians(asm.FOLD_LINE_MAX_ANGLE_DEG - 5)))
    angle_out = float(np.cos(np.radians(asm.FOLD_LINE_MAX_ANGLE_DEG + 5)))
    assert classify(dataclasses.replace(fold, outline_align=angle_in)) is None
    assert classify(dataclasses.replace(fold, outline_align=angle_out)) is not None
    mole = dataclasses.replace(fold, dark=asm.MOLE_MIN_DARK_OD + 0.1, mel=0.4)
    assert classify(mole) == (asm.MOLE, -1)  # a mole by the lip is still a mole


def test_spots_at_the_hairline_are_strands_unless_red_or_mole_dark() -> None:
    strand = f(hair_mm=asm.HAIRLINE_MM - 1)
    assert classify(strand) is None
    assert classify(dataclasses.replace(strand, hair_mm=asm.HAIRLINE_MM + 1)) == (asm.SPECKLE, asm.FRECKLE)
    red = dataclasses.replace(strand, mel=0.0, hem=asm.INFLAMED_MIN_HEM_OD + 0.05)
    assert classify(red) is not None  # an inflamed papule at the hairline is kept
    assert classify(dataclasses.replace(strand, dark=asm.MOLE_MIN_DARK_OD + 0.1, mel=0.4)) == (asm.MOLE, -1)
    gap = f(polarity=-1, dark=-0.15, hem=-0.2, mel=-0.05, diameter_mm=1.5, sat_ratio=0.5)
    assert classify(gap) == (asm.ACNE, asm.WHITEHEAD)
    assert classify(dataclasses.replace(gap, hair_mm=asm.HAIRLINE_MM - 1)) is None  # skin between strands


def test_outline_relation_distance_and_alignment() -> None:
    segs = np.array([[[0.0, 0.0], [10.0, 0.0]], [[100.0, 0.0], [100.0, 10.0]]])  # horizontal, vertical
    d, align = asm.outline_relation(segs, 5.0, 3.0, 0.0)
    assert d == pytest.approx(3.0) and align == pytest.approx(1.0)  # along the horizontal segment
    d, align = asm.outline_relation(segs, 5.0, 3.0, np.pi / 2)
    assert align == pytest.approx(0.0, abs=1e-9)  # across it
    d, align = asm.outline_relation(segs, 97.0, 5.0, np.pi / 2)
    assert d == pytest.approx(3.0) and align == pytest.approx(1.0)  # nearest is the vertical one
    assert asm.outline_relation(np.zeros((0, 2, 2)), 0.0, 0.0, 0.0) == (np.inf, 0.0)


def test_faint_stretched_mirrored_large_patches_are_shading() -> None:
    mel = asm.FAINT_PATCH_MAX_OD * 0.7  # above the large-spot colour bar, below the faint-patch bar
    patch = f(diameter_mm=asm.LARGE_SPOT_MM + 0.8, mel=mel, hem=0.0, dark=asm.DARK_PER_MEL * mel,
              elongation=asm.FAINT_PATCH_MIN_ELONGATION + 0.3, bilateral=asm.FAINT_PATCH_MIN_BILATERAL + 0.3)
    assert classify(patch) is None
    # each of the three alone is not enough: a one-sided, a round or a darker patch is reported
    assert classify(dataclasses.replace(patch, bilateral=asm.FAINT_PATCH_MIN_BILATERAL - 0.3)) is not None
    assert classify(dataclasses.replace(patch, elongation=asm.FAINT_PATCH_MIN_ELONGATION - 0.3)) is not None
    dark = asm.FAINT_PATCH_MAX_OD * 1.3
    assert classify(dataclasses.replace(patch, mel=dark, dark=asm.DARK_PER_MEL * dark)) is not None
    # and small spots are never paired off by it
    assert classify(dataclasses.replace(patch, diameter_mm=3.0, elongation=1.5, mel=0.2,
                                        dark=asm.DARK_PER_MEL * 0.2)) is not None


def test_light_blobs_between_eye_and_brow_are_lid_highlights() -> None:
    near, far = asm.LID_REACH_MM - 2.0, asm.LID_REACH_MM + 2.0
    whitehead = f(polarity=-1, dark=-0.15, hem=-0.2, mel=-0.05, diameter_mm=1.5, sat_ratio=0.5)
    head = dataclasses.replace(whitehead, diameter_mm=2.5, halo_hem=asm.PUSTULE_HALO_HEM_OD + 0.05)
    for light, kind in ((whitehead, (asm.ACNE, asm.WHITEHEAD)), (head, (asm.ACNE, asm.PUSTULE))):
        assert classify(dataclasses.replace(light, eye_mm=near, brow_mm=near)) is None
        assert classify(dataclasses.replace(light, eye_mm=near, brow_mm=far)) == kind  # under the eye
        assert classify(dataclasses.replace(light, eye_mm=far, brow_mm=near)) == kind  # above the brow
    assert classify(f(eye_mm=near, brow_mm=near)) == (asm.SPECKLE, asm.FRECKLE)  # pigment on the lid is kept


def test_feature_distance_is_in_mm_zero_inside_and_inf_without_the_region() -> None:
    class Regions:
        names = ("eye_left",)

        @staticmethod
        def polygon(name: str) -> list[list[float]]:
            return [[10, 10], [20, 10], [20, 20], [10, 20]]

    class Ctx:
        mm_per_px, regions = 0.5, Regions()

    assert asm.feature_distance_mm(Ctx(), asm.EYE_REGIONS, 15, 15) == 0.0
    assert asm.feature_distance_mm(Ctx(), asm.EYE_REGIONS, 40, 15) == pytest.approx(10.0)
    assert np.isinf(asm.feature_distance_mm(Ctx(), asm.BROW_REGIONS, 15, 15))


def test_faint_barely_significant_freckles_are_mottling() -> None:
    mel = asm.FAINT_FRECKLE_MAX_OD - 0.02  # above MIN_COLOUR_OD, below the faint-freckle bar
    faint = f(mel=mel, hem=0.0, dark=asm.DARK_PER_MEL * mel, significance=asm.FAINT_FRECKLE_MIN_SIGNIFICANCE - 0.3)
    assert mel > asm.MIN_COLOUR_OD and classify(faint) is None
    clear = dataclasses.replace(faint, significance=asm.FAINT_FRECKLE_MIN_SIGNIFICANCE + 0.3)
    assert classify(clear) == (asm.SPECKLE, asm.FRECKLE)  # faint but well above the noise floor
    mel = asm.FAINT_FRECKLE_MAX_OD + 0.02
    assert classify(dataclasses.replace(faint, mel=mel, dark=asm.DARK_PER_MEL * mel)) == (asm.SPECKLE, asm.FRECKLE)
    # larger brown spots (age spots) are not held to it
    big = dataclasses.replace(faint, diameter_mm=asm.FRECKLE_MAX_MM + 1.0)
    assert classify(big) == (asm.SPECKLE, asm.AGE_SPOT)


def test_spots_on_a_fold_line_in_a_shaded_zone_are_its_end() -> None:
    # a red-brown spot (acne-mark colours) above the shaded-zone colour bar, below BILATERAL_STRONG_OD
    spot = f(mel=0.18, hem=0.13, dark=asm.DARK_PER_MEL * 0.18 + asm.DARK_PER_HEM * 0.13, in_shaded_zone=True,
             elongation=1.4)
    assert asm.SHADED_ZONE_FACTOR * asm.MIN_COLOUR_OD <= 0.31 < asm.BILATERAL_STRONG_OD
    assert classify(dataclasses.replace(spot, outline_mm=asm.FOLD_ON_MM - 0.5)) is None
    assert classify(dataclasses.replace(spot, outline_mm=asm.FOLD_ON_MM + 1.0)) == (asm.ACNE, asm.ACNE_MARK)
    assert classify(dataclasses.replace(spot, outline_mm=asm.FOLD_ON_MM - 0.5, in_shaded_zone=False)) is not None
    strong = dataclasses.replace(spot, outline_mm=0.5, mel=0.25, hem=0.18,
                                 dark=asm.DARK_PER_MEL * 0.25 + asm.DARK_PER_HEM * 0.18)
    assert classify(strong) is not None  # a real lesion on the fold


def test_faint_light_heads_in_shaded_zones_are_highlights_even_with_a_red_ring() -> None:
    faint = -(asm.SHADED_ZONE_FACTOR * asm.DETECT_BRIGHT) + 0.04  # lighter than skin, under the shaded bar
    head = f(polarity=-1, dark=faint, mel=-0.05, hem=-0.12, diameter_mm=2.6, sat_ratio=0.85,
             halo_hem=asm.PUSTULE_HALO_HEM_OD + 0.1, in_shaded_zone=True)
    assert classify(head) is None  # a nose highlight between the redder flanks
    assert classify(dataclasses.replace(head, in_shaded_zone=False)) == (asm.ACNE, asm.PUSTULE)
    bright = -(asm.SHADED_ZONE_FACTOR * asm.DETECT_BRIGHT) - 0.04
    assert classify(dataclasses.replace(head, dark=bright)) == (asm.ACNE, asm.PUSTULE)
