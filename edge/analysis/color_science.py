"""Colour science in numpy: sRGB <-> CIELAB (D65), the Individual Typology Angle and its six classes, and
the optical-density pigment model (melanin / hemoglobin / shading) shared with the skin_pigment model.

Everything here is plain maths on pixel values, usable by analyzers, tests and scripts alike.
"""

from __future__ import annotations

import numpy as np

from edge.analysis.reference import HEMOGLOBIN_OD, MELANIN_OD, OD_V_MIN, PIGMENT_MATRIX

# --- sRGB <-> CIE XYZ <-> CIELAB, D65 (IEC 61966-2-1 and CIE 15) -----------------------------------
D65_WHITE = np.array([0.95047, 1.0, 1.08883])  # XYZ of the D65 white point, Y = 1
SRGB_TO_XYZ = np.array([
    [0.4124564, 0.3575761, 0.1804375],
    [0.2126729, 0.7151522, 0.0721750],
    [0.0193339, 0.1191920, 0.9503041],
])
XYZ_TO_SRGB = np.linalg.inv(SRGB_TO_XYZ)
_LAB_EPS = (6.0 / 29.0) ** 3  # CIE: below this, f(t) is linear
_LAB_KAPPA = (29.0 / 6.0) ** 2 / 3.0


def srgb_to_linear(v: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in [0, 1] -> linear light."""
    v = np.asarray(v, np.float64)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(v: np.ndarray) -> np.ndarray:
    v = np.clip(np.asarray(v, np.float64), 0.0, None)
    return np.where(v <= 0.0031308, 12.92 * v, 1.055 * v ** (1 / 2.4) - 0.055)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) sRGB in [0, 1] (R, G, B) -> (..., 3) CIELAB (L* 0..100, a*, b*), D65."""
    xyz = srgb_to_linear(rgb) @ SRGB_TO_XYZ.T / D65_WHITE
    f = np.where(xyz > _LAB_EPS, np.cbrt(xyz), _LAB_KAPPA * xyz + 4.0 / 29.0)
    return np.stack([116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], -1)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """(..., 3) CIELAB D65 -> (..., 3) sRGB in [0, 1] (out-of-gamut values clipped)."""
    lab = np.asarray(lab, np.float64)
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], -1)
    xyz = np.where(f > 6.0 / 29.0, f**3, (f - 4.0 / 29.0) / _LAB_KAPPA) * D65_WHITE
    return np.clip(linear_to_srgb(xyz @ XYZ_TO_SRGB.T), 0.0, 1.0)


# uint8 sRGB value -> linear light: exact for 8-bit pixels, and ~10x faster than the formula.
_SRGB_U8_TO_LINEAR = srgb_to_linear(np.arange(256) / 255.0)


def bgr_to_lab(bgr: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 BGR (OpenCV order) -> CIELAB (same maths as rgb_to_lab)."""
    lin = _SRGB_U8_TO_LINEAR[np.asarray(bgr, np.uint8)[..., ::-1]]
    xyz = lin @ (SRGB_TO_XYZ / D65_WHITE[:, None]).T
    f = np.where(xyz > _LAB_EPS, np.cbrt(xyz), _LAB_KAPPA * xyz + 4.0 / 29.0)
    return np.stack([116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], -1)


def lab_to_bgr_u8(lab: np.ndarray) -> np.ndarray:
    return np.round(lab_to_rgb(lab)[..., ::-1] * 255.0).astype(np.uint8)


# --- Individual Typology Angle (Chardon et al. 1991; Del Bino et al. 2006) ------------------------
# ITA = atan((L* - 50) / b*) in degrees; the six skin classes, lightest first. A value exactly on a
# boundary belongs to the darker class ("very light" is ITA > 55, ...).
ITA_VERY_LIGHT = 55.0  # > 55: very light -> color 1
ITA_LIGHT = 41.0  # 41 < ITA <= 55: light -> 2
ITA_INTERMEDIATE = 28.0  # 28 < ITA <= 41: intermediate -> 3
ITA_TAN = 10.0  # 10 < ITA <= 28: tan -> 4
ITA_BROWN = -30.0  # -30 < ITA <= 10: brown -> 5; ITA <= -30: dark -> 6
ITA_BOUNDARIES = (ITA_VERY_LIGHT, ITA_LIGHT, ITA_INTERMEDIATE, ITA_TAN, ITA_BROWN)
ITA_CLASS_NAMES = ("very light", "light", "intermediate", "tan", "brown", "dark")


def ita_deg(lightness: float | np.ndarray, b_star: float | np.ndarray) -> float | np.ndarray:
    """ITA in degrees. atan2 keeps the formula's meaning for b* > 0 (all real skin) and stays finite at
    b* = 0 (+-90 deg)."""
    return np.degrees(np.arctan2(np.asarray(lightness) - 50.0, np.asarray(b_star)))


def ita_class(ita: float) -> int:
    """1 (very light) ... 6 (dark), the seed's `skin.color`."""
    for grade, boundary in enumerate(ITA_BOUNDARIES, start=1):
        if ita > boundary:
            return grade
    return 6


def lab_for_ita(ita: float, lightness: float, a_star: float = 10.0) -> np.ndarray:
    """A CIELAB colour with the given ITA and L* (b* solved), e.g. to make test patches."""
    b_star = (lightness - 50.0) / np.tan(np.radians(ita))
    return np.array([lightness, a_star, b_star])


# --- Optical-density pigment model (Tsumura et al. style; matrix in edge/analysis/reference.py) ------
def optical_density(bgr: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 BGR -> (..., 3) OD per R, G, B channel, exact -ln with the model's clamp."""
    v = np.maximum(np.asarray(bgr, np.float64)[..., ::-1] / 255.0, OD_V_MIN)
    return -np.log(v)


def pigments(bgr: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 BGR -> (..., 3) float (melanin, hemoglobin, shading) coefficients, OD units."""
    return optical_density(bgr) @ PIGMENT_MATRIX.T


def add_pigment(bgr: np.ndarray, melanin: float | np.ndarray = 0.0, hemoglobin: float | np.ndarray = 0.0) -> np.ndarray:
    """Add melanin / hemoglobin optical density to a BGR uint8 image (scalars or per-pixel maps): the
    physical way to darken skin, plant a brown spot or a red patch."""
    od = -np.log(np.clip(np.asarray(bgr, np.float64)[..., ::-1], 0.5, 255.0) / 255.0)
    mel = np.asarray(melanin, np.float64)[..., None] if np.ndim(melanin) else melanin
    hem = np.asarray(hemoglobin, np.float64)[..., None] if np.ndim(hemoglobin) else hemoglobin
    od = od + mel * np.asarray(MELANIN_OD) + hem * np.asarray(HEMOGLOBIN_OD)
    return np.clip(np.exp(-od) * 255.0 + 0.5, 0, 255).astype(np.uint8)[..., ::-1].copy()


def hemoglobin_of_lab(lightness: float, a_star: float, b_star: float) -> float:
    """Hemoglobin coefficient of a uniform colour, to express redness thresholds in CIELAB terms."""
    rgb = lab_to_rgb(np.array([lightness, a_star, b_star]))
    od = -np.log(np.maximum(rgb, OD_V_MIN))
    return float((PIGMENT_MATRIX @ od)[1])


def melanin_of_lab(lightness: float, a_star: float, b_star: float) -> float:
    """Melanin coefficient of a uniform colour, to express brown-patch thresholds in CIELAB terms."""
    rgb = lab_to_rgb(np.array([lightness, a_star, b_star]))
    od = -np.log(np.maximum(rgb, OD_V_MIN))
    return float((PIGMENT_MATRIX @ od)[0])
