"""`ridge_hessian`: multi-scale Hessian of luma for the wrinkle analyzer. The maths and every coefficient
live in edge/analysis/ridges.py (the float reference); this module only writes the same maths as a
TensorFlow graph for scripts/build_models.py, which picks this module up (`register`):

    .venv-build/bin/python scripts/build_models.py ridge_hessian [--no-manifest] [--runs N]

Input: luma uint8 (reference.gray_input), as skin_texture. Layout: build_models' column layout (a
vertical 1-D filter is a depthwise conv over the W columns as channels; a transpose turns horizontal
passes into vertical ones), block-mean pooling for the coarser scales, and per scale a derivative-first
separable bank: Lxx = d2 along x then Gaussian along y; Lyy = d2 along y then Gaussian along x;
Lxy = d1 along x then d1 along y. Every intermediate is a derivative with its own clip, and each of the
nine maps is its own output tensor (own int8 scale): no tensor mixes smooth (large) and derivative
(small) values.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _ridges_module() -> ModuleType:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from edge.analysis import ridges

    return ridges


def register(bm: ModuleType) -> None:
    """Register `ridge_hessian` in build_models' registry (bm is that script's module namespace)."""
    np = bm.np
    rd = _ridges_module()
    bm.ref.REFERENCES.setdefault(rd.MODEL_NAME, rd.ridge_hessian_reference)
    bm.ref.MODEL_INPUTS.setdefault(rd.MODEL_NAME, bm.ref.gray_input)

    meaning = {"xx": "d2/dx2", "yy": "d2/dy2", "xy": "d2/dxdy"}
    outputs = {}
    for level, sigma in rd.SCALES:
        size = bm.CROP_SIZE // 2**level
        for comp, name in zip(rd.COMPONENTS, rd.output_names(level, sigma), strict=True):
            outputs[name] = (
                f"[1,{size},{size},1] sigma^2 {meaning[comp]} of luma (grey levels), sigma "
                f"{rd.crop_sigma(level, sigma):g} crop px, clipped to +-{rd.HESSIAN_CLIP:g}; a dark line (luma valley) "
                "gives a positive Hessian eigenvalue across it; divide by the local mean luma for relative contrast")

    def graph(x):
        c, gc = rd.HESSIAN_CLIP, rd.GRADIENT_CLIP
        y0 = bm.columns(x)
        out = {}
        for level, sigma in rd.SCALES:
            if level == 0:
                y = y0
            else:
                f = 2**level
                box = np.full(f, 1.0 / f)
                y = bm.transpose(bm.filter_columns(bm.transpose(bm.filter_columns(y0, box, f)), box, f))
            yt = bm.transpose(y)
            g, d1, d2 = rd.scale_taps(sigma)
            xx_t = bm.clip(bm.filter_columns(yt, d2), c)  # d2 along x (transposed layout)
            xx = bm.clip(bm.filter_columns(bm.transpose(xx_t), g), c)  # then Gaussian along y
            yy_v = bm.clip(bm.filter_columns(y, d2), c)  # d2 along y
            yy = bm.clip(bm.transpose(bm.filter_columns(bm.transpose(yy_v), g)), c)  # then Gaussian along x
            x_t = bm.clip(bm.filter_columns(yt, d1), gc)  # d1 along x (transposed layout)
            xy = bm.clip(bm.filter_columns(bm.transpose(x_t), d1), c)  # then d1 along y
            for comp, name in zip(rd.COMPONENTS, rd.output_names(level, sigma), strict=True):
                out[name] = bm.image({"xx": xx, "yy": yy, "xy": xy}[comp])
        return out

    bm.design(
        name=rd.MODEL_NAME,
        outputs=outputs,
        computes="multi-scale Hessian of luma for wrinkles: sigma^2 (Lxx, Lyy, Lxy) at sigma "
                 + ", ".join(f"{rd.crop_sigma(lv, s):g}" for lv, s in rd.SCALES)
                 + " crop px (finest at full resolution, coarser on a 2/4x block-mean pyramid), derivative-first "
                 "separable column-layout depthwise convs, one output tensor per map",
        used_by=("edge/analysis/ridges.py:hessian_maps", "wrinkle"),
        input_channels=1,
        input_layout="NHWC grey uint8 (luma of the face-aligned crop, cv2.COLOR_BGR2GRAY), scale 1, zero point 0",
    )(graph)


if __name__ == "__main__":
    # Stand-alone: `.venv-build/bin/python scripts/modelbuild/ridge.py [build_models args]` builds only
    # this model through build_models.
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_models", ROOT / "scripts" / "build_models.py")
    assert spec and spec.loader
    bm = importlib.util.module_from_spec(spec)
    sys.modules["build_models"] = bm
    spec.loader.exec_module(bm)
    if _ridges_module().MODEL_NAME not in bm.MODEL_BUILDERS:
        register(bm)
    raise SystemExit(bm.main([_ridges_module().MODEL_NAME, *sys.argv[1:]]))
