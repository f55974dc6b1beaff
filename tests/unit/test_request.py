"""Request validation: formats by magic bytes, size caps before decode, EXIF orientation, params."""

from __future__ import annotations

import struct
import time
import zlib

import cv2
import numpy as np
import pytest

from edge.config import RequestConfig
from edge.errors import ErrorKind, SkinKioskError
from edge.request import decode_image, parse_face_fields, parse_max_face_num
from tests.helpers import encode


def _err(fn, *a) -> ErrorKind:
    with pytest.raises(SkinKioskError) as info:
        fn(*a)
    return info.value.kind


def _png_header_only(w: int, h: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\x00" * 64


def test_each_bad_input_gets_its_own_code_fast():
    gif = b"GIF89a" + b"\x01\x00\x01\x00" + b"\x00" * 30
    cases = {
        ErrorKind.NO_IMAGE: b"",
        ErrorKind.UNSUPPORTED_FORMAT: gif,
        ErrorKind.UNDECODABLE_IMAGE: b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(range(256)) * 4,
        ErrorKind.FILE_TOO_LARGE: b"\xff\xd8\xff" + b"\x00" * (8 * 1024 * 1024 + 1),
        ErrorKind.IMAGE_TOO_LARGE: _png_header_only(100_000, 100_000),
    }
    codes = set()
    for kind, data in cases.items():
        t0 = time.perf_counter()
        assert _err(decode_image, data) is kind
        assert time.perf_counter() - t0 < 1.0  # never decodes a bomb
        codes.add(kind.code)
    assert len(codes) == len(cases)


def test_corrupt_png_body_is_undecodable():
    data = encode(np.zeros((20, 20, 3), np.uint8))
    assert _err(decode_image, data[:40] + b"\x00" * 40) is ErrorKind.UNDECODABLE_IMAGE


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp"])
def test_formats_detected_by_content(ext):
    img = np.full((30, 40, 3), 100, np.uint8)
    decoded = decode_image(encode(img, ext))
    assert decoded.image.shape == (30, 40, 3)
    assert decoded.format == {".png": "png", ".jpg": "jpeg", ".bmp": "bmp"}[ext]
    assert decoded.to_original == 1.0


def test_large_images_are_downscaled_and_scale_recorded():
    img = np.zeros((2160, 3840, 3), np.uint8)
    decoded = decode_image(encode(img, ".jpg", quality=50))
    assert decoded.image.shape[:2] == (1080, 1920)
    assert decoded.to_original == pytest.approx(2.0)
    portrait = decode_image(encode(np.zeros((3000, 1500, 3), np.uint8), ".jpg", quality=50))
    assert max(portrait.image.shape[:2]) <= 1920 and min(portrait.image.shape[:2]) <= 1080
    assert portrait.original_height == 3000


def _with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1)
    tiff += struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack("<I", 0)
    app1 = b"Exif\x00\x00" + tiff
    seg = b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1
    return jpeg[:2] + seg + jpeg[2:]


def test_exif_orientation_is_applied():
    img = np.zeros((40, 80, 3), np.uint8)
    img[:, :10] = 255  # white band on the left
    jpeg = encode(img, ".jpg", quality=95)
    rotated = decode_image(_with_exif_orientation(jpeg, 6))  # 6: rotate 90 deg clockwise to view
    assert rotated.image.shape[:2] == (80, 40)
    assert rotated.image[:10].mean() > 200  # the left band is now on top
    assert decode_image(_with_exif_orientation(jpeg, 1)).image.shape[:2] == (40, 80)


def test_max_bytes_comes_from_config():
    small = RequestConfig(max_bytes=2000)
    assert _err(decode_image, encode(np.random.default_rng(0).integers(0, 255, (100, 100, 3), np.uint8)), small) \
        is ErrorKind.FILE_TOO_LARGE


def test_face_fields_parsing():
    assert parse_face_fields(None) == []
    assert parse_face_fields("wrinkle, color,color") == ["wrinkle", "color"]
    assert len(parse_face_fields("all")) == 8
    with pytest.raises(SkinKioskError) as info:
        parse_face_fields("color,age")
    assert info.value.kind is ErrorKind.INVALID_PARAMETER and "age" in info.value.error_msg


@pytest.mark.parametrize("value", [5, 1.5, True, {"color": 1}, ["color", 2]])
def test_face_fields_of_the_wrong_type_are_invalid_parameters(value):
    with pytest.raises(SkinKioskError) as info:
        parse_face_fields(value)
    assert info.value.kind is ErrorKind.INVALID_PARAMETER and "face_field" in info.value.error_msg


def test_face_fields_as_a_list():
    assert parse_face_fields(["smooth", "color"]) == ["smooth", "color"]


@pytest.mark.parametrize("value,expected", [(None, 1), ("3", 3), (10, 10)])
def test_max_face_num_ok(value, expected):
    assert parse_max_face_num(value) == expected


@pytest.mark.parametrize("value", ["0", "11", "two", -1])
def test_max_face_num_bad(value):
    with pytest.raises(SkinKioskError) as info:
        parse_max_face_num(value)
    assert info.value.kind is ErrorKind.INVALID_PARAMETER and "max_face_num" in info.value.error_msg


def test_bmp_header_bomb_refused():
    header = b"BM" + struct.pack("<IHHI", 0, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, 90000, 90000, 1, 24, 0, 0, 0, 0, 0, 0)
    assert _err(decode_image, header + b"\x00" * 100) is ErrorKind.IMAGE_TOO_LARGE


def test_decoded_pixels_match_source():
    img = cv2.cvtColor(np.linspace(0, 255, 64 * 48 * 3).astype(np.uint8).reshape(48, 64, 3), cv2.COLOR_RGB2BGR)
    assert np.array_equal(decode_image(encode(img, ".png")).image, img)
