"""Float references of our designed analysis models: the same maths as the int8 graphs, in numpy/OpenCV.

`scripts/build_models.py` takes every coefficient from this module, so a TensorFlow graph and its
reference cannot drift apart; `tests/unit/test_models_int8.py` checks that each int8 model matches its
reference on a real face crop. Run-time importable: numpy and OpenCV only, never TensorFlow.

Conventions shared with the graphs:
- each model's input is made from the face-aligned BGR crop by `MODEL_INPUTS[name]` (used by the run
  time, the build and the tests alike);
- convolutions are correlations with zero padding ("SAME"), like TFLite (DEPTHWISE_)CONV_2D;
- filter taps are put on the int8 weight grid here (`int8_taps`), so weight quantization is exact and
  the int8-vs-reference error measures activation quantization only.

To add a model: write `<name>_reference(model_input) -> {output: map}` here and list it in `REFERENCES`
(and its input in `MODEL_INPUTS`), then add a builder to `scripts/build_models.py` (`MODEL_BUILDERS`).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

# --- model inputs --------------------------------------------------------------------------------


def rgb_input(crop_bgr: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB: the crop as a colour model expects it."""
    return cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2RGB)


# ITU-R BT.601 luma weights (R, G, B) on the sRGB values, as OpenCV's BGR2GRAY.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def gray_input(crop_bgr: np.ndarray) -> np.ndarray:
    """(H, W) uint8 luma (LUMA_WEIGHTS, OpenCV's grey)."""
    return cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY)


# --- int8-exact filter taps ----------------------------------------------------------------------


def int8_taps(taps: np.ndarray, zero_sum: bool = False) -> np.ndarray:
    """Round taps to the symmetric int8 grid TFLite uses for weights (scale = max|w| / 127). With
    `zero_sum`, fix the rounding so the taps still sum to exactly 0 (largest remainders first): a
    derivative filter that leaks DC would add ~1 grey level x brightness / 150 to every response."""
    taps = np.asarray(taps, np.float64)
    scale = np.abs(taps).max() / 127.0
    exact = taps / scale
    n = np.round(exact)
    if zero_sum:
        excess = int(n.sum())
        peak = int(np.argmax(np.abs(taps)))
        residual = exact - n  # > 0: rounded down, the first candidates for +1
        order = np.argsort(-residual if excess < 0 else residual)
        for i in order:
            if excess == 0:
                break
            if i == peak:
                continue
            n[i] += -np.sign(excess)
            excess += int(-np.sign(excess))
    return (n * scale).astype(np.float64)


# --- skin_pigment: optical density -> melanin / hemoglobin / shading ------------------------------
# Pigment absorbance vectors in RGB optical density (OD = -ln(value/255)) as estimated by independent
# component analysis of face images in Tsumura et al.'s skin colour separation work (and used unchanged
# in that group's published code). The shading (illumination intensity) direction is (1, 1, 1).
MELANIN_OD = (0.4143, 0.3570, 0.8372)
HEMOGLOBIN_OD = (0.2988, 0.6838, 0.6657)
SHADING_OD = (1.0, 1.0, 1.0)
# Rows: melanin, hemoglobin, shading coefficient of an RGB OD vector (solve OD = cm*M + ch*H + cs*S).
# Projecting along S removes exposure: scaling the image changes only `shading`. The melanin and
# hemoglobin rows sum to 0, so a neutral grey has no pigment at any brightness.
PIGMENT_MATRIX = np.linalg.inv(np.column_stack([MELANIN_OD, HEMOGLOBIN_OD, SHADING_OD]))
PIGMENT_OUTPUTS = ("melanin", "hemoglobin", "shading")
# Darker channel values clamp: OD <= 2.77. Below this there is only deep shadow, never analysable skin,
# and a shorter OD range gives the int8 table a finer step (0.011 OD).
OD_V_MIN = 16.0 / 255.0
# The OD table is stored centred on this value (symmetric int8 range); the graph adds it back.
OD_CENTER = -0.5 * np.log(OD_V_MIN)


def od_table() -> np.ndarray:
    """The 256-entry -ln(max(v, OD_V_MIN)) table, v = value / 255 (exact: the input has 256 levels)."""
    v = np.maximum(np.arange(256, dtype=np.float64) / 255.0, OD_V_MIN)
    return -np.log(v)


def optical_density(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 -> float32 OD per channel through `od_table()`."""
    return od_table().astype(np.float32)[np.asarray(rgb, np.uint8)]


# Piecewise-linear -ln knots (geometric, ratio 1.24 between knots, max error 0.006 OD): for a graph
# that must build -ln from ReLU hinges. The pigment model uses the exact table instead (GATHER): hinge
# slopes spread 20:1, and one int8 weight scale per output cannot hold them (hemoglobin r ~0.8).
OD_KNOTS = np.geomspace(OD_V_MIN, 1.0, 14)


def skin_pigment_reference(rgb: np.ndarray) -> dict[str, np.ndarray]:
    """Per-pixel melanin, hemoglobin and shading coefficients (OD units), full crop resolution."""
    od = optical_density(rgb).reshape(-1, 3)
    coeffs = od @ PIGMENT_MATRIX.T.astype(np.float32)
    h, w = rgb.shape[:2]
    return {name: coeffs[:, i].reshape(h, w) for i, name in enumerate(PIGMENT_OUTPUTS)}


# --- skin_texture: band-pass (Laplacian of Gaussian) maps and the local mean luma ------------------
# Band-pass scales in crop px. The crop spans the face (~1.25x the mesh extent) in 512 px, so ~0.35 mm
# per px for an adult face: 1.5 px ~ 0.5 mm (pores, fine roughness), 3 px ~ 1 mm (bumps, fine lines).
LOG_SIGMAS = (1.5, 3.0)
LOG_TRUNCATE = 3.3  # taps reach this many sigma either side
# Responses beyond this (grey levels) are edges of hair, eyes or lips, not skin texture. Each directional
# second derivative and the sum are clipped to it, which keeps the int8 scales fine enough for skin (a
# step of 0.125 grey level at the output instead of ~1 for the unclipped range).
LOG_CLIP = 16.0
# Local mean luma: 4x4 block mean, then a Gaussian of this sigma in pooled px (16 crop px ~ 5.5 mm):
# the "surrounding skin" level that specular highlights stand out from.
MEAN_POOL = 4
MEAN_SIGMA = 4.0
MEAN_RADIUS = 12


def gaussian_taps(sigma: float, radius: int, order: int = 0) -> np.ndarray:
    """Sampled 1-D Gaussian (order 0, sums to 1) or its second derivative (order 2, zero mean), float."""
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    g = np.exp(-0.5 * (x / sigma) ** 2)
    g /= g.sum()
    if order == 0:
        return g
    if order == 2:
        d2 = g * (x**2 - sigma**2) / sigma**4
        return d2 - d2.mean()
    raise ValueError("order must be 0 or 2")


def log_kernels(sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """int8-exact (smoothing taps, sigma^2-scaled second-derivative taps): sigma^2 LoG = Gxx + Gyy."""
    radius = int(np.ceil(LOG_TRUNCATE * sigma))
    return (int8_taps(gaussian_taps(sigma, radius, 0)),
            int8_taps(sigma**2 * gaussian_taps(sigma, radius, 2), zero_sum=True))


def mean_kernel() -> np.ndarray:
    return int8_taps(gaussian_taps(MEAN_SIGMA, MEAN_RADIUS))


_DELTA = np.ones(1)


def filter_rows_cols(img: np.ndarray, kx: np.ndarray, ky: np.ndarray) -> np.ndarray:
    """Separable correlation (kx along x, ky along y), zero padding, float32."""
    return cv2.sepFilter2D(np.asarray(img, np.float32), cv2.CV_32F, kx.astype(np.float32),
                           ky.astype(np.float32), borderType=cv2.BORDER_CONSTANT)


def skin_texture_reference(gray: np.ndarray) -> dict[str, np.ndarray]:
    """sigma^2 LoG of luma at each LOG_SIGMAS (positive on dark dots and valleys, clipped to +-LOG_CLIP)
    and the local mean luma (pooled resolution)."""
    y = np.asarray(gray, np.float32)
    out: dict[str, np.ndarray] = {}
    for name, sigma in zip(("log_fine", "log_coarse"), LOG_SIGMAS, strict=True):
        g, d2 = log_kernels(sigma)
        # Derivative first in each branch (its small range gets its own int8 scale), then smoothing.
        dyy = np.clip(filter_rows_cols(y, _DELTA, d2), -LOG_CLIP, LOG_CLIP)
        dxx = np.clip(filter_rows_cols(y, d2, _DELTA), -LOG_CLIP, LOG_CLIP)
        both = filter_rows_cols(dyy, g, _DELTA) + filter_rows_cols(dxx, _DELTA, g)
        out[name] = np.clip(both, -LOG_CLIP, LOG_CLIP)
    h, w = y.shape
    pooled = y.reshape(h // MEAN_POOL, MEAN_POOL, w // MEAN_POOL, MEAN_POOL).mean(axis=(1, 3))
    gm = mean_kernel()
    out["luma_mean"] = filter_rows_cols(pooled, gm, gm)
    return out


ReferenceFn = Callable[[np.ndarray], dict[str, np.ndarray]]
InputFn = Callable[[np.ndarray], np.ndarray]

# Manifest model name -> float reference of its outputs (taking the model input), and how that input is
# made from the BGR crop. Every designed model has both: tests/unit/test_models_int8.py walks this
# table and requires an entry for every model of ours in the manifest that is not `learned: true`.
REFERENCES: dict[str, ReferenceFn] = {
    "skin_pigment": skin_pigment_reference,
    "skin_texture": skin_texture_reference,
}
MODEL_INPUTS: dict[str, InputFn] = {
    "skin_pigment": rgb_input,
    "skin_texture": gray_input,
}


def register_reference(name: str, reference: ReferenceFn, model_input: InputFn) -> None:
    """For designed models whose maths lives in their own module (e.g. a lesion analyzer's helpers):
    call at import time so the build, the run time and the int8 test all find it."""
    REFERENCES[name] = reference
    MODEL_INPUTS[name] = model_input
