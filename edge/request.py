"""Request handling shared by the CLI and the REST API: bytes -> validated, decoded, oriented image.

- Format by magic bytes (JPEG, PNG, BMP), never by file name.
- Size caps: file bytes, then the dimensions read from the header *before* decoding (decompression
  bombs are refused without allocating their pixels).
- JPEG EXIF orientation is applied, so coordinates refer to the image as a person sees it.
- Images larger than the analysis box (1920x1080 by default, either orientation) are downscaled for
  analysis; `to_original` maps every analysis coordinate back, so the API always reports original-
  image pixels (of the EXIF-oriented image).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import cv2
import numpy as np

from edge.analysis.base import FACE_FIELDS
from edge.config import RequestConfig
from edge.errors import ErrorKind, SkinKioskError

MAX_FACE_NUM = 10


@dataclass
class DecodedImage:
    image: np.ndarray  # BGR uint8 at analysis scale
    to_original: float  # analysis px * to_original = original px
    original_width: int
    original_height: int
    format: str


def sniff_format(data: bytes) -> str | None:
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:2] == b"BM" and len(data) >= 26:
        return "bmp"
    return None


def _png_size(data: bytes) -> tuple[int, int]:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise SkinKioskError(ErrorKind.UNDECODABLE_IMAGE, "PNG header is damaged")
    return struct.unpack(">II", data[16:24])


def _bmp_size(data: bytes) -> tuple[int, int]:
    header_size = struct.unpack("<I", data[14:18])[0]
    if header_size == 12:  # OS/2 BITMAPCOREHEADER
        w, h = struct.unpack("<HH", data[18:22])
        return w, h
    w, h = struct.unpack("<ii", data[18:26])
    return abs(w), abs(h)


_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_scan(data: bytes) -> tuple[tuple[int, int], int]:
    """(width, height) from the first SOF segment, and the EXIF orientation (1 if absent)."""
    orientation = 1
    i = 2
    n = len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        seg_len = struct.unpack(">H", data[i + 2 : i + 4])[0]
        seg = data[i + 4 : i + 2 + seg_len]
        if marker == 0xE1 and seg[:6] == b"Exif\x00\x00":
            orientation = _exif_orientation(seg[6:])
        if marker in _SOF_MARKERS:
            if len(seg) < 5:
                break
            h, w = struct.unpack(">HH", seg[1:5])
            return (w, h), orientation
        if marker == 0xDA:  # start of scan before any SOF: broken file
            break
        i += 2 + seg_len
    raise SkinKioskError(ErrorKind.UNDECODABLE_IMAGE, "JPEG has no frame header")


def _exif_orientation(tiff: bytes) -> int:
    try:
        endian = {b"II": "<", b"MM": ">"}[tiff[:2]]
        ifd = struct.unpack(endian + "I", tiff[4:8])[0]
        count = struct.unpack(endian + "H", tiff[ifd : ifd + 2])[0]
        for k in range(count):
            off = ifd + 2 + 12 * k
            tag, typ = struct.unpack(endian + "HH", tiff[off : off + 4])
            if tag == 0x0112 and typ == 3:
                value = struct.unpack(endian + "H", tiff[off + 8 : off + 10])[0]
                return value if 1 <= value <= 8 else 1
    except (KeyError, struct.error, IndexError):
        pass
    return 1


def _apply_orientation(img: np.ndarray, orientation: int) -> np.ndarray:
    """EXIF orientation 1..8 -> upright pixels."""
    ops = {
        2: lambda a: cv2.flip(a, 1),
        3: lambda a: cv2.rotate(a, cv2.ROTATE_180),
        4: lambda a: cv2.flip(a, 0),
        5: lambda a: cv2.flip(cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE), 1),
        6: lambda a: cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE),
        7: lambda a: cv2.flip(cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE), 1),
        8: lambda a: cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE),
    }
    op = ops.get(orientation)
    return op(img) if op else img


def decode_image(data: bytes | None, limits: RequestConfig | None = None) -> DecodedImage:
    """Validate and decode image bytes; raises SkinKioskError with the catalogue's code."""
    limits = limits or RequestConfig()
    if not data:
        raise SkinKioskError(ErrorKind.NO_IMAGE)
    if len(data) > limits.max_bytes:
        raise SkinKioskError(ErrorKind.FILE_TOO_LARGE, f"{len(data)} bytes > {limits.max_bytes}")
    fmt = sniff_format(data)
    if fmt is None:
        raise SkinKioskError(ErrorKind.UNSUPPORTED_FORMAT)
    orientation = 1
    try:
        if fmt == "png":
            w, h = _png_size(data)
        elif fmt == "bmp":
            w, h = _bmp_size(data)
        else:
            (w, h), orientation = _jpeg_scan(data)
    except struct.error as exc:
        raise SkinKioskError(ErrorKind.UNDECODABLE_IMAGE, "truncated header") from exc
    if w <= 0 or h <= 0:
        raise SkinKioskError(ErrorKind.UNDECODABLE_IMAGE, f"header claims {w}x{h}")
    if w > limits.max_side or h > limits.max_side or w * h > limits.max_pixels:
        raise SkinKioskError(ErrorKind.IMAGE_TOO_LARGE, f"{w}x{h} exceeds {limits.max_pixels} pixels or {limits.max_side} px a side")
    flags = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
    img = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if img is None or img.size == 0:
        raise SkinKioskError(ErrorKind.UNDECODABLE_IMAGE)
    img = _apply_orientation(img, orientation)
    oh, ow = img.shape[:2]
    analysed, to_original = fit_for_analysis(img, limits)
    return DecodedImage(image=analysed, to_original=to_original, original_width=ow, original_height=oh, format=fmt)


def fit_for_analysis(image: np.ndarray, limits: RequestConfig) -> tuple[np.ndarray, float]:
    """The image fitted into analysis_width x analysis_height (either orientation; INTER_AREA, never
    upscaled) and the factor taking analysis px back to the image's own px. Used for uploads and for
    camera frames alike, so a 4K frame is analysed like a 4K photo."""
    oh, ow = image.shape[:2]
    long_side = max(limits.analysis_width, limits.analysis_height)
    short_side = min(limits.analysis_width, limits.analysis_height)
    scale = min(1.0, long_side / max(ow, oh), short_side / min(ow, oh))
    if scale >= 1.0:
        return np.ascontiguousarray(image), 1.0
    small = cv2.resize(image, (max(1, round(ow * scale)), max(1, round(oh * scale))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(small), ow / small.shape[1]


def parse_face_fields(value: object) -> list[str]:
    """`face_field` as in the seed: comma-separated names, any order; None/'' -> []. 'all' -> every field."""
    if value is None:
        return []
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        items = list(value)
    else:
        raise SkinKioskError(ErrorKind.INVALID_PARAMETER, "face_field: a comma-separated string (or a list of "
                             f"strings) of {','.join(FACE_FIELDS)}; got {type(value).__name__}")
    names = [v.strip() for v in items if v.strip()]
    if names == ["all"]:
        return list(FACE_FIELDS)
    unknown = [n for n in names if n not in FACE_FIELDS]
    if unknown:
        raise SkinKioskError(ErrorKind.INVALID_PARAMETER, f"face_field: unknown name(s) {', '.join(unknown)}; "
                             f"allowed: {','.join(FACE_FIELDS)}")
    return list(dict.fromkeys(names))


def parse_max_face_num(value: int | str | None) -> int:
    if value is None or value == "":
        return 1
    try:
        n = int(str(value).strip())
    except ValueError:
        raise SkinKioskError(ErrorKind.INVALID_PARAMETER, f"max_face_num: {value!r} is not an integer 1-{MAX_FACE_NUM}") from None
    if not 1 <= n <= MAX_FACE_NUM:
        raise SkinKioskError(ErrorKind.INVALID_PARAMETER, f"max_face_num: {n} is not in 1-{MAX_FACE_NUM}")
    return n
