"""Pure parts of edge/api: address policy, URL parsing and manual redirects (mock transport, no
network), cache, rate limiter, auth for remote peers, and serve()'s refusal to open a public port."""

from __future__ import annotations

import asyncio
import base64
import ipaddress

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from edge.api.auth import Authenticator, RateLimiter
from edge.api.cache import ResultCache, cache_key, parts_digest
from edge.api.fetch import fetch_image, is_public_address, parse_url
from edge.api.routers.analyze import decode_base64_image
from edge.config import Settings
from edge.errors import ErrorKind, SkinKioskError

PUBLIC_IP = "93.184.215.14"  # a literal public address: never resolved, never contacted (mock transport)


@pytest.mark.parametrize(("address", "public"), [
    ("8.8.8.8", True), ("2001:4860:4860::8888", True), ("::ffff:8.8.8.8", True),
    ("127.0.0.1", False), ("127.8.9.10", False), ("10.0.0.1", False), ("172.16.5.4", False),
    ("192.168.1.1", False), ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False),
    ("224.0.0.251", False), ("239.255.255.250", False), ("240.0.0.1", False), ("255.255.255.255", False),
    ("192.0.2.7", False), ("::1", False), ("::", False), ("fe80::1", False), ("fc00::1", False),
    ("fd12:3456::1", False), ("ff02::1", False), ("::ffff:127.0.0.1", False), ("::ffff:169.254.169.254", False),
    ("::ffff:10.0.0.1", False), ("2002:7f00:1::1", False), ("2002:a9fe:a9fe::1", False), ("2001:db8::1", False),
])
def test_address_policy(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize("url", ["", "ftp://h/a", "file:///etc/passwd", "gopher://h/", "http://", "http:///a",
                                 "http://h:99999/", "javascript:alert(1)", "http://h/" + "x" * 1020])
def test_invalid_urls(url: str) -> None:
    with pytest.raises(SkinKioskError) as err:
        parse_url(url)
    assert err.value.kind is ErrorKind.URL_INVALID


def test_parse_url_drops_credentials_from_host_header() -> None:
    hop = parse_url("https://user:pw@Example.com:8443/a.jpg?x=1")
    assert (hop.host, hop.port, hop.host_header, hop.target) == ("example.com", 8443, "Example.com:8443", "/a.jpg?x=1")


def _fetch(handler: object, url: str = f"http://{PUBLIC_IP}/img.jpg", max_bytes: int = 1000) -> bytes:
    transport = httpx.MockTransport(handler)  # type: ignore[arg-type]
    return asyncio.run(fetch_image(url, allowlist=[], timeout_s=2.0, max_bytes=max_bytes, transport=transport))


def test_redirect_from_public_host_to_private_is_refused() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://192.168.1.20/internal.jpg"})

    with pytest.raises(SkinKioskError) as err:
        _fetch(handler)
    assert err.value.kind is ErrorKind.URL_FORBIDDEN
    assert seen == [f"http://{PUBLIC_IP}/img.jpg"]  # the private hop was never requested


def test_connects_to_checked_address_with_original_host_header() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == PUBLIC_IP and request.headers["host"] == PUBLIC_IP
        return httpx.Response(200, content=b"\xff\xd8\xffdata")

    assert _fetch(handler) == b"\xff\xd8\xffdata"


def test_streamed_cap_and_status() -> None:
    with pytest.raises(SkinKioskError) as err:
        _fetch(lambda r: httpx.Response(200, content=b"x" * 5000), max_bytes=1000)
    assert err.value.kind is ErrorKind.FILE_TOO_LARGE
    with pytest.raises(SkinKioskError) as err:
        _fetch(lambda r: httpx.Response(500))
    assert err.value.kind is ErrorKind.URL_FETCH_FAILED


def test_parts_digest_tells_splits_apart() -> None:
    assert parts_digest([b"ab", b"c"]) != parts_digest([b"a", b"bc"]) != parts_digest([b"abc", b""])
    assert parts_digest([b"ab", b"c"]) == parts_digest([b"ab", b"c"])


def test_cache_lru_ttl_and_copies() -> None:
    now = [0.0]
    cache = ResultCache(2, 10.0, clock=lambda: now[0])
    k1, k2, k3 = (cache_key(b, ["color", "smooth"], 1, False) for b in (b"a", b"b", b"c"))
    assert cache_key(b"a", ["smooth", "color"], 1, False) == k1  # field order is irrelevant
    assert cache_key(b"a", ["color"], 1, False) != k1 and cache_key(b"a", ["color", "smooth"], 2, False) != k1
    cache.put(k1, [{"v": 1}])
    cache.put(k2, [{"v": 2}])
    got = cache.get(k1)
    assert got == [{"v": 1}]
    got[0]["v"] = 99  # callers get copies
    assert cache.get(k1) == [{"v": 1}]
    cache.put(k3, [{"v": 3}])  # evicts k2, the least recently used
    assert cache.get(k2) is None and cache.get(k1) is not None
    now[0] = 11.0
    assert cache.get(k1) is None  # expired
    assert ResultCache(0, 10).get(k1) is None


def test_cache_hit_gets_fresh_face_tokens_and_is_bounded_by_bytes() -> None:
    cache = ResultCache(100, 10.0, max_bytes=300)
    key = cache_key(b"a", [], 1, False)
    cache.put(key, [{"face_token": "a" * 32, "location": {"left": 1}}])
    first, second = cache.get(key), cache.get(key)
    assert first[0]["location"] == {"left": 1}
    tokens = {first[0]["face_token"], second[0]["face_token"], "a" * 32}
    assert len(tokens) == 3 and all(len(t) == 32 for t in tokens)  # random per request, never the stored one
    for i in range(10):  # ~70 bytes each: only the newest few fit in 300 bytes
        cache.put(cache_key(bytes([i]), [], 1, False), [{"pad": "x" * 50}])
    assert 0 < len(cache) <= 5 and cache.size_bytes <= 300
    assert cache.get(cache_key(bytes([9]), [], 1, False)) is not None and cache.get(key) is None
    cache.put(key, [{"pad": "x" * 1000}])  # larger than the whole cache: not stored
    assert cache.get(key) is None and cache.size_bytes <= 300


def test_rate_limiter_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert all(limiter.take("k") == 0 for _ in range(60))
    wait = limiter.take("k")
    assert 0 < wait <= 1.0
    now[0] += 1.0
    assert limiter.take("k") == 0 and limiter.take("other") == 0


def _request(client_host: str, headers: dict[str, str] | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw, "client": (client_host, 5000)})


def test_open_mode_refuses_remote_peers() -> None:
    auth = Authenticator([], 60)
    auth.check(_request("127.0.0.1"), loopback_exempt=False)
    auth.check(_request("::1"), loopback_exempt=False)
    with pytest.raises(SkinKioskError) as err:
        auth.check(_request("192.168.1.9"), loopback_exempt=True)
    assert err.value.kind is ErrorKind.UNAUTHORIZED


def test_kiosk_exemption_is_loopback_only() -> None:
    auth = Authenticator(["k"], 60)
    auth.check(_request("127.0.0.1"), loopback_exempt=True)
    auth.check(_request("::ffff:127.0.0.1"), loopback_exempt=True)
    with pytest.raises(SkinKioskError):
        auth.check(_request("10.0.0.8"), loopback_exempt=True)
    auth.check(_request("10.0.0.8", {"X-API-Key": "k"}), loopback_exempt=True)
    with pytest.raises(SkinKioskError):
        auth.check(_request("127.0.0.1"), loopback_exempt=False)  # the API itself always wants the key


def test_serve_refuses_public_bind_without_key(capsys: pytest.CaptureFixture[str]) -> None:
    from edge.api.server import is_loopback_host
    from edge.serve import EXIT_CONFIG, serve

    assert is_loopback_host("127.0.0.1") and is_loopback_host("::1") and is_loopback_host("localhost")
    assert not is_loopback_host("0.0.0.0") and not is_loopback_host("::")
    assert serve(Settings(), host="0.0.0.0", port=1) == EXIT_CONFIG
    assert "no API key is configured" in capsys.readouterr().err


def test_cli_serve_refuses_public_bind(capsys: pytest.CaptureFixture[str]) -> None:
    from edge.cli import main

    assert main(["serve", "--host", "0.0.0.0", "--port", "1"]) == 2
    assert "refusing to listen on 0.0.0.0" in capsys.readouterr().err


# --- properties ---------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_ipv6_embeddings_never_launder_an_ipv4_address(value: int) -> None:
    v4 = ipaddress.IPv4Address(value)
    mapped = ipaddress.IPv6Address(f"::ffff:{v4}")
    six_to_four = ipaddress.IPv6Address((0x2002 << 112) | (value << 80) | 1)
    if not is_public_address(v4):
        assert not is_public_address(mapped) and not is_public_address(six_to_four)
    else:
        assert is_public_address(mapped)


@given(st.binary(min_size=1, max_size=300), st.booleans(), st.booleans(), st.booleans())
def test_base64_variants_decode(data: bytes, urlsafe: bool, strip_padding: bool, wrap: bool) -> None:
    text = (base64.urlsafe_b64encode(data) if urlsafe else base64.b64encode(data)).decode()
    if strip_padding:
        text = text.rstrip("=")
    if wrap:
        text = "\n".join(text[i:i + 76] for i in range(0, len(text), 76))
    assert decode_base64_image(text) == data
