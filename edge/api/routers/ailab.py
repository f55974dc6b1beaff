"""The vendor's current skin API family (AILabTools Basic / Advanced / Pro), for clients of its SDK.

`AILabClient(api_key, base_url="http://<kiosk>")` works unchanged. One request runs the pipeline once
on the photo (`Engine.measure`: every field plus geometry and maps) and, for Pro's side photos, only as
far as their results use (`Engine.measure_geometry`: the face stages and the lesions), on the shared
worker pool; a tier module of edge/formats renders those measurements. Errors follow the contract's table in its own envelope (HTTP
status = error_code = error_detail.status_code). Nothing of a request is stored beyond the result cache.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from edge.api.cache import cache_key, parts_digest
from edge.api.error_headers import retry_after
from edge.api.routers.analyze import read_body_capped
from edge.api.state import ApiState, get_state
from edge.config import GateConfig, RequestConfig
from edge.errors import ErrorKind, SkinKioskError
from edge.formats import ailab_advanced, ailab_basic, ailab_pro
from edge.formats.ailab_envelope import AilabError, failure, success
from edge.formats.ailab_maps import DEFAULT_COLORS, MAP_TOKENS
from edge.formats.ailab_measures import VendorView
from edge.pipeline import StageTimer
from edge.request import DecodedImage, decode_image

log = logging.getLogger(__name__)
router = APIRouter(tags=["ailab"])

MB = 1024 * 1024
TIER_MAX_BYTES = {"basic": 2 * MB, "advanced": 5 * MB, "pro": 8 * MB}  # contract: per-tier file limits
MIN_SIDE_PX = 200  # contract: resolution must be above 200 x 200 ...
MAX_SIDE_PX = 4095  # ... and below 4096 x 4096
HARD_MIN_FACE_PX = 64  # below this face width nothing can be measured (the detector's smallest face)
QC_MIN_FACE_PX = 160  # contract: with face_quality_control the face box is at least 160 px ...
QC_MIN_FACE_SHARE = 0.1  # ... and at least 1/10 of the photo's short side
BODY_SLACK_BYTES = 256 * 1024  # multipart headers and the text fields
MAX_FORM_FIELDS = 16
# A text field's value; the longest legitimate one (every return_marks token, CSV) is ~320 bytes.
MAX_TEXT_FIELD_BYTES = 4096
FILE_FIELDS = ("image", "left_side_image", "right_side_image")
ADVANCED_MAPS = ("red_area",)
# What a Pro side photo is analysed for: its lesion lists (left/right_acne_info, _melanin_info). The
# jawline and the side outline map use the mesh, pose and face oval that come with every face.
SIDE_FIELDS = ("acnespotmole",)
_HEX6 = re.compile(r"^[0-9A-Fa-f]{6}$")


def _flag(params: dict[str, Any], name: str) -> bool:
    value = str(params.get(name, "0")).strip()
    if value not in ("0", "1"):
        raise AilabError("UNSUPPORTED_PARAMETER_VALUES", f"{name}: {value!r} is not 0 or 1")
    return value == "1"


def _tokens(params: dict[str, Any], name: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    raw = str(params.get(name, "")).strip()
    if not raw:
        return ()
    tokens = tuple(dict.fromkeys(t.strip() for t in raw.split(",") if t.strip()))
    bad = [t for t in tokens if t not in allowed]
    if bad:
        raise AilabError("UNSUPPORTED_PARAMETER_VALUES", f"{name}: unknown value(s) {','.join(bad)}")
    return tokens


def _colors(params: dict[str, Any]) -> dict[str, str] | None:
    raw = params.get("roi_outline_color")
    if raw is None or not str(raw).strip():
        return None
    text = str(raw)
    shape = "roi_outline_color: an object of " + ", ".join(DEFAULT_COLORS) + " to 6 hex digits"
    # A valid value is one flat object (its keys and hex values hold no brackets): anything nested is
    # refused before parsing, so a deep nest cannot exhaust the JSON parser's recursion limit.
    if text.count("{") > 1 or "[" in text:
        raise AilabError("ERROR_INVALID_PARAMETER_FORMAT", shape)
    try:
        data = json.loads(text)
    except ValueError:
        raise AilabError("ERROR_INVALID_PARAMETER_FORMAT", "roi_outline_color: not JSON") from None
    if not isinstance(data, dict) or not all(k in DEFAULT_COLORS and isinstance(v, str) and _HEX6.match(v)
                                             for k, v in data.items()):
        raise AilabError("ERROR_INVALID_PARAMETER_FORMAT", shape)
    return data


async def _form(request: Request, tier: str) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise AilabError("MISSING_PARAMETERS", "send multipart/form-data with the file field `image`")
    # The whole body, capped as it streams (a declared content-length is refused before reading, a
    # chunked upload as soon as it passes the cap); the form is then parsed from memory.
    limit = TIER_MAX_BYTES[tier] * (3 if tier == "pro" else 1) + BODY_SLACK_BYTES
    try:
        await read_body_capped(request, limit)
    except SkinKioskError as exc:
        if exc.kind is not ErrorKind.FILE_TOO_LARGE:
            raise
        raise AilabError("FILE_SIZE_EXCEEDS_LIMIT", f"{exc.detail}; {tier} accepts files up to "
                                                    f"{TIER_MAX_BYTES[tier]} bytes") from None
    try:
        # max_part_size bounds text fields only (file parts are spooled; the body cap bounds them).
        form = await request.form(max_files=len(FILE_FIELDS), max_fields=MAX_FORM_FIELDS,
                                  max_part_size=MAX_TEXT_FIELD_BYTES)
    except MultiPartException as exc:  # outside an app; inside one starlette raises it as a 400 HTTPException
        raise AilabError("ERROR_INVALID_PARAMETER_FORMAT", f"malformed form body: {exc.message}") from None
    except StarletteHTTPException as exc:
        raise AilabError("ERROR_INVALID_PARAMETER_FORMAT", f"malformed form body: {exc.detail}") from None
    params: dict[str, Any] = {}
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key in FILE_FIELDS:
                    params[key] = await value.read()
            else:
                params[key] = value
    finally:
        await form.close()
    return params


def _check_size(data: bytes, tier: str, name: str) -> None:
    if len(data) > TIER_MAX_BYTES[tier]:
        raise AilabError("FILE_SIZE_EXCEEDS_LIMIT", f"{name}: {len(data)} bytes; {tier} accepts at most "
                                                    f"{TIER_MAX_BYTES[tier]} bytes")


def _decode(data: bytes, tier: str, limits: RequestConfig, name: str = "image") -> DecodedImage:
    """On a worker: decode within the tier's limits (size, resolution)."""
    capped = limits.model_copy(update={"max_bytes": TIER_MAX_BYTES[tier], "max_side": MAX_SIDE_PX})
    decoded = decode_image(data, capped)
    if min(decoded.original_width, decoded.original_height) <= MIN_SIDE_PX:
        raise AilabError("ERROR_LOW_RESOLUTION", f"{name}: {decoded.original_width}x{decoded.original_height}; "
                                                 f"more than {MIN_SIDE_PX} px a side is needed")
    return decoded


def quality_control(view: VendorView, gate: GateConfig) -> None:
    """face_quality_control=1: the kiosk gate's checks (size, pose, light, blur) with the contract's codes."""
    m = view.m
    width = m.quality["face_width_px"]
    short = min(m.image_size)
    if width < QC_MIN_FACE_PX or width < QC_MIN_FACE_SHARE * short:
        raise AilabError("ERROR_FACE_SIZE_NOT_MEET_REQUIREMENTS",
                         f"face {width:.0f} px wide; at least {QC_MIN_FACE_PX} px and 1/10 of the short side")
    p = m.pose
    if abs(p.yaw_deg) > gate.max_abs_yaw_deg or abs(p.pitch_deg) > gate.max_abs_pitch_deg \
            or abs(p.roll_deg) > gate.max_abs_roll_deg:
        raise AilabError("ERROR_POOR_FACE_QUALITY", f"head pose yaw {p.yaw_deg:.0f}, pitch {p.pitch_deg:.0f}, "
                                                    f"roll {p.roll_deg:.0f} degrees: face the camera")
    q = m.quality
    if q["brightness"] < gate.min_brightness or q["dark_clipped"] > gate.max_clipped_fraction:
        raise AilabError("ERROR_POOR_FACE_QUALITY", f"too dark (face brightness {q['brightness']:.0f})")
    if q["brightness"] > gate.max_brightness or q["bright_clipped"] > gate.max_clipped_fraction:
        raise AilabError("ERROR_POOR_FACE_QUALITY", f"too bright (face brightness {q['brightness']:.0f})")
    if q["sharpness"] < gate.min_sharpness:
        raise AilabError("ERROR_POOR_FACE_QUALITY", f"blurred (sharpness {q['sharpness']:.0f} < {gate.min_sharpness:.0f})")


def _measure(engine: Any, decoded: DecodedImage, sides: dict[str, DecodedImage],
             timer: StageTimer) -> tuple[Any, dict[str, Any]]:
    """On a worker: the front face's measures and each side photo's face geometry and lesions (None when
    it has no face). Side photos' stages are timed as `side_<stage>`."""
    front = engine.measure(decoded.image, max_faces=1, to_original=decoded.to_original, timer=timer)[0]
    side_timer = StageTimer()
    side_faces = {}
    for side, d in sides.items():
        try:
            side_faces[side] = engine.measure_geometry(d.image, SIDE_FIELDS, max_faces=1, to_original=d.to_original,
                                                       timer=side_timer)[0]
        except SkinKioskError as exc:
            if exc.kind is not ErrorKind.NO_FACE:
                raise
            side_faces[side] = None
    for stage, ms in side_timer.ms.items():
        timer.ms[f"side_{stage}"] = ms
    return front, side_faces


def _failure(request: Request, err: AilabError, headers: dict[str, str] | None = None) -> JSONResponse:
    request.state.error_code = err.status
    return JSONResponse(failure(err), status_code=err.status, headers=headers)


async def _run(request: Request, tier: str) -> JSONResponse:
    state: ApiState = get_state(request)
    try:
        state.auth.check(request, loopback_exempt=False)
        if not state.cache.enabled:
            state.pool.refuse_if_saturated()  # before reading the body: a refusal must cost next to nothing
        params = await _form(request, tier)
        payload = await _payload(state, params, tier)
    except AilabError as err:
        return _failure(request, err)
    except SkinKioskError as exc:  # 401, 429 and 503 (with Retry-After, as the seed endpoint), no face
        return _failure(request, AilabError.from_kiosk(exc), retry_after(exc))
    except Exception:  # never a traceback to the client; the log has it
        log.exception("ailab %s request failed", tier)
        return _failure(request, AilabError("PROCESSING_FAILURE"))
    request.state.error_code = 0
    return JSONResponse(success(payload))


def _render(tier: str, front: Any, side_faces: dict[str, Any], sides: dict[str, Any], gate: GateConfig, *,
            qc: bool, rect_conf: bool, maps: tuple[str, ...], marks: tuple[str, ...], colors: dict[str, str] | None,
            side_results: bool) -> dict[str, Any]:
    """The tier's JSON from one set of measurements (the quality gate first, when asked)."""
    view = VendorView(front)
    if view.m.quality["face_width_px"] < HARD_MIN_FACE_PX:
        raise AilabError("ERROR_FACE_SIZE_NOT_MEET_REQUIREMENTS",
                         f"face {view.m.quality['face_width_px']:.0f} px wide; at least {HARD_MIN_FACE_PX} px")
    if qc:
        quality_control(view, gate)
    if tier == "basic":
        return ailab_basic.render(view)
    if tier == "advanced":
        return ailab_advanced.render(view, rect_confidence=rect_conf, maps=maps)
    side_measures = {s: ailab_pro.SideMeasures((d.original_width, d.original_height), side_faces[s])
                     for s, d in sides.items()}
    return ailab_pro.render(view, maps=maps, marks=marks, colors=colors, sides=side_measures, side_results=side_results)


async def _payload(state: ApiState, params: dict[str, Any], tier: str) -> dict[str, Any]:
    image = params.get("image")
    if not isinstance(image, bytes) or not image:
        raise AilabError("MISSING_PARAMETERS", "image: a file is required")
    qc = _flag(params, "face_quality_control") if tier == "advanced" else False
    rect_conf = _flag(params, "return_rect_confidence") if tier == "advanced" else False
    maps = _tokens(params, "return_maps", ADVANCED_MAPS if tier == "advanced" else MAP_TOKENS) if tier != "basic" else ()
    marks = _tokens(params, "return_marks", ailab_pro.MARK_TOKENS + ailab_pro.WRINKLE_LIST_TOKENS) if tier == "pro" else ()
    colors = _colors(params) if tier == "pro" else None
    side_results = _tokens(params, "return_side_results", ("jawline_info",)) if tier == "pro" else ()
    side_bytes = {s: params[f"{s}_side_image"] for s in ("left", "right")
                  if tier == "pro" and isinstance(params.get(f"{s}_side_image"), bytes) and params[f"{s}_side_image"]}
    _check_size(image, tier, "image")
    for s, b in side_bytes.items():
        _check_size(b, tier, f"{s}_side_image")
    options = json.dumps([tier, qc, rect_conf, maps, marks, colors, side_results, sorted(side_bytes)], sort_keys=True)
    key = cache_key(parts_digest([image, *side_bytes.values()]), ["ailab:" + options], 1, True)
    limits, gate = state.settings.request, state.settings.gate

    def job(engine: Any) -> tuple[list[dict[str, Any]], dict[str, float]]:
        # Everything after the cache lookup runs on the worker: decoding (a hit needs none) and rendering
        # (maps and marks are pixel work that would stall the event loop).
        timer = StageTimer()
        t0 = time.perf_counter()
        decoded = _decode(image, tier, limits)
        sides = {s: _decode(b, tier, limits, f"{s}_side_image") for s, b in side_bytes.items()}
        timer.add("decode", time.perf_counter() - t0)
        front, side_faces = _measure(engine, decoded, sides, timer)
        t0 = time.perf_counter()
        payload = _render(tier, front, side_faces, sides, gate, qc=qc, rect_conf=rect_conf, maps=maps,
                          marks=marks, colors=colors, side_results=bool(side_results))
        timer.add(f"render_{tier}", time.perf_counter() - t0)
        return [payload], timer.ms

    result, _cached = await state.cached_run(key, job)
    return result[0]


async def basic(request: Request) -> JSONResponse:
    return await _run(request, "basic")


async def advanced(request: Request) -> JSONResponse:
    return await _run(request, "advanced")


async def pro(request: Request) -> JSONResponse:
    return await _run(request, "pro")


for _path, _fn, _summary in (("skin-analysis", basic, "Vendor API, Basic tier"),
                             ("skin-analysis-advanced", advanced, "Vendor API, Advanced tier"),
                             ("skin-analysis-pro", pro, "Vendor API, Pro tier")):
    router.add_api_route(f"/api/portrait/analysis/{_path}", _fn, methods=["POST"], summary=_summary)
