"""POST /api/v1/skin/analyze and its seed alias POST /face/effect/skin_analyze.

The body is parsed by hand because the seed's clients send three shapes: multipart (`image` file or
base64 text), urlencoded form and JSON. `image` wins over `url`. Parameters missing from the body
are also read from the query string.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from edge.api.fetch import fetch_image
from edge.api.routers.deps import require_api_key
from edge.api.schemas import ANALYZE_REQUEST_BODY, Envelope
from edge.api.state import ApiState, get_state
from edge.errors import ErrorKind, SkinKioskError
from edge.pipeline import Engine
from edge.request import parse_face_fields, parse_max_face_num

PARAM_NAMES = ("image", "url", "max_face_num", "face_field", "extended")
BASE64_OVERHEAD = 4 / 3
BODY_SLACK_BYTES = 64 * 1024  # multipart headers and the other fields
MAX_FORM_FIELDS = 32
MAX_FORM_FILES = 2
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}
_DATA_URL = re.compile(r"^data:[\w/+.-]*(;[\w=.-]+)*;base64,", re.IGNORECASE)

router = APIRouter(tags=["analyze"], dependencies=[Depends(require_api_key)])


def max_body_bytes(state: ApiState) -> int:
    # A base64 image of the largest allowed file, plus room for the other fields.
    return int(state.settings.request.max_bytes * BASE64_OVERHEAD) + BODY_SLACK_BYTES


async def read_body_capped(request: Request, limit: int, too_large: ErrorKind = ErrorKind.FILE_TOO_LARGE) -> bytes:
    """The request body, read while it streams in and refused (`too_large`) as soon as it passes `limit`
    bytes (or declares more): a large upload is never held whole in memory."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise SkinKioskError(too_large, f"request body of {declared} bytes, at most {limit}")
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise SkinKioskError(too_large, f"request body over {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # starlette re-reads the cached body for request.form()
    return body


async def parse_params(request: Request, limit: int) -> dict[str, Any]:
    body = await read_body_capped(request, limit)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    params: dict[str, Any] = {}
    if ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        try:
            form = await request.form(max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS, max_part_size=limit)
        except MultiPartException as exc:
            raise SkinKioskError(ErrorKind.INVALID_PARAMETER, f"malformed form body: {exc.message}") from None
        try:
            for name in PARAM_NAMES:
                value = form.get(name)
                if isinstance(value, UploadFile):
                    params[name] = await value.read()
                elif value is not None:
                    params[name] = value
        finally:
            await form.close()  # uploads above 1 MB are spooled to temporary files
    elif ctype == "application/json" or (not ctype and body[:1] == b"{"):
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise SkinKioskError(ErrorKind.INVALID_PARAMETER, "body is not valid JSON") from None
        if not isinstance(data, dict):
            raise SkinKioskError(ErrorKind.INVALID_PARAMETER, "JSON body must be an object")
        params = {k: data[k] for k in PARAM_NAMES if data.get(k) is not None}
    elif ctype.startswith("image/") or ctype == "application/octet-stream":
        params["image"] = body  # a raw image body, for curl --data-binary
    for name in PARAM_NAMES:  # query string fills what the body did not give
        if name not in params and name in request.query_params:
            params[name] = request.query_params[name]
    return params


def decode_base64_image(text: str) -> bytes:
    """Standard or URL-safe base64, with or without padding, line breaks or a data: URL prefix."""
    s = _DATA_URL.sub("", text.strip())
    s = re.sub(r"[\r\n\t]", "", s).replace(" ", "+")  # '+' arrives as ' ' from sloppy form encoders
    if "-" in s or "_" in s:
        s = s.replace("-", "+").replace("_", "/")
    s += "=" * (-len(s) % 4)
    try:
        data = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise SkinKioskError(ErrorKind.INVALID_PARAMETER, "image: not valid base64") from None
    if not data:
        raise SkinKioskError(ErrorKind.INVALID_PARAMETER, "image: base64 decodes to nothing")
    return data


def parse_bool(name: str, value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SkinKioskError(ErrorKind.INVALID_PARAMETER, f"{name}: {value!r} is not a boolean")


def check_available(fields: list[str]) -> None:
    available = set(Engine.available_fields())
    missing = [f for f in fields if f not in available]
    if missing:
        raise SkinKioskError(ErrorKind.FIELD_NOT_AVAILABLE, ",".join(missing))


async def image_bytes(state: ApiState, params: dict[str, Any]) -> bytes:
    image = params.get("image")
    if isinstance(image, bytes) and image:
        return image
    if isinstance(image, str) and image.strip():
        return decode_base64_image(image)
    if image is not None and not isinstance(image, str | bytes):
        raise SkinKioskError(ErrorKind.INVALID_PARAMETER, "image: must be a file or a base64 string")
    url = params.get("url")
    if url is not None and not isinstance(url, str):
        raise SkinKioskError(ErrorKind.URL_INVALID, "url must be a string")
    if url and url.strip():
        api = state.settings.api
        return await fetch_image(url, allowlist=api.url_allowlist, timeout_s=api.url_timeout_s,
                                 max_bytes=state.settings.request.max_bytes)
    raise SkinKioskError(ErrorKind.NO_IMAGE)


async def analyze(request: Request) -> JSONResponse:
    """Analyse one image: the seed's envelope, HTTP status from the error catalogue."""
    state = get_state(request)
    if not state.cache.enabled:
        # Refuse before reading and parsing the body: under overload a refusal must cost next to
        # nothing. (With the cache on, a hit needs no worker, so the body is read first.)
        state.pool.refuse_if_saturated()
    params = await parse_params(request, max_body_bytes(state))
    max_faces = parse_max_face_num(params.get("max_face_num"))
    fields = parse_face_fields(params.get("face_field"))
    extended = parse_bool("extended", params.get("extended"))
    check_available(fields)
    data = await image_bytes(state, params)
    envelope = await state.analyze_bytes(data, fields, max_faces, extended)
    request.state.error_code = 0
    return JSONResponse(envelope)


_ROUTE_DOC = {
    "response_model": Envelope,
    "responses": {400: {"model": Envelope}, 401: {"model": Envelope}, 413: {"model": Envelope},
                  415: {"model": Envelope}, 422: {"model": Envelope}, 429: {"model": Envelope},
                  501: {"model": Envelope}, 503: {"model": Envelope}},
    "openapi_extra": ANALYZE_REQUEST_BODY,
}
router.add_api_route("/api/v1/skin/analyze", analyze, methods=["POST"], summary="Analyse a face photo",
                     **_ROUTE_DOC)
router.add_api_route("/face/effect/skin_analyze", analyze, methods=["POST"],
                     summary="Seed-compatible alias of /api/v1/skin/analyze", **_ROUTE_DOC)
