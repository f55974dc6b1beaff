"""Multi-scale Hessian of skin luma for line (wrinkle) detection: the `ridge_hessian` model's contract,
its float reference, and the run-time access to its int8 outputs.

Input: the crop's luma (uint8, `reference.gray_input`). For each scale sigma (crop px) the model gives
the scale-normalised Hessian  sigma^2 (Lxx, Lyy, Lxy)  of luma in grey levels, each its own output
tensor (own int8 scale), clipped to +-HESSIAN_CLIP. A dark line is a luma valley: a large *positive*
eigenvalue across it and ~0 along it. Scales above the finest run on a block-mean pyramid (a level
costs 4x less). At run time the maps are divided by the local mean luma, which turns grey levels into
relative contrast (~ optical density: a line c % darker than its surround answers the same under any
exposure), then eigen-analysed per pixel in closed form (`ridge_field`).
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

MODEL_NAME = "ridge_hessian"
COMPONENTS = ("xx", "yy", "xy")
# (pyramid level, sigma in that level's px); crop-px sigma = sigma * 2**level. At ~0.37 mm per crop px
# (adult face in the 512 crop) these are ~0.45, 0.9 and 1.8 mm: fine lines, wrinkles, and broad folds
# (a line of width w answers best near sigma ~ w / 2). Coarser scales run on the pooled pyramid.
SCALES = ((0, 1.2), (1, 1.2), (2, 1.2))
TRUNCATE = 3.0  # taps reach 3 sigma either side
# Second-derivative responses beyond this (grey levels) are eyes, brows, hair or lips, never skin lines
# (a line 30 % darker than skin at luma 180 answers ~25); the clip keeps the int8 step at 0.25 grey level.
HESSIAN_CLIP = 32.0
# The first-derivative intermediate of the Lxy branch (sigma x dL/dx, grey levels) is clipped to this:
# skin shading and wrinkle flanks stay far below it, only hair/eye edges reach it.
GRADIENT_CLIP = 48.0
# Local mean luma for the relative-contrast normalisation: Gaussian of this sigma (crop px, ~2.5 mm),
# wider than any line so the line itself barely lowers it; floored so deep shadow cannot blow up.
MEAN_SIGMA = 7.0
MEAN_FLOOR = 16.0


def crop_sigma(level: int, sigma: float) -> float:
    return sigma * 2**level


def scale_name(level: int, sigma: float) -> str:
    return f"hess_s{int(round(10 * crop_sigma(level, sigma))):02d}"


def output_names(level: int, sigma: float) -> tuple[str, str, str]:
    return tuple(f"{scale_name(level, sigma)}_{c}" for c in COMPONENTS)  # type: ignore[return-value]


OUTPUTS = tuple(n for lv, s in SCALES for n in output_names(lv, s))


def scale_taps(sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """int8-exact (Gaussian, sigma x first-derivative, sigma^2 x second-derivative) correlation taps.

    Correlating with d1 gives -sigma dL/dx (correlation flips the odd kernel); the Lxy branch
    correlates with d1 along x and again along y, so the two flips cancel: sigma^2 Lxy."""
    radius = int(np.ceil(TRUNCATE * sigma))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    g = ref.gaussian_taps(sigma, radius, 0)
    d1 = sigma * (-x / sigma**2) * g
    d2 = sigma**2 * ref.gaussian_taps(sigma, radius, 2)
    return ref.int8_taps(g), ref.int8_taps(d1, zero_sum=True), ref.int8_taps(d2, zero_sum=True)


def pool(img: np.ndarray, level: int) -> np.ndarray:
    if level == 0:
        return np.asarray(img, np.float32)
    f = 2**level
    h, w = img.shape[:2]
    return np.asarray(img, np.float32).reshape(h // f, f, w // f, f).mean(axis=(1, 3)).astype(np.float32)


_DELTA = np.ones(1)


def hessian_response(y: np.ndarray, sigma: float) -> dict[str, np.ndarray]:
    """{xx, yy, xy}: sigma^2 second derivatives of y (grey levels), derivative first in each branch
    (as the int8 graph), each clipped to +-HESSIAN_CLIP."""
    g, d1, d2 = scale_taps(sigma)
    f = ref.filter_rows_cols
    c, gc = HESSIAN_CLIP, GRADIENT_CLIP
    return {
        "xx": np.clip(f(np.clip(f(y, d2, _DELTA), -c, c), _DELTA, g), -c, c),
        "yy": np.clip(f(np.clip(f(y, _DELTA, d2), -c, c), g, _DELTA), -c, c),
        "xy": np.clip(f(np.clip(f(y, d1, _DELTA), -gc, gc), _DELTA, d1), -c, c),
    }


def ridge_hessian_reference(gray: np.ndarray) -> dict[str, np.ndarray]:
    """Float reference of the `ridge_hessian` model: {output: (512 / 2**level)^2 map, grey levels}."""
    out: dict[str, np.ndarray] = {}
    for level, sigma in SCALES:
        resp = hessian_response(pool(gray, level), sigma)
        for comp, name in zip(COMPONENTS, output_names(level, sigma), strict=True):
            out[name] = resp[comp]
    return out


# The build, the run time and the int8-vs-reference test find this model's maths and input here.
ref.register_reference(MODEL_NAME, ridge_hessian_reference, ref.gray_input)


def darkness(gray: np.ndarray) -> np.ndarray:
    """Luma uint8 -> optical density -ln(luma / 255) (float32; 0 white, ~0.3-0.8 skin, larger darker)."""
    return ref.optical_density(gray)


def local_mean(gray: np.ndarray) -> np.ndarray:
    """Local mean luma (floored), the denominator of relative contrast; computed at 1/4 resolution."""
    h, w = gray.shape
    small = cv2.resize(np.asarray(gray, np.float32), (w // 4, h // 4), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), MEAN_SIGMA / 4)
    return np.maximum(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), MEAN_FLOOR)


def relative_maps(raw: dict[str, np.ndarray], gray: np.ndarray) -> dict[str, np.ndarray]:
    """Model outputs (grey levels) -> {scale name: (h, w, 3) xx, yy, xy} in relative contrast."""
    mean = local_mean(gray)
    out = {}
    for level, sigma in SCALES:
        m = pool(mean, level)
        out[scale_name(level, sigma)] = np.dstack(
            [np.asarray(raw[n], np.float32).reshape(m.shape) / m for n in output_names(level, sigma)])
    return out


def hessian_maps(ctx: FaceContext, store: ModelStore) -> dict[str, np.ndarray]:
    """This face's Hessian bank in relative contrast, {scale name: (h, w, 3)}, once per face."""

    def compute(c: FaceContext) -> dict[str, np.ndarray]:
        gray = ref.gray_input(c.crop)
        outs = store.get(MODEL_NAME).run(gray[None, :, :, None])
        return relative_maps({k: v[0, ..., 0] for k, v in outs.items() if k in OUTPUTS}, gray)

    return ctx.cached(f"maps:{MODEL_NAME}", compute)


# --- ridge field: eigen-analysis of the Hessian bank, strongest scale per pixel --------------------
# A line's cross-section second derivative dominates its lengthwise one; a blob (pore, spot) has both
# equal. strength = lambda_across - LINE_BLOB_K * |lambda_along| is ~lambda_across on a line and <= 0 on
# a round blob (lambda_along = lambda_across), so pores and spots do not become wrinkles.
LINE_BLOB_K = 1.5
# The coarsest scale (~1.8 mm) is not a line scale: a thin line answers it *less* than the finer scales
# (scale-normalised response falls as sigma grows past the line's width), a broad fold or shading valley
# (smile fold, lid shadow) answers it *more*. Analyzers compare the two to tell wrinkles from folds.
FOLD_SCALE = SCALES[-1]


@dataclass(frozen=True)
class RidgeField:
    """Per crop pixel: line strength (OD), the unit normal across the line, and the winning sigma."""

    strength: np.ndarray  # (H, W) float32, >= 0
    normal_x: np.ndarray  # (H, W) float32
    normal_y: np.ndarray  # (H, W) float32
    sigma: np.ndarray  # (H, W) float32, crop px
    broad: np.ndarray  # (H, W) float32: curvature across the line at the coarsest scale (folds, valleys)


def _scale_strength(hess: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(strength, cos 2theta, sin 2theta) of one scale; theta = direction of the larger eigenvalue."""
    xx, yy, xy = hess[..., 0], hess[..., 1], hess[..., 2]
    half_diff = (xx - yy) * 0.5
    radius = np.sqrt(half_diff * half_diff + xy * xy)
    mean = (xx + yy) * 0.5
    across, along = mean + radius, mean - radius
    strength = np.maximum(across - LINE_BLOB_K * np.abs(along), 0.0)
    inv = 1.0 / np.maximum(radius, 1e-6)
    return strength.astype(np.float32), (half_diff * inv).astype(np.float32), (xy * inv).astype(np.float32)


def ridge_field(maps: dict[str, np.ndarray], size: int, roi: tuple[int, int, int, int] | None = None) -> RidgeField:
    """Combine the line scales (all but the coarsest; each up-sampled to the crop) by the strongest
    scale-normalised response; the coarsest scale is kept apart as `broad` (see FOLD_SCALE).

    `roi` (x0, y0, x1, y1), multiples of 2**(coarsest level), limits the work to that window; the
    field is then in window coordinates."""
    x0, y0, x1, y1 = roi or (0, 0, size, size)
    h, w = y1 - y0, x1 - x0
    best = np.zeros((h, w), np.float32)
    c2 = np.ones((h, w), np.float32)
    s2 = np.zeros((h, w), np.float32)
    sig = np.zeros((h, w), np.float32)
    broad_hess = np.zeros((h, w, 3), np.float32)
    for level, sigma in SCALES:
        f = 2**level
        hess = maps[scale_name(level, sigma)][y0 // f:y1 // f, x0 // f:x1 // f]
        if (level, sigma) == FOLD_SCALE:
            broad_hess = cv2.resize(hess, (w, h), interpolation=cv2.INTER_LINEAR)
            continue
        strength, cos2, sin2 = _scale_strength(hess)
        if level:
            stack = cv2.resize(np.dstack([strength, cos2, sin2]), (w, h), interpolation=cv2.INTER_LINEAR)
            strength, cos2, sin2 = stack[..., 0], stack[..., 1], stack[..., 2]
        win = strength > best
        best = np.where(win, strength, best)
        c2 = np.where(win, cos2, c2)
        s2 = np.where(win, sin2, s2)
        sig = np.where(win, np.float32(crop_sigma(level, sigma)), sig)
    # Unit normal from the doubled angle (cos 2t, sin 2t), without trigonometry.
    r = np.maximum(np.hypot(c2, s2), 1e-6)
    c2, s2 = c2 / r, s2 / r
    nx = np.sqrt(np.maximum((1.0 + c2) * 0.5, 0.0))
    ny = np.copysign(np.sqrt(np.maximum((1.0 - c2) * 0.5, 0.0)), s2)
    # The broad scale's curvature across *this* line (n^T H n along the line-scale normal): a fold
    # valley parallel to the line counts fully, a shading edge crossing it (hairline, cheek) hardly.
    broad = np.maximum(broad_hess[..., 0] * nx * nx + broad_hess[..., 1] * ny * ny
                       + 2.0 * broad_hess[..., 2] * nx * ny, 0.0)
    return RidgeField(best, nx.astype(np.float32), ny.astype(np.float32), sig, broad.astype(np.float32))


def non_max_suppression(field: RidgeField, floor: float) -> np.ndarray:
    """Bool mask of pixels >= floor that are maxima of strength along their normal (4 direction bins)."""
    s = field.strength
    h, w = s.shape
    pad = np.pad(s, 1)
    # Bins of the doubled normal angle: 0 along x, 1 diagonal, 2 along y, 3 anti-diagonal.
    c2 = field.normal_x * field.normal_x - field.normal_y * field.normal_y
    s2 = 2.0 * field.normal_x * field.normal_y
    bins = (c2 >= np.abs(s2), s2 > np.abs(c2), -c2 >= np.abs(s2), -s2 > np.abs(c2))
    keep = np.zeros((h, w), bool)
    for in_bin, (dy, dx) in zip(bins, ((0, 1), (1, 1), (1, 0), (1, -1)), strict=True):
        fwd = pad[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
        bwd = pad[1 - dy:1 - dy + h, 1 - dx:1 - dx + w]
        keep |= in_bin & (s >= fwd) & (s >= bwd)
    return keep & (s >= floor)


def side_contrast(dark: np.ndarray, field: RidgeField, ys: np.ndarray, xs: np.ndarray,
                  dist_per_sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Darkness of each pixel minus that at +-d along its normal (d = dist_per_sigma * sigma, >= 2 px),
    sampled with bilinear interpolation: two positive numbers for a dark line, one ~0 for an edge."""
    d = np.maximum(dist_per_sigma * field.sigma[ys, xs], 2.0)
    nx, ny = field.normal_x[ys, xs], field.normal_y[ys, xs]
    centre = dark[ys, xs]
    sides = []
    for sign in (1.0, -1.0):
        mx = (xs + sign * d * nx).astype(np.float32).reshape(-1, 1)
        my = (ys + sign * d * ny).astype(np.float32).reshape(-1, 1)
        val = cv2.remap(dark, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).ravel()
        sides.append(centre - val)
    return sides[0], sides[1]


# --- tracing thin ridge pixels into polylines ------------------------------------------------------
_NEIGHBOURS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


def _farthest(start: int, adjacency: list[list[int]], allowed: np.ndarray) -> tuple[int, np.ndarray]:
    """Breadth-first distances (steps) from start over allowed nodes: (farthest node, parent array)."""
    parent = np.full(len(adjacency), -2, np.int64)
    parent[start] = -1
    frontier, last = [start], start
    while frontier:
        nxt = []
        for node in frontier:
            for nb in adjacency[node]:
                if allowed[nb] and parent[nb] == -2:
                    parent[nb] = node
                    nxt.append(nb)
        if nxt:
            last = nxt[0]
        frontier = nxt
    return last, parent


def trace_paths(mask: np.ndarray, min_length_px: float, max_branches: int = 3) -> list[np.ndarray]:
    """Thin 8-connected pixel sets -> ordered (N, 2) x, y polylines: per component its longest path,
    then (up to max_branches times) the longest path of what is left more than 1 px from it.
    Paths shorter than min_length_px (arc length) are dropped."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    paths: list[np.ndarray] = []
    for label in range(1, count):
        ys, xs = np.nonzero(labels == label)
        if len(ys) < 2 or np.hypot(np.ptp(xs), np.ptp(ys)) < min_length_px * 0.7:
            continue
        index = {(int(y), int(x)): i for i, (y, x) in enumerate(zip(ys, xs, strict=True))}
        adjacency = [[index[(y + dy, x + dx)] for dy, dx in _NEIGHBOURS if (y + dy, x + dx) in index]
                     for y, x in index]
        allowed = np.ones(len(index), bool)
        for _round in range(max_branches + 1):
            seeds = np.flatnonzero(allowed)
            if len(seeds) < 2:
                break
            a, _ = _farthest(int(seeds[0]), adjacency, allowed)
            b, parent = _farthest(a, adjacency, allowed)
            chain = [b]
            while parent[chain[-1]] >= 0:
                chain.append(int(parent[chain[-1]]))
            pts = np.column_stack([xs[chain], ys[chain]]).astype(np.float64)
            if _arc_length(pts) >= min_length_px:
                paths.append(pts)
            # Remove the path and its 1-px neighbourhood; what remains are branches.
            on_path = np.zeros(len(index), bool)
            on_path[chain] = True
            for node in chain:
                on_path[adjacency[node]] = True
            allowed &= ~on_path
    return paths


def _arc_length(pts: np.ndarray) -> float:
    return float(np.hypot(*np.diff(pts, axis=0).T).sum()) if len(pts) > 1 else 0.0


def arc_length(pts: np.ndarray) -> float:
    """Length of an (N, 2) polyline in its own units."""
    return _arc_length(np.asarray(pts, np.float64))


def _end_direction(path: np.ndarray, at_start: bool, reach: int) -> np.ndarray:
    """Unit direction pointing *out of* the path at one end, over `reach` points."""
    k = min(reach, len(path) - 1)
    d = path[0] - path[k] if at_start else path[-1] - path[-1 - k]
    return d / max(float(np.hypot(*d)), 1e-9)


def link_paths(paths: list[np.ndarray], max_gap: float, max_turn_deg: float, reach: int = 4) -> list[np.ndarray]:
    """Join polylines whose ends face each other across a gap of at most max_gap (px): both end
    directions within max_turn_deg of the connecting segment. A wrinkle crossed by a pore, a hair or a
    fold's shading breaks into pieces; joined, it is one wrinkle again. Greedy, closest pair first."""
    paths = [np.asarray(p, np.float64) for p in paths if len(p) >= 2]
    cos_min = np.cos(np.radians(max_turn_deg))
    while True:
        best: tuple[float, int, bool, int, bool] | None = None
        for i, a in enumerate(paths):
            for j in range(i + 1, len(paths)):
                b = paths[j]
                for a_start in (False, True):
                    for b_start in (False, True):
                        pa, pb = (a[0] if a_start else a[-1]), (b[0] if b_start else b[-1])
                        gap_vec = pb - pa
                        gap = float(np.hypot(*gap_vec))
                        if gap > max_gap or (best is not None and gap >= best[0]):
                            continue
                        if gap > 1e-9:
                            u = gap_vec / gap
                            if (np.dot(_end_direction(a, a_start, reach), u) < cos_min
                                    or np.dot(_end_direction(b, b_start, reach), -u) < cos_min):
                                continue
                        best = (gap, i, a_start, j, b_start)
        if best is None:
            return paths
        _, i, a_start, j, b_start = best
        a = paths[i][::-1] if a_start else paths[i]  # a now ends at the joint
        b = paths[j][::-1] if not b_start else paths[j]  # b now starts at the joint
        paths = [p for k, p in enumerate(paths) if k not in (i, j)] + [np.vstack([a, b])]


def normal_curvature(maps: dict[str, np.ndarray], xs: np.ndarray, ys: np.ndarray, nx: np.ndarray,
                     ny: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """n^T H n at crop points (xs, ys) (float), each at its own line scale `sigma` (crop px), sampled
    bilinearly from that scale's (pyramid-level) Hessian map."""
    out = np.zeros(len(xs), np.float32)
    for level, s in SCALES:
        sel = np.isclose(sigma, crop_sigma(level, s))
        if not sel.any():
            continue
        f = 2**level
        hess = maps[scale_name(level, s)]
        mx = ((xs[sel] + 0.5) / f - 0.5).astype(np.float32).reshape(-1, 1)
        my = ((ys[sel] + 0.5) / f - 0.5).astype(np.float32).reshape(-1, 1)
        h = cv2.remap(hess, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).reshape(-1, 3)
        a, b = nx[sel], ny[sel]
        out[sel] = h[:, 0] * a * a + h[:, 1] * b * b + 2.0 * h[:, 2] * a * b
    return out
