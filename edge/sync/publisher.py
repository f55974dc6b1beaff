"""Drains the diary's outbox to the broker: QoS 1, a row is deleted only after its PUBACK.

Guarantee: every outbox row is delivered at least once. A row leaves the outbox only when the
broker has acknowledged it; a lost connection, a broker restart or a killed publisher leaves it in
place, and it is sent again later with the same msg_id (the cloud drops duplicates by msg_id).
Messages go out in outbox order; within a connection up to `max_inflight` wait for PUBACK at once.

Run it beside the kiosk (it only needs the diary file and the mqtt settings):

    python -m edge.sync.publisher --config config.yaml

or in-process: `OutboxPublisher.from_settings(settings).start()` … `.stop()`; `skin-kiosk serve` runs it
in-process through `running_publisher(settings)` when `mqtt.enabled` is true.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import queue
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edge.diary.outbox import Outbox
from edge.sync.mqtt import Communicator, LinkEvent, MqttCommunicator, MqttOptions, TopicLayout

if TYPE_CHECKING:
    from edge.config import Settings

log = logging.getLogger("edge.sync.publisher")


class RateLimiter:
    """Token bucket: at most `rate` messages per second, bursts of up to a tenth of a second."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self._burst = max(1.0, (rate or 0) / 10)
        self._tokens = self._burst
        self._stamp = time.monotonic()

    def grant(self, wanted: int) -> int:
        if self.rate is None:
            return wanted
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        granted = min(wanted, int(self._tokens))
        self._tokens -= granted
        return granted

    def wait_s(self) -> float:
        """Time until the next token (0 when unlimited)."""
        return 0.0 if self.rate is None else max(0.0, (1 - self._tokens) / self.rate)


@dataclass
class PublisherCounters:
    published_total: int = 0  # sends, including re-sends after a lost connection
    acked_total: int = 0      # rows deleted after PUBACK
    sessions: int = 0         # connections that came up


class OutboxPublisher:
    """Moves outbox rows to a Communicator. One thread; the link's events arrive on its queue."""

    def __init__(self, outbox: Outbox, link: Communicator, topics: TopicLayout, *, max_inflight: int = 50,
                 max_rate: float | None = None, poll_interval_s: float = 1.0) -> None:
        self.outbox = outbox
        self.link = link
        self.topics = topics
        self.max_inflight = max_inflight
        self.poll_interval_s = poll_interval_s
        self.counters = PublisherCounters()
        self._limiter = RateLimiter(max_rate)
        self._session: int | None = None
        self._inflight: dict[int, int] = {}  # mid -> outbox seq, for the current session only
        self._sent_upto = 0                   # highest seq sent in the current session
        self._idle = False                    # the last look found nothing new: poll slowly
        self._unsaved_acks: list[int] = []    # acknowledged seqs not yet deleted from the outbox
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboxPublisher:
        options = MqttOptions.from_settings(settings)
        m = settings.mqtt
        return cls(Outbox.open(settings.diary.path, settings.diary.outbox_max_rows), MqttCommunicator(options),
                   options.topics, max_inflight=m.max_inflight, max_rate=m.max_publish_rate,
                   poll_interval_s=m.poll_interval_s)

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Run in a background thread (in-process use, e.g. the kiosk daemon)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="outbox-publisher", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Ask run() to return soon (safe from a signal handler)."""
        self._stop.set()
        self.wake()

    def stop(self, timeout: float = 5.0) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        """Look at the outbox now rather than at the next poll (call after recording a visit)."""
        self.link.events.put(LinkEvent("wake", -1))

    def run(self) -> None:
        """Drain until stop(); starts and stops the link."""
        self.link.start()
        try:
            while not self._stop.is_set():
                self._step()
        finally:
            self.link.stop()

    # --- one turn of the loop ----------------------------------------------------------------------

    def _step(self) -> None:
        self._unsaved_acks += self._take_events(timeout=self._idle_timeout())
        try:
            if self._unsaved_acks:
                self.outbox.delete(self._unsaved_acks)
                self.counters.acked_total += len(self._unsaved_acks)
                self._unsaved_acks = []
            if self._session is not None:
                self._send_more()
        except sqlite3.Error as exc:
            # e.g. the diary file locked for longer than the busy timeout: keep the acks, try again.
            log.warning("outbox not reachable (%s); retrying in %.1fs", exc, self.poll_interval_s)
            self._stop.wait(self.poll_interval_s)

    def _idle_timeout(self) -> float:
        if self._session is None:
            return self.poll_interval_s
        if len(self._inflight) >= self.max_inflight:
            return self.poll_interval_s  # an ack will wake us
        wait = self._limiter.wait_s()
        return wait if wait > 0 else (self.poll_interval_s if self._idle else 0.0)

    def _take_events(self, timeout: float) -> list[int]:
        """Apply link events (block up to `timeout` for the first); the seqs newly acknowledged."""
        acked: list[int] = []
        try:
            event = self.link.events.get(timeout=timeout) if timeout > 0 else self.link.events.get_nowait()
            while True:
                self._apply(event, acked)
                event = self.link.events.get_nowait()
        except queue.Empty:
            pass
        return acked

    def _apply(self, event: LinkEvent, acked: list[int]) -> None:
        if event.kind == "up":
            # A new connection: whatever the old one had in flight is re-sent from the outbox.
            self._session, self._inflight, self._sent_upto = event.session, {}, 0
            self._idle = False
            self.counters.sessions += 1
        elif event.kind == "down" and event.session == self._session:
            self._session, self._inflight = None, {}
        elif event.kind in ("ack", "wake"):
            self._idle = False  # there may be more to send
            if event.kind == "ack" and event.session == self._session and event.mid in self._inflight:
                acked.append(self._inflight.pop(event.mid))

    def _send_more(self) -> None:
        free = self.max_inflight - len(self._inflight)
        if free <= 0:
            return
        wanted = self._limiter.grant(free)
        if wanted <= 0:
            return
        rows = self.outbox.pending(after_seq=self._sent_upto, limit=wanted)
        self._idle = not rows
        for row in rows:
            mid = self.link.publish(self.topics.for_kind(row.kind), row.payload, self._session or 0)
            if mid is None:
                self._idle = True  # the link went down; wait for its 'down' event, do not spin
                return
            self._inflight[mid] = row.seq
            self._sent_upto = row.seq
            self.counters.published_total += 1


@contextlib.contextmanager
def running_publisher(settings: Settings) -> Iterator[OutboxPublisher | None]:
    """The publisher draining the outbox in the background while the block runs (for `serve`);
    yields None when `mqtt.enabled` is false. Stopping leaves unacknowledged rows in the outbox."""
    if not settings.mqtt.enabled:
        yield None
        return
    publisher = OutboxPublisher.from_settings(settings)
    publisher.start()
    log.info("mqtt sync on: draining %s to %s:%d", settings.diary.path, settings.mqtt.host, settings.mqtt.port)
    try:
        yield publisher
    finally:
        publisher.stop()
        publisher.outbox.close()


def main(argv: list[str] | None = None) -> int:
    from edge.config import ConfigError, load_settings

    parser = argparse.ArgumentParser(prog="python -m edge.sync.publisher", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="config.yaml (default: $SKIN_KIOSK_CONFIG or ./config.yaml)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    if not settings.mqtt.enabled:
        log.info("mqtt.enabled is false: nothing to publish")
        return 0
    publisher = OutboxPublisher.from_settings(settings)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: publisher.request_stop())
    log.info("draining %s to %s:%d", settings.diary.path, settings.mqtt.host, settings.mqtt.port)
    publisher.run()
    publisher.outbox.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
