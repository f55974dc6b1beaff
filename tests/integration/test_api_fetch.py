"""`url` fetching against a test image server on 127.0.0.1: SSRF refusals (loopback, metadata address,
redirects to private/loopback hosts), success once allowlisted, fetch failures and the byte cap."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from edge.api.app import create_app
from edge.errors import ErrorKind
from tests.integration.api_harness import DEMO_PHOTO, LOOPBACK, Server, api_settings, free_port, running

pytestmark = pytest.mark.skipif(not DEMO_PHOTO.exists(), reason="demo photo missing: run scripts/setup.sh")

ANALYZE = "/api/v1/skin/analyze"
BIG_BYTES = 9 * 1024 * 1024
SLOW_S = 3.0
FETCH_TIMEOUT_S = 1.0


class ImageServer(ThreadingHTTPServer):
    daemon_threads = True
    hits: list[str]


class Handler(BaseHTTPRequestHandler):
    server: ImageServer

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              length: bool = True) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        self.server.hits.append(self.path)
        port = self.server.server_address[1]
        photo = DEMO_PHOTO.read_bytes()
        routes = {
            "/astronaut.jpg": lambda: self._send(200, photo, {"Content-Type": "image/jpeg"}),
            "/to-private": lambda: self._send(302, headers={"Location": "http://10.0.0.1/astronaut.jpg"}),
            "/to-metadata": lambda: self._send(307, headers={"Location": "http://169.254.169.254/latest/"}),
            "/to-localhost": lambda: self._send(302, headers={"Location": f"http://localhost:{port}/astronaut.jpg"}),
            "/to-mapped": lambda: self._send(302, headers={"Location": f"http://[::ffff:127.0.0.1]:{port}/astronaut.jpg"}),
            "/to-relative": lambda: self._send(301, headers={"Location": "/astronaut.jpg"}),
            "/loop": lambda: self._send(302, headers={"Location": "/loop"}),
            "/missing": lambda: self._send(404, b"nope"),
            "/big": lambda: self._send(200, b"\xff\xd8\xff" + b"\x00" * BIG_BYTES, {"Content-Type": "image/jpeg"}),
            "/big-stream": self._big_stream,
            "/slow": self._slow,
        }
        routes.get(self.path.split("?")[0], lambda: self._send(404))()

    def _big_stream(self) -> None:
        # No Content-Length: the body ends when the connection closes, so only the streamed cap can stop it.
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b"\x00" * 65536
        try:
            for _ in range(BIG_BYTES // len(chunk) + 2):
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def _slow(self) -> None:
        time.sleep(SLOW_S)
        self._send(200, DEMO_PHOTO.read_bytes())


@pytest.fixture(scope="module")
def images() -> Iterator[ImageServer]:
    srv = ImageServer((LOOPBACK, 0), Handler)
    srv.hits = []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def image_url(images: ImageServer, path: str) -> str:
    return f"http://{LOOPBACK}:{images.server_address[1]}{path}"


@pytest.fixture(scope="module")
def strict() -> Iterator[Server]:
    """No allowlist: loopback image servers are refused."""
    with running(create_app(api_settings(workers=1, queue_size=2))) as srv:
        yield srv


@pytest.fixture(scope="module")
def allowing() -> Iterator[Server]:
    """127.0.0.1 allowlisted (a LAN image server), short fetch timeout."""
    settings = api_settings(workers=1, queue_size=2, url_allowlist=[LOOPBACK], url_timeout_s=FETCH_TIMEOUT_S,
                            cache_size=0)
    with running(create_app(settings)) as srv:
        yield srv


def analyze_url(server: Server, url: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(server.base_url + ANALYZE, data={"url": url, **kwargs}, timeout=30)


def assert_code(response: httpx.Response, kind: ErrorKind) -> dict[str, Any]:
    body = response.json()
    assert (body["error_code"], response.status_code) == (kind.code, kind.http_status), body
    return body


def test_loopback_server_refused_without_contact(strict: Server, images: ImageServer) -> None:
    before = len(images.hits)
    assert_code(analyze_url(strict, image_url(images, "/astronaut.jpg")), ErrorKind.URL_FORBIDDEN)
    assert_code(analyze_url(strict, f"http://localhost:{images.server_address[1]}/astronaut.jpg"),
                ErrorKind.URL_FORBIDDEN)
    assert len(images.hits) == before, "a refused url must not be contacted"


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://[::1]/a.jpg",
                                 "http://[::ffff:169.254.169.254]/", "http://0.0.0.0/", "http://10.1.2.3/",
                                 "http://192.168.0.1/", "http://[fe80::1]/", "http://224.0.0.1/",
                                 "http://2130706433/", "http://0x7f.1/"])
def test_private_and_special_addresses_refused(strict: Server, url: str) -> None:
    body = httpx.post(strict.base_url + ANALYZE, json={"url": url}, timeout=30).json()
    assert body["error_code"] in (ErrorKind.URL_FORBIDDEN.code, ErrorKind.URL_FETCH_FAILED.code), body
    if body["error_code"] == ErrorKind.URL_FETCH_FAILED.code:  # odd spellings may simply not resolve
        assert "resolve" in body["error_msg"]


def test_allowlisted_host_succeeds(allowing: Server, images: ImageServer) -> None:
    body = analyze_url(allowing, image_url(images, "/astronaut.jpg")).json()
    assert body["error_code"] == 0, body
    assert body["result"]["face_list"][0]["location"]["width"] > 90
    ok = analyze_url(allowing, image_url(images, "/to-relative")).json()
    assert ok["error_code"] == 0, ok


@pytest.mark.parametrize("path", ["/to-private", "/to-metadata", "/to-localhost", "/to-mapped"])
def test_redirect_to_private_address_refused(allowing: Server, images: ImageServer, path: str) -> None:
    """The first hop is allowlisted; the redirect target is not, and resolves to a non-public address."""
    assert_code(analyze_url(allowing, image_url(images, path)), ErrorKind.URL_FORBIDDEN)


def test_fetch_failures(allowing: Server, images: ImageServer) -> None:
    assert "404" in assert_code(analyze_url(allowing, image_url(images, "/missing")),
                                ErrorKind.URL_FETCH_FAILED)["error_msg"]
    assert "redirects" in assert_code(analyze_url(allowing, image_url(images, "/loop")),
                                      ErrorKind.URL_FETCH_FAILED)["error_msg"]
    closed = f"http://{LOOPBACK}:{free_port()}/a.jpg"
    assert_code(analyze_url(allowing, closed), ErrorKind.URL_FETCH_FAILED)
    t0 = time.monotonic()
    assert "timed out" in assert_code(analyze_url(allowing, image_url(images, "/slow")),
                                      ErrorKind.URL_FETCH_FAILED)["error_msg"]
    assert time.monotonic() - t0 < SLOW_S


def test_byte_cap(allowing: Server, images: ImageServer) -> None:
    assert_code(analyze_url(allowing, image_url(images, "/big")), ErrorKind.FILE_TOO_LARGE)
    assert_code(analyze_url(allowing, image_url(images, "/big-stream")), ErrorKind.FILE_TOO_LARGE)
