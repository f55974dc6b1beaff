"""Multi-scale blob responses for point lesions: the `lesion_blobs` model's contract, its float
reference, and the run-time access to its int8 outputs.

Three lesion channels per pixel, all linear in RGB optical density (OD = -ln(value/255), the
piecewise-linear -ln of `reference.py`, so they stay integer-friendly):
  dark  luma-weighted OD: darkness, whatever the colour (moles, blackheads, pores; negative = brighter);
  mel   melanin coefficient (Tsumura decomposition, `reference.PIGMENT_MATRIX`): brown pigment;
  hem   hemoglobin coefficient: redness (acne, sunburn).
For each scale sigma (crop px) the model gives, per channel, the scale-normalised negated Laplacian of
Gaussian  -sigma^2 LoG * channel: a disc of radius sqrt(2) sigma holding `c` more OD than its surround
answers 2c/e ~ 0.74 c at its centre (a Gaussian blob of scale sigma: c/2), so responses are contrasts in
OD units at every scale. Large scales
run on an average-pooled pyramid. Each output is one [1, H, W, 3] tensor (dark, mel, hem) normalised
to [-1, 1] by the channel's CLIP, so the three share one int8 scale without losing the small
hemoglobin responses; `blob_maps()` multiplies CLIP back (OD units).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from edge.analysis import reference as ref

if TYPE_CHECKING:
    from edge.face.context import FaceContext
    from edge.runtime.manifest import ModelStore

MODEL_NAME = "lesion_blobs"
CHANNELS = ("dark", "mel", "hem")
LUMA_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601 on R, G, B: "dark" is the luma-weighted OD
# Rows map an RGB OD vector to (dark, mel, hem).
CHANNEL_MATRIX = np.vstack([np.asarray(LUMA_WEIGHTS), ref.PIGMENT_MATRIX[0], ref.PIGMENT_MATRIX[1]])
# (pyramid level, sigma in that level's px). Crop-px sigma = sigma * 2**level: 1 px resolves
# blackheads and pores (~0.3-1 mm), 2/4/8/16 px papules, spots and moles up to large patches (~15 mm).
# Only the finest scale runs at full resolution (it is most of the model's cost), and on `dark` alone:
# JPEG and camera chroma is subsampled 2x, so melanin/hemoglobin detail at 1 px is not in the photo.
SCALES = ((0, 1.0), (1, 1.0), (1, 2.0), (2, 2.0), (3, 2.0))
FINE_CHANNELS = ("dark",)  # channels at level 0 (the others from level 1 on)


def channels_at(level: int) -> tuple[str, ...]:
    return FINE_CHANNELS if level == 0 else CHANNELS
RADIUS_PER_SIGMA = 3.0  # filter taps reach 3 sigma either side
# Responses beyond these (OD) are hair, eye or lip edges, never skin lesions; clipping both the
# directional derivatives and the sum keeps each int8 step fine (~0.005 OD for dark).
CLIP = {"dark": 0.8, "mel": 0.6, "hem": 0.4}
# Each channel map is clipped to a skin-plausible OD range before filtering (hair, background and
# pupils reach OD 3-4 and would otherwise coarsen the int8 step ~2x); shifted by its range centre so
# all three share the clip +-CHANNEL_HALF_RANGE (a constant shift does not change a LoG response).
CHANNEL_RANGE = {"dark": (0.0, 2.4), "mel": (-0.6, 1.8), "hem": (-0.4, 2.0)}
CHANNEL_HALF_RANGE = 1.2


def crop_sigma(level: int, sigma: float) -> int:
    return int(round(sigma * 2**level))


def output_name(level: int, sigma: float) -> str:
    return f"blob_s{crop_sigma(level, sigma)}"


OUTPUTS = tuple(output_name(lv, s) for lv, s in SCALES)
CHANNEL_SHIFT = np.array([sum(CHANNEL_RANGE[c]) / 2 for c in CHANNELS], np.float32)
CLIPS = np.array([CLIP[c] for c in CHANNELS], np.float32)


def scale_taps(sigma: float, clip: float) -> tuple[np.ndarray, np.ndarray]:
    """int8-exact (smoothing taps, negated scale-normalised second-derivative taps / clip) for
    -sigma^2 (Gxx + Gyy) / clip (taps on the int8 weight grid: weight quantization is exact)."""
    radius = int(np.ceil(RADIUS_PER_SIGMA * sigma))
    return (ref.int8_taps(ref.gaussian_taps(sigma, radius, 0)),
            ref.int8_taps(-(sigma**2) * ref.gaussian_taps(sigma, radius, 2) / clip, zero_sum=True))


_OD_LUT = ref.od_table().astype(np.float32)  # -ln(max(v, V_MIN)) per 8-bit value (reference.py)
_CHANNEL_AFFINE = np.hstack([CHANNEL_MATRIX, -CHANNEL_SHIFT[:, None]]).astype(np.float32)


def channel_maps(crop_bgr: np.ndarray) -> np.ndarray:
    """BGR uint8 crop (H, W, 3) -> float32 (H, W, 3) dark/mel/hem in OD units (unclipped, unshifted)."""
    od = cv2.LUT(cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2RGB), _OD_LUT)
    return cv2.transform(od, CHANNEL_MATRIX.astype(np.float32))


def model_input(crop_bgr: np.ndarray) -> np.ndarray:
    """The model's input from the BGR crop: channel maps shifted by CHANNEL_SHIFT, clipped to
    +-CHANNEL_HALF_RANGE, float32 (H, W, 3); the interpreter wrapper quantizes it.

    Made in float before the model (a 256-entry table and a 3x3 matrix, ~2 ms): measured, the same
    maths inside the int8 graph (ReLU -ln hinges + 1x1 conv) left hemoglobin maps at Pearson ~0.75,
    one weight scale cannot hold the hinge slopes' spread times the pigment matrix's cancelling rows."""
    od = cv2.LUT(cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2RGB), _OD_LUT)
    return np.clip(cv2.transform(od, _CHANNEL_AFFINE), -CHANNEL_HALF_RANGE, CHANNEL_HALF_RANGE)


def pool(img: np.ndarray, level: int) -> np.ndarray:
    if level == 0:
        return img
    f = 2**level
    h, w = img.shape[:2]
    # INTER_AREA at an integer factor is the exact block mean (AVERAGE_POOL_2D "VALID"), and fast.
    return cv2.resize(np.asarray(img, np.float32), (w // f, h // f), interpolation=cv2.INTER_AREA)


_DELTA = np.ones(1)


def _sep(img: np.ndarray, kx: np.ndarray, ky: np.ndarray) -> np.ndarray:
    return cv2.sepFilter2D(img, cv2.CV_32F, kx.astype(np.float32), ky.astype(np.float32),
                           borderType=cv2.BORDER_CONSTANT)


def blob_response(channel: np.ndarray, sigma: float, clip: float) -> np.ndarray:
    """-sigma^2 LoG / clip, derivative first in each separable branch (as the int8 graph), in [-1, 1]."""
    g, d2 = scale_taps(sigma, clip)
    dyy = np.clip(_sep(channel, _DELTA, d2), -1, 1)
    dxx = np.clip(_sep(channel, d2, _DELTA), -1, 1)
    return np.clip(_sep(dyy, g, _DELTA) + _sep(dxx, _DELTA, g), -1, 1)


def lesion_blobs_reference(chans: np.ndarray) -> dict[str, np.ndarray]:
    """Float reference of the `lesion_blobs` model on its input (`model_input(crop_bgr)`):
    {output name: (H/2**level, W/2**level, 3)} normalised (dark, mel, hem) responses."""
    out: dict[str, np.ndarray] = {}
    for level, sigma in SCALES:
        pooled = pool(chans, level)
        out[output_name(level, sigma)] = np.stack(
            [blob_response(np.ascontiguousarray(pooled[..., i]), sigma, CLIP[c])
             for i, c in enumerate(channels_at(level))], axis=-1)
    return out


def to_od(normalised: np.ndarray) -> np.ndarray:
    """A model output (..., C) in [-1, 1] -> responses in OD units per channel (the first C channels)."""
    return np.asarray(normalised, np.float32) * CLIPS[: normalised.shape[-1]]


def channels_of(ctx: FaceContext) -> np.ndarray:
    """`channel_maps(ctx.crop)`, once per face (the model input and the lesion measurements share it)."""
    return ctx.cached("lesion_blobs:channels", lambda c: channel_maps(c.crop))


def blob_maps(ctx: FaceContext, store: ModelStore) -> dict[str, np.ndarray]:
    """The int8 model's outputs for this face, (H, W, 3) dark/mel/hem responses in OD units, once per face."""

    def compute(c: FaceContext) -> dict[str, np.ndarray]:
        chans = channels_of(c)
        model = store.get(MODEL_NAME)
        spec = model.input
        if spec.quantized and spec.dtype == np.uint8:
            # model_input(crop) quantized in one affine pass: q = (chans - shift) / scale + zero point.
            lo, hi = (-CHANNEL_HALF_RANGE / spec.scale + spec.zero_point, CHANNEL_HALF_RANGE / spec.scale + spec.zero_point)
            m = np.hstack([np.eye(3) / spec.scale, (spec.zero_point + 0.5 - CHANNEL_SHIFT / spec.scale)[:, None]])
            q = cv2.transform(chans, m.astype(np.float32))
            x = np.clip(q, max(np.floor(lo + 0.5), 0), min(np.floor(hi + 0.5), 255), out=q).astype(np.uint8)
        else:
            x = np.clip(chans - CHANNEL_SHIFT, -CHANNEL_HALF_RANGE, CHANNEL_HALF_RANGE)  # = model_input(c.crop)
        outs = model.run(x[None], dequantize_outputs=False)
        maps = {}
        for name in OUTPUTS:  # dequantize and scale to OD in one pass: (q - zero point) * scale * CLIP
            spec = model.output(name)
            q = outs[name][0]
            maps[name] = (q.astype(np.float32) - np.float32(spec.zero_point)) * (
                np.float32(spec.scale) * CLIPS[: q.shape[-1]]) if spec.quantized else to_od(q)
        return maps

    return ctx.cached(f"maps:{MODEL_NAME}", compute)


# The build, the run time and the int8-vs-reference test find this model's maths through reference.py.
ref.register_reference(MODEL_NAME, lesion_blobs_reference, model_input)
