"""The MQTT link: a paho-mqtt 2.x client behind a small `Communicator` interface.

The publisher only needs three things from a link — is it up, publish with QoS 1, which message
was acknowledged — so that is the whole interface, delivered as events on a queue. Keeping paho
behind it keeps the drain logic testable and lets another transport replace MQTT later.

Each connection attempt uses a fresh paho client ("session"). paho keeps unacknowledged QoS 1
messages in memory and re-sends them on reconnect; we do not want a second queue beside the
outbox, so a lost connection simply forgets its in-flight messages and the publisher re-sends them
from the outbox (same msg_id, so the cloud drops any duplicate).

Topic layout (docs/payload-schema.md):
    <prefix>/<device>/status     "online" / "offline", retained, QoS 1 (last will = "offline")
    <prefix>/<device>/visit      one anonymous visit summary per message, QoS 1
    <prefix>/<device>/tombstone  "delete this subject", QoS 1
"""

from __future__ import annotations

import contextlib
import logging
import queue
import random
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from edge.config import ConfigError, read_secret

if TYPE_CHECKING:
    from edge.config import Settings

log = logging.getLogger("edge.sync.mqtt")

STATUS_ONLINE = b"online"
STATUS_OFFLINE = b"offline"


@dataclass(frozen=True)
class LinkEvent:
    """'up': session connected; 'down': session lost; 'ack': the broker acknowledged `mid`;
    'wake': no link news, just look at the outbox again."""

    kind: Literal["up", "down", "ack", "wake"]
    session: int
    mid: int = 0


class Communicator(Protocol):
    """What the outbox publisher needs from a transport."""

    events: queue.Queue[LinkEvent]

    def start(self) -> None: ...

    def stop(self, timeout: float = 5.0) -> None: ...

    def publish(self, topic: str, payload: bytes, session: int) -> int | None:
        """Send with QoS 1 on `session`; the message id, or None if that session is not up."""
        ...


@dataclass(frozen=True)
class TopicLayout:
    prefix: str
    device_id: str

    def _topic(self, leaf: str) -> str:
        return f"{self.prefix.rstrip('/')}/{self.device_id}/{leaf}"

    @property
    def status(self) -> str:
        return self._topic("status")

    def for_kind(self, kind: str) -> str:
        """Topic of an outbox message kind ('visit' or 'tombstone')."""
        return self._topic(kind)


@dataclass(frozen=True)
class MqttOptions:
    host: str
    port: int
    client_id: str
    topics: TopicLayout
    username: str | None = None
    password_file: str | None = None
    tls: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    keepalive_s: int = 30
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 120.0
    max_inflight: int = 50

    @classmethod
    def from_settings(cls, settings: Settings) -> MqttOptions:
        m, device_id = settings.mqtt, settings.diary.device_id
        return cls(
            host=m.host, port=m.port, client_id=m.client_id or f"skin-kiosk-{device_id}",
            topics=TopicLayout(m.topic_prefix, device_id), username=m.username, password_file=m.password_file,
            tls=m.tls, ca_file=m.ca_file, cert_file=m.cert_file, key_file=m.key_file, keepalive_s=m.keepalive_s,
            reconnect_min_s=m.reconnect_min_s, reconnect_max_s=max(m.reconnect_max_s, m.reconnect_min_s),
            max_inflight=m.max_inflight,
        )


class Backoff:
    """Exponential backoff with ±20 % jitter, so a fleet of kiosks does not reconnect in lockstep."""

    def __init__(self, min_s: float, max_s: float) -> None:
        self.min_s, self.max_s = min_s, max_s
        self._next = min_s

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.max_s)
        return delay * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        self._next = self.min_s


class MqttCommunicator:
    """Keeps one MQTT connection up in its own thread, reconnecting with backoff."""

    def __init__(self, options: MqttOptions) -> None:
        self.options = options
        self.events: queue.Queue[LinkEvent] = queue.Queue()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._client: paho.Client | None = None
        self._session = 0
        self._up_session: int | None = None
        self._refusal: str | None = None
        self._session_ended = threading.Event()
        self._thread: threading.Thread | None = None
        self.backoff = Backoff(options.reconnect_min_s, options.reconnect_max_s)
        self.connect_attempts = 0

    # --- Communicator ------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="mqtt-link", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def publish(self, topic: str, payload: bytes, session: int) -> int | None:
        with self._lock:
            if self._client is None or self._up_session != session:
                return None
            info = self._client.publish(topic, payload, qos=1)
        return info.mid if info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS else None

    @property
    def connected(self) -> bool:
        return self._up_session is not None

    # --- the link thread --------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            was_up = self._run_one_session()
            if self._stop.is_set():
                break
            if was_up:
                self.backoff.reset()
            delay = self.backoff.next_delay()
            log.info("MQTT: reconnecting to %s:%d in %.2fs", self.options.host, self.options.port, delay)
            self._stop.wait(delay)

    def _run_one_session(self) -> bool:
        """Connect, let paho's loop thread run until the connection ends; True if it was ever up."""
        o = self.options
        self._session += 1
        session = self._session
        self._refusal = None
        self._session_ended.clear()
        self.connect_attempts += 1
        try:
            client = self._new_client(session)
            client.connect(o.host, o.port, keepalive=o.keepalive_s)  # TCP + TLS handshake + CONNECT
        except ssl.SSLError as exc:
            log.error("MQTT: TLS handshake with %s:%d failed: %s (check mqtt.ca_file / cert_file / key_file)",
                      o.host, o.port, exc)
            return False
        except (OSError, ValueError) as exc:
            log.warning("MQTT: cannot connect to %s:%d: %s", o.host, o.port, exc)
            return False
        except ConfigError as exc:
            log.error("MQTT: %s", exc)
            return False
        with self._lock:
            self._client = client
        # paho's own thread runs the network loop (publish() from other threads is safe with it);
        # reconnect_on_failure=False makes it end with the connection, so we own the backoff.
        client.loop_start()
        was_up = False
        try:
            while not self._stop.is_set() and not self._session_ended.wait(0.1):
                was_up = was_up or self._up_session == session
            was_up = was_up or self._up_session == session
            if self._stop.is_set() and self._up_session == session:
                self._say_offline(client)
        finally:
            with self._lock:
                self._client = None
                lost = self._up_session == session
                self._up_session = None
            client.disconnect()
            client.loop_stop()
            if lost:
                self.events.put(LinkEvent("down", session))
        if self._refusal:
            log.error("MQTT: broker %s:%d refused the connection: %s (check mqtt.username / mqtt.password_file"
                      " and the broker's ACL)", o.host, o.port, self._refusal)
        return was_up

    def _new_client(self, session: int) -> paho.Client:
        o = self.options
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=o.client_id, clean_session=True,
                             protocol=paho.MQTTv311, reconnect_on_failure=False)
        client.max_inflight_messages_set(o.max_inflight + 1)  # +1: the 'online' status message
        # Retained 'offline' if we vanish without a DISCONNECT (crash, power loss, network cut).
        client.will_set(o.topics.status, STATUS_OFFLINE, qos=1, retain=True)
        if o.username is not None:
            # Re-read each attempt so a fixed or rotated credential works without a restart.
            client.username_pw_set(o.username, self._read_password())
        if o.tls:
            client.tls_set(
                ca_certs=str(o.ca_file) if o.ca_file else None,
                certfile=str(o.cert_file) if o.cert_file else None,
                keyfile=str(o.key_file) if o.key_file else None,
                cert_reqs=ssl.CERT_REQUIRED,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        client.on_connect = lambda c, _u, _f, reason, _p: self._on_connect(c, session, reason)
        client.on_publish = lambda _c, _u, mid, _r, _p: self.events.put(LinkEvent("ack", session, mid))
        client.on_disconnect = lambda _c, _u, _f, reason, _p: self._on_disconnect(session, reason)
        return client

    def _read_password(self) -> str | None:
        if not self.options.password_file:
            return None
        return read_secret(self.options.password_file)

    def _on_connect(self, client: paho.Client, session: int, reason: paho.ReasonCode) -> None:
        if reason.is_failure:
            self._refusal = str(reason)
            return
        log.info("MQTT: connected to %s:%d as %s", self.options.host, self.options.port, self.options.client_id)
        client.publish(self.options.topics.status, STATUS_ONLINE, qos=1, retain=True)
        with self._lock:
            self._up_session = session
        self.events.put(LinkEvent("up", session))

    def _on_disconnect(self, session: int, reason: paho.ReasonCode) -> None:
        if session == self._session:
            self._session_ended.set()
        if self._up_session == session and not self._stop.is_set():
            log.warning("MQTT: connection to %s:%d lost (%s)", self.options.host, self.options.port, reason)

    def _say_offline(self, client: paho.Client, timeout_s: float = 2.0) -> None:
        """A clean shutdown sends no last will, so say 'offline' ourselves before disconnecting."""
        info = client.publish(self.options.topics.status, STATUS_OFFLINE, qos=1, retain=True)
        # If the connection is already gone, the broker sends the last will instead.
        with contextlib.suppress(RuntimeError, ValueError):
            info.wait_for_publish(timeout_s)
