"""SSRF-safe fetch of an image `url`.

Every hop (the URL and each redirect, followed by hand) is resolved first and *every* address it
resolves to must be public: loopback, private, link-local (incl. 169.254.169.254 metadata),
multicast, reserved, unspecified, shared (CGNAT) and their IPv6 forms, incl. IPv4-mapped, 6to4 and
Teredo embeddings, are refused — unless the host is on `api.url_allowlist` (LAN image servers).
The connection then goes to the checked address itself (Host header and TLS SNI keep the name), so
a DNS answer that changes between check and connect (rebinding) cannot redirect it. Proxies from
the environment are ignored for the same reason. The body is streamed with a byte cap, and the
whole fetch has one deadline.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from edge.errors import ErrorKind, SkinKioskError

MAX_URL_BYTES = 1024
MAX_REDIRECTS = 5
ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
USER_AGENT = "skin-kiosk/1 (+image fetch)"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public_address(ip: IPAddress) -> bool:
    """True only for globally routable unicast addresses, looking through IPv6 embeddings of IPv4."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
        if any(e is not None and not is_public_address(e) for e in embedded):
            return False
        if ip.ipv4_mapped is not None:
            return True  # the mapped IPv4 address was public
    if ip.is_multicast or ip.is_unspecified or ip.is_loopback or ip.is_link_local or ip.is_private:
        return False
    return not ip.is_reserved and ip.is_global  # is_global also excludes 100.64/10 (CGNAT)


@dataclass(frozen=True)
class Hop:
    url: str
    scheme: str
    host: str  # as written (IPv6 without brackets), lower case
    port: int
    host_header: str
    target: str  # path + query


def parse_url(url: str) -> Hop:
    if not isinstance(url, str) or not url.strip():
        raise SkinKioskError(ErrorKind.URL_INVALID, "empty url")
    url = url.strip()
    if len(url.encode("utf-8")) > MAX_URL_BYTES:
        raise SkinKioskError(ErrorKind.URL_INVALID, f"longer than {MAX_URL_BYTES} bytes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise SkinKioskError(ErrorKind.URL_INVALID, str(exc)) from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise SkinKioskError(ErrorKind.URL_INVALID, f"scheme {scheme or '(none)'!r} is not http/https")
    host = (parts.hostname or "").lower()
    if not host:
        raise SkinKioskError(ErrorKind.URL_INVALID, "no host")
    if any(c.isspace() for c in url):
        raise SkinKioskError(ErrorKind.URL_INVALID, "whitespace in url")
    port = port or DEFAULT_PORTS[scheme]
    netloc = parts.netloc.rsplit("@", 1)[-1]  # never forward credentials in the Host header
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Hop(url=url, scheme=scheme, host=host, port=port, host_header=netloc, target=target)


async def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        literal = ipaddress.ip_address(host)
        return [literal]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise SkinKioskError(ErrorKind.URL_FETCH_FAILED, f"cannot resolve {host!r}") from exc
    addresses: list[IPAddress] = []
    for *_, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise SkinKioskError(ErrorKind.URL_FETCH_FAILED, f"cannot resolve {host!r}")
    return addresses


def host_allowed(host: str, allowlist: list[str]) -> bool:
    return host.lower().strip("[]") in {h.lower().strip("[]") for h in allowlist}


async def checked_address(hop: Hop, allowlist: list[str]) -> IPAddress:
    """The address to connect to; raises URL_FORBIDDEN if any resolved address is not public."""
    addresses = await resolve(hop.host, hop.port)
    if not host_allowed(hop.host, allowlist):
        bad = [str(a) for a in addresses if not is_public_address(a)]
        if bad:
            raise SkinKioskError(ErrorKind.URL_FORBIDDEN, f"{hop.host} -> {', '.join(bad)}")
    return addresses[0]


def _pinned_url(hop: Hop, ip: IPAddress) -> str:
    literal = f"[{ip}]" if ip.version == 6 else str(ip)
    return f"{hop.scheme}://{literal}:{hop.port}{hop.target}"


async def fetch_image(url: str, *, allowlist: list[str], timeout_s: float, max_bytes: int,
                      transport: httpx.AsyncBaseTransport | None = None) -> bytes:
    """The bytes at `url`, or a catalogue error (URL_INVALID / URL_FORBIDDEN / URL_FETCH_FAILED /
    FILE_TOO_LARGE)."""
    hop = parse_url(url)
    try:
        async with asyncio.timeout(timeout_s):
            return await _fetch(hop, allowlist, timeout_s, max_bytes, transport)
    except TimeoutError:
        raise SkinKioskError(ErrorKind.URL_FETCH_FAILED, f"timed out after {timeout_s:g} s") from None


async def _fetch(hop: Hop, allowlist: list[str], timeout_s: float, max_bytes: int,
                 transport: httpx.AsyncBaseTransport | None) -> bytes:
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=timeout_s,
                                 transport=transport) as client:
        for _ in range(MAX_REDIRECTS + 1):
            ip = await checked_address(hop, allowlist)
            headers = {"Host": hop.host_header, "User-Agent": USER_AGENT, "Accept": "image/*"}
            extensions = {"sni_hostname": hop.host} if hop.scheme == "https" else {}
            try:
                request = client.build_request("GET", _pinned_url(hop, ip), headers=headers, extensions=extensions)
                response = await client.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise SkinKioskError(ErrorKind.URL_FETCH_FAILED, f"{type(exc).__name__}") from None
            try:
                if response.status_code in REDIRECT_STATUSES:
                    location = response.headers.get("location")
                    if not location:
                        raise SkinKioskError(ErrorKind.URL_FETCH_FAILED, "redirect without Location")
                    hop = parse_url(urljoin(hop.url, location))
                    continue
                if response.status_code != 200:
                    raise SkinKioskError(ErrorKind.URL_FETCH_FAILED, f"HTTP {response.status_code}")
                return await _read_capped(response, max_bytes)
            finally:
                await response.aclose()
    raise SkinKioskError(ErrorKind.URL_FETCH_FAILED, f"more than {MAX_REDIRECTS} redirects")


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise SkinKioskError(ErrorKind.FILE_TOO_LARGE, f"url declares {declared} bytes")
    chunks: list[bytes] = []
    total = 0
    try:
        async for chunk in response.aiter_bytes():
            total += len(chunk)
            if total > max_bytes:
                raise SkinKioskError(ErrorKind.FILE_TOO_LARGE, f"url body exceeds {max_bytes} bytes")
            chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise SkinKioskError(ErrorKind.URL_FETCH_FAILED, f"{type(exc).__name__} while reading") from None
    return b"".join(chunks)
