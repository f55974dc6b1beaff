#!/usr/bin/env python3
"""Benchmark the diary and the sync: diary write rate and outbox drain rate on loopback.

Starts Debian's mosquitto on a free 127.0.0.1 port (temporary config, killed at exit), records
visits into a fresh diary file, then drains the outbox with the real publisher (QoS 1, a row deleted
per PUBACK) while a real subscriber counts arrivals. Prints a table.

    scripts/bench_diary.py [--visits 5000] [--inflight 1,20,50,200]
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as paho  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from edge.diary import DiaryStore  # noqa: E402
from edge.diary.outbox import Outbox  # noqa: E402
from edge.sync.mqtt import MqttCommunicator, MqttOptions, TopicLayout  # noqa: E402
from edge.sync.publisher import OutboxPublisher  # noqa: E402

LOOPBACK = "127.0.0.1"


def sample_face(i: int) -> dict[str, Any]:
    """A full face dict as the pipeline returns it (images and coordinates included)."""
    box = {"left": 10.0, "top": 20.0, "right": 30.0, "bottom": 40.0}
    image = base64.b64encode(os.urandom(2000)).decode()
    return {
        "face_token": os.urandom(16).hex(), "location": {"left": 1.0, "top": 2.0, "width": 3.0, "height": 4.0},
        "skin": {"color": 1 + i % 6, "smooth": 1 + i % 4},
        "acnespotmole": {"acne_num": 3, "acne_list": [{"type": i % 4, "score": 0.7, **box}] * 3,
                         "speckle_num": 1, "speckle_list": [{"type": 1, "score": 0.6, **box}],
                         "mole_num": 0, "mole_list": []},
        "wrinkle": {"wrinkle_num": 2, "wrinkle_types": [1, 3], "wrinkle_data": [[{"x": 1, "y": 2}] * 20] * 2},
        "eyesattr": {"dark_circle_left_type": [1], "dark_circle_right_type": [0], "eye_bags_left_type": [],
                     "eye_bags_right_type": [2], "dark_circle_left": [{"x": 1, "y": 2}] * 10},
        "blackheadpore": {"pore_num": 40, "pore_segs_type": [1, 2, 3, 4] * 10, "blackhead_num": 5,
                          "blackhead_segs_type": [1, 2, 3, 1, 2],
                          "poly": [{"class_id": 1, "score": 0.5, **box, "point": []}] * 45},
        "skinface": {"skin_health_check_images": {"src_pic": image, "gray_pic": image}},
        "skinquality": {"skin_dryoil_check": ["0", "1", "2", "1", "0"], "skin_sensitive_check": ["1"]},
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


class Broker:
    def __init__(self, folder: Path) -> None:
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not os.path.exists(exe):
            sys.exit("mosquitto is not installed (scripts/system_deps.sh installs it)")
        self.port = free_port()
        conf = folder / "mosquitto.conf"
        import getpass

        conf.write_text(f"listener {self.port} {LOOPBACK}\nallow_anonymous true\nuser {getpass.getuser()}\n"
                        f"max_queued_messages 1000000\nlog_dest file {folder}/mosquitto.log\n")
        self.process = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection((LOOPBACK, self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        self.close()
        sys.exit("mosquitto did not start")

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


class Counter:
    """A real subscriber counting visit messages."""

    def __init__(self, port: int) -> None:
        self.count = 0
        self._ready = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-sub")
        self.client.on_connect = lambda c, *_: c.subscribe("bench/+/visit", qos=1)
        self.client.on_subscribe = lambda *_: self._ready.set()
        self.client.on_message = self._on_message
        self.client.connect(LOOPBACK, port)
        self.client.loop_start()
        self._ready.wait(5)

    def _on_message(self, *_: Any) -> None:
        self.count += 1

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def bench_writes(store: DiaryStore, n: int, profile_id: str | None, opt_in: bool = False) -> float:
    faces = [sample_face(i) for i in range(min(n, 100))]
    start = time.perf_counter()
    for i in range(n):
        store.record_visit(faces[i % len(faces)], profile_id=profile_id, opt_in_tracking=opt_in)
    return n / (time.perf_counter() - start)


def bench_drain(db: Path, port: int, inflight: int) -> tuple[float, int]:
    """Messages/s from publisher start until the outbox is empty (every row acknowledged)."""
    outbox = Outbox.open(db)
    total = outbox.count()
    options = MqttOptions(host=LOOPBACK, port=port, client_id=f"bench-{inflight}",
                          topics=TopicLayout("bench", "kiosk-bench"), reconnect_min_s=0.05, reconnect_max_s=0.5,
                          max_inflight=inflight)
    publisher = OutboxPublisher(outbox, MqttCommunicator(options), options.topics, max_inflight=inflight,
                                poll_interval_s=0.05)
    start = time.perf_counter()
    publisher.start()
    while outbox.count() > 0:
        time.sleep(0.005)
    elapsed = time.perf_counter() - start
    publisher.stop()
    outbox.close()
    return total / elapsed, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=5000, help="visits per measurement")
    parser.add_argument("--inflight", default="1,20,50,200", help="max_inflight values to drain with")
    args = parser.parse_args()
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-diary-") as tmp:
        folder = Path(tmp)
        broker = Broker(folder)
        counter = Counter(broker.port)
        try:
            db = folder / "diary.sqlite3"
            with DiaryStore(db, device_id="kiosk-bench", device_secret=os.urandom(32)) as store:
                profile = store.create_profile()
                rows.append(("diary write, anonymous visit + outbox row", f"{bench_writes(store, args.visits, None):,.0f}",
                             "visits/s"))
                rows.append(("diary write, profile visit + outbox row",
                             f"{bench_writes(store, args.visits, profile.id):,.0f}", "visits/s"))
                rows.append(("diary write, with opt-in images kept",
                             f"{bench_writes(store, args.visits // 5, profile.id, opt_in=True):,.0f}", "visits/s"))
                store.outbox.delete(m.seq for m in store.outbox.pending(limit=10**9))
                for inflight in [int(x) for x in args.inflight.split(",")]:
                    for _ in range(args.visits):
                        store.record_visit(sample_face(0))
                    rate, total = bench_drain(db, broker.port, inflight)
                    rows.append((f"outbox drain, QoS 1, max_inflight={inflight} ({total} msgs)", f"{rate:,.0f}",
                                 "msgs/s"))
            time.sleep(0.3)
            rows.append(("messages received by the subscriber", f"{counter.count:,}", "msgs"))
        finally:
            counter.close()
            broker.close()
    width = max(len(r[0]) for r in rows)
    print(f"{'measurement':<{width}}  {'rate':>10}  unit")
    print(f"{'-' * width}  {'-' * 10}  ------")
    for name, value, unit in rows:
        print(f"{name:<{width}}  {value:>10}  {unit}")


if __name__ == "__main__":
    main()
