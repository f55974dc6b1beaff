"""Shared per-face maps: our int8 models' outputs and the pixel masks several fields rely on.

Every function takes (ctx, store) and memoises through `ctx.cached`, so each model runs once per face
however many fields ask. All maps are in face-aligned crop pixels (ctx.crop_size square).

- `model_outputs(ctx, store, name)`: any manifest model's named outputs on this face (generic: input made
  by `reference.MODEL_INPUTS`, resized to the model's input size, input range from the manifest).
- `pigment_maps`: melanin / hemoglobin / shading (skin_pigment), OD units.
- `texture_maps`: LoG band-pass maps and local mean luma (skin_texture).
- `skin_reference`: the face's own typical skin values (medians over cheeks, nose, chin).
- `skin_pixels`: skin-region pixels that really show skin (hair, moles, deep shadow removed).
- `specular_mask`: specular highlights (shine).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from edge.analysis import reference as ref

if TYPE_CHECKING:
    from edge.face.context import FaceContext
    from edge.runtime.manifest import ModelStore

# Zones rarely covered by hair, brows or glasses: where the face's own skin reference is measured.
REFERENCE_ZONES = ("cheek_left", "cheek_right", "nose", "chin")
# A skin-region pixel with this much more melanin (OD) than the face's reference is hair (brown or
# blond), a brow or a mole: not skin tone. Freckles (+0.05..0.2) stay in.
HAIR_MELANIN_MARGIN = 0.25
# ... or with this much more shading OD (e^0.7 ~ 2x darker) is deep shadow or black hair. Ordinary side
# lighting (one cheek ~1.5x darker) stays in.
SHADOW_OD_MARGIN = 0.7
# Specular highlight (shine): at least 12% brighter than the skin around it (local mean over ~5 mm) ...
SPECULAR_LOCAL_RATIO = 1.12
# ... and at most 60% of the face's median skin saturation: specular reflection adds the illuminant's
# white to the skin colour, so shine is brighter *and* paler, while a lighter skin patch keeps its hue.
SPECULAR_SAT_RATIO = 0.6
MIN_SKIN_SATURATION = 8.0  # of 255: skin whose median HSV saturation is under ~3 % is a greyscale picture


def zone(ctx: FaceContext, name: str) -> np.ndarray:
    """Region mask as bool (crop px)."""
    return ctx.regions.mask(name) > 0


def zones(ctx: FaceContext, names: tuple[str, ...]) -> np.ndarray:
    out = np.zeros((ctx.crop_size, ctx.crop_size), bool)
    for name in names:
        out |= zone(ctx, name)
    return out


# --- model outputs ---------------------------------------------------------------------------------
def _model_input(ctx: FaceContext, store: ModelStore, name: str) -> np.ndarray:
    model = store.get(name)
    spec = model.input
    size = spec.shape[1]
    crop = ctx.crop if ctx.crop_size == size else cv2.resize(ctx.crop, (size, size), interpolation=cv2.INTER_AREA)
    x = ref.MODEL_INPUTS[name](crop).reshape(spec.shape)
    if np.issubdtype(spec.dtype, np.floating):
        # A swapped-in float model: scale pixels to the range its manifest entry declares.
        lo, hi = (store.entry(name).info.get("input") or {}).get("range", [0, 255])
        return (x.astype(np.float32) / 255.0 * (float(hi) - float(lo)) + float(lo)).astype(np.float32)
    if spec.dtype == np.uint8 and (not spec.quantized or (spec.scale == 1.0 and spec.zero_point == 0)):
        return x  # pixel values are the tensor's values: feed as they are
    return x.astype(np.float32)  # TFLiteModel.run quantizes with the tensor's own scale


def model_outputs(ctx: FaceContext, store: ModelStore, name: str) -> dict[str, np.ndarray]:
    """{output name: float32 map} of a manifest model on this face's crop, computed once per face.
    Single-channel maps come back 2-D; maps of another resolution than the crop keep their own."""

    def compute(c: FaceContext) -> dict[str, np.ndarray]:
        out = store.get(name).run(_model_input(c, store, name))
        return {k: (v[0, ..., 0] if v.ndim == 4 and v.shape[-1] == 1 else v[0]) for k, v in out.items()}

    return ctx.cached(f"model:{name}", compute)


def _at_crop_size(ctx: FaceContext, m: np.ndarray) -> np.ndarray:
    size = ctx.crop_size
    return m if m.shape[:2] == (size, size) else cv2.resize(m, (size, size), interpolation=cv2.INTER_LINEAR)


@dataclass(frozen=True)
class PigmentMaps:
    melanin: np.ndarray  # OD units, 0 = neutral grey; higher = browner
    hemoglobin: np.ndarray  # OD units; higher = redder
    shading: np.ndarray  # OD units along (1,1,1); higher = darker (exposure, shadow)


def pigment_maps(ctx: FaceContext, store: ModelStore) -> PigmentMaps:
    def compute(c: FaceContext) -> PigmentMaps:
        out = model_outputs(c, store, "skin_pigment")
        return PigmentMaps(*(_at_crop_size(c, out[k]) for k in ref.PIGMENT_OUTPUTS))

    return ctx.cached("pigment_maps", compute)


@dataclass(frozen=True)
class TextureMaps:
    log_fine: np.ndarray  # sigma^2 LoG of luma, sigma 1.5 px, grey levels (+ on dark dots / valleys)
    log_coarse: np.ndarray  # same at sigma 3 px
    luma_mean: np.ndarray  # local mean luma, crop resolution (upsampled from the model's 1/4 map)


def texture_maps(ctx: FaceContext, store: ModelStore) -> TextureMaps:
    def compute(c: FaceContext) -> TextureMaps:
        out = model_outputs(c, store, "skin_texture")
        return TextureMaps(_at_crop_size(c, out["log_fine"]), _at_crop_size(c, out["log_coarse"]),
                           _at_crop_size(c, out["luma_mean"]))

    return ctx.cached("texture_maps", compute)


# --- plain image maps ------------------------------------------------------------------------------
def luma(ctx: FaceContext) -> np.ndarray:
    """uint8 luma of the crop (the skin_texture model's input)."""
    return ctx.cached("luma", lambda c: ref.gray_input(c.crop))


def saturation(ctx: FaceContext) -> np.ndarray:
    """uint8 HSV saturation of the crop, (max - min) / max * 255."""
    return ctx.cached("saturation", lambda c: cv2.cvtColor(c.crop, cv2.COLOR_BGR2HSV)[..., 1])


# --- the face's own skin ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SkinReference:
    """Medians over the skin of REFERENCE_ZONES: what this face's ordinary skin looks like."""

    melanin: float
    hemoglobin: float
    shading: float
    saturation: float  # 0..255
    pixels: int


def skin_reference(ctx: FaceContext, store: ModelStore) -> SkinReference:
    def compute(c: FaceContext) -> SkinReference:
        p = pigment_maps(c, store)
        sel = zones(c, REFERENCE_ZONES)
        if sel.sum() < 50:  # degenerate regions (tiny or occluded face): use all skin
            sel = zone(c, "skin")
        if not sel.any():
            sel = np.ones_like(sel)
        return SkinReference(float(np.median(p.melanin[sel])), float(np.median(p.hemoglobin[sel])),
                             float(np.median(p.shading[sel])), float(np.median(saturation(c)[sel])),
                             int(sel.sum()))

    return ctx.cached("skin_reference", compute)


def skin_pixels(ctx: FaceContext, store: ModelStore) -> np.ndarray:
    """Bool mask: the `skin` region without hair, brows, moles and deep shadow (see the margins above)."""

    def compute(c: FaceContext) -> np.ndarray:
        p, r = pigment_maps(c, store), skin_reference(c, store)
        return (zone(c, "skin") & (p.melanin <= r.melanin + HAIR_MELANIN_MARGIN)
                & (p.shading <= r.shading + SHADOW_OD_MARGIN))

    return ctx.cached("skin_pixels", compute)


def specular_mask(ctx: FaceContext, store: ModelStore) -> np.ndarray:
    """Bool mask (whole crop): specular highlights, brighter than the local skin and paler than skin."""

    def compute(c: FaceContext) -> np.ndarray:
        t, r = texture_maps(c, store), skin_reference(c, store)
        bright = luma(c).astype(np.float32) >= SPECULAR_LOCAL_RATIO * t.luma_mean
        if r.saturation < MIN_SKIN_SATURATION:  # a grey picture: "paler than skin" means nothing, so no
            return np.zeros_like(bright)  # highlight can be told from bright skin
        pale = saturation(c) <= SPECULAR_SAT_RATIO * r.saturation
        return bright & pale

    return ctx.cached("specular_mask", compute)
