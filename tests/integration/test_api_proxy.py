"""Which peer's X-Forwarded-For the kiosk believes is pinned by api.forwarded_allow_ips (edge/api/server.py
proxy_options, used by `serve` and the kiosk daemon, and by this harness): a forged header from a peer that
is not a trusted proxy cannot pass the loopback exemption or the take-home reports' local-network check,
and FORWARDED_ALLOW_IPS=* in the environment cannot widen the trust. On loopback the peer is always
127.0.0.1, so "not trusted" is made by trusting another address only."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from edge.api.app import create_app
from edge.api.server import proxy_options
from edge.config import ConfigError, load_settings
from edge.errors import ErrorKind
from tests.integration.api_harness import Server, api_settings, running

PRIVACY = "/api/v1/kiosk/privacy"  # a kiosk route: loopback needs no key, anyone else does (none is set)
REPORT = "/r/no-such-token"  # the local-network check runs before the token is looked up: 403 or 404


def app_trusting(*proxies: str) -> FastAPI:
    settings = api_settings(workers=1, queue_size=1, forwarded_allow_ips=list(proxies))
    return create_app(settings, warm_up=False, engine_factory=lambda: None)  # type: ignore[arg-type,return-value]


def status(srv: Server, path: str, forwarded_for: str) -> int:
    return httpx.get(srv.base_url + path, headers={"X-Forwarded-For": forwarded_for}).status_code


def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored_even_with_the_env_set_to_star(monkeypatch):
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")  # uvicorn's own fallback: would trust every peer
    with running(app_trusting("10.9.9.9")) as srv:  # the only proxy is elsewhere: 127.0.0.1 is a client
        assert status(srv, PRIVACY, "10.0.0.5") == 200  # seen as 127.0.0.1, the kiosk's own page
        assert status(srv, REPORT, "203.0.113.7") == ErrorKind.NOT_FOUND.http_status  # local: passes the check


def test_a_trusted_proxy_on_this_device_passes_the_client_address_on(monkeypatch):
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "")  # nor can the environment narrow it
    with running(app_trusting("127.0.0.1", "::1")) as srv:  # the default: a reverse proxy on this device
        assert status(srv, PRIVACY, "10.0.0.5") == ErrorKind.UNAUTHORIZED.http_status  # not loopback: a key
        assert status(srv, REPORT, "203.0.113.7") == ErrorKind.FORBIDDEN.http_status  # public: refused
        assert status(srv, REPORT, "192.168.1.23") == ErrorKind.NOT_FOUND.http_status  # a phone on the LAN


def test_no_trusted_proxy_ignores_the_headers():
    assert proxy_options(api_settings(forwarded_allow_ips=[])) == {"proxy_headers": False, "forwarded_allow_ips": []}
    with running(app_trusting()) as srv:
        assert status(srv, PRIVACY, "203.0.113.7") == 200


def test_the_default_trusts_loopback_only_and_bad_entries_are_refused(tmp_path):
    assert proxy_options(load_settings()) == {
        "proxy_headers": True, "forwarded_allow_ips": ["127.0.0.1", "::1"]}
    cfg = tmp_path / "c.yaml"
    cfg.write_text("api:\n  forwarded_allow_ips: [10.0.0.0/8, proxy.local]\n")
    with pytest.raises(ConfigError, match="api.forwarded_allow_ips.*'proxy.local' is not an IP address"):
        load_settings(cfg)
