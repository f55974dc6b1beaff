"""The analyze endpoint over a real uvicorn on 127.0.0.1: the seed's request shapes, every catalogue
error with its code and HTTP status, the cache, metrics, OpenAPI, and a seed-only client."""

from __future__ import annotations

import base64
import re
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import cv2
import httpx
import numpy as np
import pytest

from edge.analysis import base as analysis_base
from edge.analysis.base import FACE_FIELDS
from edge.api.app import create_app
from edge.errors import ErrorKind
from edge.pipeline import Engine
from tests.integration.api_harness import DEMO_PHOTO, Server, api_settings, running

pytestmark = pytest.mark.skipif(not DEMO_PHOTO.exists(), reason="demo photo missing: run scripts/setup.sh")

ANALYZE = "/api/v1/skin/analyze"
SEED_PATH = "/face/effect/skin_analyze"
LOCATION_TOLERANCE_PX = 3.0
ENVELOPE_KEYS = {"error_code", "error_msg", "log_id", "timestamp", "cached", "result"}


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with running(create_app(api_settings(workers=2, queue_size=4))) as srv:
        yield srv


@pytest.fixture(scope="module")
def photo() -> bytes:
    return DEMO_PHOTO.read_bytes()


def post(server: Server, path: str = ANALYZE, **kwargs: Any) -> httpx.Response:
    return httpx.post(server.base_url + path, timeout=30, **kwargs)


def assert_error(response: httpx.Response, kind: ErrorKind) -> dict[str, Any]:
    body = response.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["error_code"] == kind.code, body
    assert response.status_code == kind.http_status, body
    assert body["result"] is None and body["cached"] == 0
    assert body["error_msg"].startswith(kind.message)
    return body


@pytest.fixture(scope="module")
def expected_location(photo: bytes) -> dict[str, Any]:
    """What the pipeline itself (as the CLI runs it) finds on the demo photo."""
    from edge.request import decode_image

    decoded = decode_image(photo)
    engine = Engine.from_settings(api_settings())
    try:
        return engine.analyze(decoded.image, [], max_faces=1, to_original=decoded.to_original)[0]["location"]
    finally:
        engine.close()


def assert_face(response: httpx.Response, expected: dict[str, Any] | None = None) -> dict[str, Any]:
    """A one-face success envelope with exactly the seed's default keys (and, given, the CLI's location)."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["error_code"] == 0 and body["error_msg"] == "SUCCESS"
    assert body["result"]["face_num"] == len(body["result"]["face_list"]) == 1
    face = body["result"]["face_list"][0]
    assert set(face) == {"face_token", "location"}
    assert face["location"]["width"] > 0 and face["location"]["height"] > 0
    if expected is not None:
        # (max_face_num > 1 adds detector tiles: the box may move by a pixel or two)
        assert face["location"] == pytest.approx(expected, abs=LOCATION_TOLERANCE_PX)
    return body


# --- request shapes -----------------------------------------------------------------------------


def test_seed_client_multipart_on_alias_path(server: Server, photo: bytes) -> None:
    """Written only from the seed document: multipart upload, reads result.face_list[0]."""
    response = httpx.post(server.base_url + SEED_PATH, headers={"ailabapi-api-key": "my-cloud-key"},
                          files={"image": ("face.jpg", photo, "image/jpeg")}, data={"max_face_num": "1"}, timeout=30)
    result = response.json()
    assert result["error_code"] == 0
    face = result["result"]["face_list"][0]
    assert len(face["face_token"]) == 32
    for key in ("left", "top", "width", "height", "degree"):
        assert key in face["location"]


def test_multipart_base64_field(server: Server, photo: bytes, expected_location: dict[str, Any]) -> None:
    encoded = base64.b64encode(photo).decode()
    assert_face(post(server, files={"image": (None, encoded)}, data={"max_face_num": "2"}), expected_location)


def test_urlencoded_base64(server: Server, photo: bytes, expected_location: dict[str, Any]) -> None:
    assert_face(post(server, SEED_PATH, data={"image": base64.b64encode(photo).decode(), "face_field": ""}),
                expected_location)


def test_json_base64_with_data_url_and_urlsafe(server: Server, photo: bytes, expected_location: dict[str, Any]) -> None:
    assert_face(post(server, json={"image": "data:image/jpeg;base64," + base64.b64encode(photo).decode()}),
                expected_location)
    unpadded = base64.urlsafe_b64encode(photo).decode().rstrip("=")
    assert_face(post(server, json={"image": unpadded, "max_face_num": 1, "extended": False}), expected_location)


def test_raw_image_body(server: Server, photo: bytes, expected_location: dict[str, Any]) -> None:
    assert_face(post(server, content=photo, headers={"Content-Type": "image/jpeg"}), expected_location)


def test_image_wins_over_url(server: Server, photo: bytes, expected_location: dict[str, Any]) -> None:
    # The url would be refused (metadata address); the image is used instead and never fetched.
    assert_face(post(server, json={"image": base64.b64encode(photo).decode(), "url": "http://169.254.169.254/"}),
                expected_location)


def test_second_identical_request_is_cached(server: Server, photo: bytes) -> None:
    img = cv2.flip(cv2.imdecode(np.frombuffer(photo, np.uint8), cv2.IMREAD_COLOR), 1)  # bytes no other test sends
    data = cv2.imencode(".jpg", img)[1].tobytes()
    first = assert_face(post(server, files={"image": ("a.jpg", data, "image/jpeg")}))
    second = assert_face(post(server, files={"image": ("a.jpg", data, "image/jpeg")}))
    assert (first["cached"], second["cached"]) == (0, 1)
    assert second["log_id"] != first["log_id"]
    first_face, second_face = first["result"]["face_list"][0], second["result"]["face_list"][0]
    assert second_face.pop("face_token") != first_face.pop("face_token")  # random per request, even cached
    assert second["result"] == first["result"]
    # Other parameters are another key.
    assert assert_face(post(server, files={"image": ("a.jpg", data, "image/jpeg")},
                            data={"max_face_num": "3"}))["cached"] == 0
    # Same image as base64 JSON: the key is the image bytes, not the request shape.
    assert assert_face(post(server, json={"image": base64.b64encode(data).decode()}))["cached"] == 1


def test_errors_are_never_cached(server: Server) -> None:
    blank = cv2.imencode(".png", np.full((200, 200, 3), 128, np.uint8))[1].tobytes()
    for _ in range(2):
        body = assert_error(post(server, files={"image": ("b.png", blank, "image/png")}), ErrorKind.NO_FACE)
        assert body["cached"] == 0


# --- every catalogue error ----------------------------------------------------------------------


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\x00" * 64


def test_no_image(server: Server) -> None:
    assert_error(post(server, data={"max_face_num": "1"}), ErrorKind.NO_IMAGE)
    assert_error(post(server, json={}), ErrorKind.NO_IMAGE)
    assert_error(post(server), ErrorKind.NO_IMAGE)


def test_unsupported_format(server: Server) -> None:
    assert_error(post(server, files={"image": ("a.gif", b"GIF89a" + b"\x00" * 100, "image/gif")}),
                 ErrorKind.UNSUPPORTED_FORMAT)


def test_file_too_large(server: Server) -> None:
    big = b"\xff\xd8\xff\xe0" + b"\x00" * (8 * 1024 * 1024 + 10)
    assert_error(post(server, files={"image": ("big.jpg", big, "image/jpeg")}), ErrorKind.FILE_TOO_LARGE)
    # A body far beyond any valid request is refused before it is read.
    huge = b"\x00" * (12 * 1024 * 1024)
    assert_error(post(server, content=huge, headers={"Content-Type": "image/jpeg"}), ErrorKind.FILE_TOO_LARGE)


def test_image_dimensions_too_large(server: Server) -> None:
    assert_error(post(server, files={"image": ("bomb.png", _png_header(20000, 20000), "image/png")}),
                 ErrorKind.IMAGE_TOO_LARGE)


def test_undecodable_image(server: Server) -> None:
    assert_error(post(server, files={"image": ("x.jpg", b"\xff\xd8\xff" + b"\x13" * 500, "image/jpeg")}),
                 ErrorKind.UNDECODABLE_IMAGE)


@pytest.mark.parametrize("params", [{"max_face_num": "11"}, {"max_face_num": "two"}, {"face_field": "colour"},
                                    {"extended": "maybe"}])
def test_invalid_parameter(server: Server, photo: bytes, params: dict[str, str]) -> None:
    body = assert_error(post(server, files={"image": ("a.jpg", photo, "image/jpeg")}, data=params),
                        ErrorKind.INVALID_PARAMETER)
    assert next(iter(params)) in body["error_msg"]


def test_bad_base64_and_bad_json(server: Server) -> None:
    body = assert_error(post(server, json={"image": "not base64 at all!"}), ErrorKind.INVALID_PARAMETER)
    assert "base64" in body["error_msg"]
    assert_error(post(server, content=b"{broken", headers={"Content-Type": "application/json"}),
                 ErrorKind.INVALID_PARAMETER)
    assert_error(post(server, json=[1, 2]), ErrorKind.INVALID_PARAMETER)


def test_no_face(server: Server) -> None:
    blank = cv2.imencode(".jpg", np.full((240, 320, 3), 90, np.uint8))[1].tobytes()
    assert_error(post(server, files={"image": ("blank.jpg", blank, "image/jpeg")}), ErrorKind.NO_FACE)


def test_field_not_available_is_passed_through(server: Server, photo: bytes,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    available = Engine.available_fields()
    missing = next((f for f in FACE_FIELDS if f not in available), None)
    if missing is None:  # every analyzer has landed: hide one for this test
        missing = FACE_FIELDS[-1]
        monkeypatch.delitem(analysis_base._REGISTRY, missing)
    body = assert_error(post(server, files={"image": ("a.jpg", photo, "image/jpeg")}, data={"face_field": missing}),
                        ErrorKind.FIELD_NOT_AVAILABLE)
    assert missing in body["error_msg"]


def test_url_errors(server: Server) -> None:
    assert_error(post(server, json={"url": "ftp://example.com/a.jpg"}), ErrorKind.URL_INVALID)
    assert_error(post(server, json={"url": "http://example.com/" + "a" * 1100}), ErrorKind.URL_INVALID)
    assert_error(post(server, data={"url": "http://169.254.169.254/latest/meta-data/"}), ErrorKind.URL_FORBIDDEN)
    # URL_FETCH_FAILED needs a reachable (allowlisted) server: see test_api_fetch.py.


def test_not_found_and_method(server: Server) -> None:
    assert_error(httpx.get(server.base_url + "/no/such/route"), ErrorKind.NOT_FOUND)
    response = httpx.get(server.base_url + ANALYZE)
    assert response.status_code == 405 and response.json()["result"] is None


def test_internal_error_is_an_envelope_without_traceback(photo: bytes) -> None:
    class Broken:
        def analyze(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("secret internal detail")

        def warm_up(self, fields: Any = ()) -> None: ...

        def close(self) -> None: ...

    with running(create_app(api_settings(workers=1, queue_size=0), engine_factory=Broken)) as srv:
        response = post(srv, files={"image": ("a.jpg", photo, "image/jpeg")})
    body = assert_error(response, ErrorKind.INTERNAL_ERROR)
    assert "secret" not in response.text and "Traceback" not in response.text
    assert body["error_msg"] == "internal error"


# --- service endpoints --------------------------------------------------------------------------


def test_health_version_fields_openapi_docs(server: Server) -> None:
    base = server.base_url
    assert httpx.get(base + "/healthz").json() == {"status": "ok"}
    assert httpx.get(base + "/readyz").json()["ready"] is True
    version = httpx.get(base + "/version").json()
    assert version["name"] == "skin-kiosk" and version["fields"] == Engine.available_fields()
    assert httpx.get(base + "/api/v1/fields").json()["all"] == list(FACE_FIELDS)
    paths = httpx.get(base + "/openapi.json").json()["paths"]
    assert {ANALYZE, SEED_PATH, "/api/v1/kiosk/scan", "/metrics"} <= set(paths)
    assert "multipart/form-data" in paths[SEED_PATH]["post"]["requestBody"]["content"]
    docs = httpx.get(base + "/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text
    # offline: Swagger UI's files come from the package, and the page names no remote URL (issue 14)
    assert re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}", docs.text) == [], "the /docs page loads a remote file"
    for asset in re.findall(r"/docs-assets/[\w.-]+", docs.text):
        assert httpx.get(base + asset).status_code == 200, asset
    assert "/docs-assets/swagger-ui-bundle.js" in docs.text


def test_metrics(server: Server, photo: bytes) -> None:
    post(server, json={"url": "http://169.254.169.254/"})
    assert_face(post(server, files={"image": ("a.jpg", photo, "image/jpeg")}))
    text = httpx.get(server.base_url + "/metrics").text
    assert f'skin_kiosk_requests_total{{error_code="1102",route="{ANALYZE}"}}' in text
    assert 'skin_kiosk_stage_seconds_bucket{le="0.001",stage="detect"}' in text
    assert 'skin_kiosk_stage_seconds_count{stage="decode"}' in text
    assert "skin_kiosk_queue_depth 0.0" in text
    assert f'skin_kiosk_request_seconds_count{{route="{SEED_PATH}"}}' in text or ANALYZE in text
