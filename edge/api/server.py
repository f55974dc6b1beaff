"""The API and the kiosk page under uvicorn, without the capture daemon (`serve_api`), and the checks
every `serve` makes before it binds. Which of API-only or kiosk runs is decided by the composition
root (`edge/serve.py`); this package knows nothing of `edge.kiosk`.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
from typing import Any

from edge.api.live import LiveSource, ReplayLive
from edge.config import ConfigError, Settings

log = logging.getLogger(__name__)


def is_loopback_host(host: str) -> bool:
    """True if every address `host` names is loopback (a name is resolved; 0.0.0.0/:: are not)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(i[4][0]).split("%")[0]).is_loopback for i in infos)


def replay_live(settings: Settings) -> ReplayLive:
    """The demo photo(s) as a camera, with the face box found once by a private engine."""
    from edge.pipeline import Engine

    def locate(frame: Any) -> dict[str, float] | None:
        engine = Engine.from_settings(settings)
        try:
            faces = engine.analyze(frame, [], max_faces=1)
        except Exception:
            return None
        finally:
            engine.close()
        return faces[0]["location"] if faces else None

    cap = settings.capture
    return ReplayLive(cap.replay_path, preview_size=(cap.lores_width, cap.lores_height), fps=cap.replay_fps,
                      locate=locate)


def bind_refusal(settings: Settings, host: str) -> str | None:
    """Why `serve` must not bind `host` (None: it may). The open mode (no API key) is for the device
    itself only: a non-loopback address needs a key."""
    from edge.api.auth import load_api_keys

    try:
        keys = load_api_keys(settings.api)
    except ConfigError as exc:
        return f"serve: {exc}"
    if not keys and not is_loopback_host(host):
        return (f"serve: refusing to listen on {host}: no API key is configured, so the API would be open to "
                "the network. Set api.api_keys or api.api_keys_file (e.g. a systemd credential), or bind to "
                "127.0.0.1.")
    return None


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's trusted-proxy options, pinned from api.forwarded_allow_ips. Passed explicitly, so uvicorn
    never falls back to the FORWARDED_ALLOW_IPS environment variable (which `*` would widen to every peer,
    letting any client claim a local address with X-Forwarded-For); [] turns the headers off."""
    trusted = list(settings.api.forwarded_allow_ips)
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted}


def serve_api(settings: Settings, host: str, port: int, live: LiveSource | None = None) -> int:
    """The API and kiosk page (preview: `live`, else the demo replay) until SIGTERM/SIGINT; exit status."""
    import uvicorn

    from edge.api.app import create_app

    diary = None
    try:
        from edge.diary.store import DiaryStore

        diary = DiaryStore.from_settings(settings)
    except Exception as exc:  # the kiosk still works without its diary; say why
        log.warning("diary disabled: %s", exc)
    app = create_app(settings, live=live if live is not None else replay_live(settings), diary=diary)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print(f"skin-kiosk: kiosk page and API on http://{host}:{port}/ (docs at /docs)", file=sys.stderr)
    # Not uvicorn.run: it re-raises SIGTERM after shutdown, which would kill the process (143) before
    # the diary is closed and before serve() leaves the MQTT publisher's context.
    from edge.api.graceful import graceful_server

    config = uvicorn.Config(app, host=host, port=port, log_level="info", access_log=False, **proxy_options(settings))
    try:
        graceful_server(config).run()
    finally:
        if diary is not None:
            diary.close()
    return 0
