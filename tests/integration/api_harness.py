"""A real uvicorn on 127.0.0.1 (free port) in a thread, for the API and browser tests."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from edge.config import Settings, load_settings

LOOPBACK = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_PHOTO = REPO_ROOT / "data" / "demo" / "astronaut.jpg"
START_TIMEOUT_S = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def api_settings(**api: Any) -> Settings:
    """The repo's settings with `api` fields overridden (loopback bind, small pool)."""
    settings = load_settings()
    return settings.model_copy(update={"api": settings.api.model_copy(update=api)})


class Server:
    def __init__(self, app: Any) -> None:
        from edge.api.server import proxy_options

        self.app = app
        self.port = free_port()
        self.base_url = f"http://{LOOPBACK}:{self.port}"
        state = getattr(getattr(app, "state", None), "api", None)  # the product's own proxy trust, when known
        proxy = proxy_options(state.settings) if state is not None else {}
        config = uvicorn.Config(app, host=LOOPBACK, port=self.port, log_level="warning", access_log=False,
                                lifespan="on", **proxy)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name=f"uvicorn-{self.port}", daemon=True)

    def _run(self) -> None:
        asyncio.run(self.server.serve())

    def start(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = httpx.get(self.base_url + "/readyz")
            if response.status_code == 200:
                return
            if response.json().get("detail"):  # warm-up failed: say why at once
                raise RuntimeError(f"server not ready: {response.json()['detail']}")
            time.sleep(0.05)
        raise RuntimeError("server never became ready")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@contextmanager
def running(app: Any, *, ready: bool = True) -> Iterator[Server]:
    server = Server(app).start()
    try:
        if ready:
            server.wait_ready()
        yield server
    finally:
        server.stop()


class GatedEngine:
    """A real Engine whose analyze() and measure() wait for the test to open a gate: a slow request (for the
    back-pressure tests). Each test clears `gate` first and sets it to let the held requests finish."""

    gate = threading.Event()

    def __init__(self) -> None:
        from edge.pipeline import Engine

        self.engine = Engine.from_settings(api_settings())

    def analyze(self, *args: Any, **kwargs: Any) -> Any:
        assert self.gate.wait(30), "the test never opened the gate"
        return self.engine.analyze(*args, **kwargs)

    def measure(self, *args: Any, **kwargs: Any) -> Any:
        assert self.gate.wait(30), "the test never opened the gate"
        return self.engine.measure(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:  # everything else is the real engine's
        return getattr(self.engine, name)
