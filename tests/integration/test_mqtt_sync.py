"""Outbox → MQTT with a real mosquitto: nothing recorded is ever lost.

Every test records visits in a real diary file, drains it with the real publisher (in-process or as
`python -m edge.sync.publisher`) and checks with a real subscriber what arrived.
"""

from __future__ import annotations

import json
import logging
import signal
import time
from collections import defaultdict
from pathlib import Path

import pytest
from mqtt_harness import (
    Collector,
    MosquittoBroker,
    sample_face,
    wait_until,
    write_kiosk_config,
)

from edge.config import load_settings
from edge.diary import DiaryStore


def open_store(config_path: Path) -> DiaryStore:
    return DiaryStore.from_settings(load_settings(config_path))


def record_visits(store: DiaryStore, n: int, profile_id: str | None = None) -> set[str]:
    return {store.record_visit(sample_face(i), profile_id=profile_id).id for i in range(n)}


def test_visits_recorded_while_broker_down_all_arrive_after_it_starts(
    broker: MosquittoBroker, collector_factory, publisher_factory, tmp_path: Path
) -> None:
    collector: Collector = collector_factory(broker.port)  # its persistent session survives the outage
    broker.stop()
    config = write_kiosk_config(tmp_path / "kiosk", broker.port)
    publisher = publisher_factory(config)
    with open_store(config) as store:
        ids = record_visits(store, 100)
        time.sleep(0.5)  # the publisher keeps failing to connect meanwhile
        assert publisher.link.connect_attempts >= 2
        assert store.outbox.count() == 100

        broker.start()
        assert collector.wait_for_ids(ids, timeout=15), f"{len(ids - collector.distinct_ids())} missing"
        assert wait_until(lambda: store.outbox.count() == 0, 5), "acknowledged rows must leave the outbox"


def test_broker_restarted_mid_drain_loses_nothing(
    broker: MosquittoBroker, collector_factory, publisher_factory, tmp_path: Path
) -> None:
    collector = collector_factory(broker.port)
    # A rate cap makes the drain last ~2 s, so the restart really falls in the middle of it.
    config = write_kiosk_config(tmp_path / "kiosk", broker.port, max_publish_rate=300, max_inflight=20)
    with open_store(config) as store:
        ids = record_visits(store, 600)
        publisher_factory(config)
        assert wait_until(lambda: len(collector.distinct_ids()) >= 100, 10)
        broker.restart()
        assert len(collector.distinct_ids()) < len(ids), "the restart must happen mid-drain"
        assert collector.wait_for_ids(ids, timeout=20), f"{len(ids - collector.distinct_ids())} missing"
        assert wait_until(lambda: store.outbox.count() == 0, 5)


def test_publisher_killed_mid_drain_and_restarted_loses_nothing(
    broker: MosquittoBroker, collector_factory, publisher_process_factory, tmp_path: Path
) -> None:
    collector = collector_factory(broker.port)
    config = write_kiosk_config(tmp_path / "kiosk", broker.port, max_publish_rate=400, max_inflight=50)
    with open_store(config) as store:
        ids = record_visits(store, 800)

    process = publisher_process_factory(config)
    assert wait_until(lambda: len(collector.distinct_ids()) >= 150, 15), (tmp_path / "kiosk/publisher0.log").read_text()
    process.send_signal(signal.SIGKILL)
    process.wait()
    arrived_before_kill = len(collector.distinct_ids())
    assert arrived_before_kill < len(ids), "the kill must happen mid-drain"
    # The broker publishes the retained last will as soon as the socket drops.
    assert wait_until(lambda: [m.payload for m in collector.on("status")][-1:] == [b"offline"], 5)

    publisher_process_factory(config)
    assert collector.wait_for_ids(ids, timeout=20), f"{len(ids - collector.distinct_ids())} missing"
    assert wait_until(lambda: [m.payload for m in collector.on("status")][-1:] == [b"online"], 5)

    # At-least-once: duplicates may occur, but a duplicate is the very same message.
    bodies: dict[str, set[bytes]] = defaultdict(set)
    for message in collector.on("visit"):
        bodies[json.loads(message.payload)["msg_id"]].add(message.payload)
    assert set(bodies) == ids
    assert all(len(versions) == 1 for versions in bodies.values())
    with open_store(config) as store:
        assert wait_until(lambda: store.outbox.count() == 0, 5)


def test_wrong_password_is_logged_retried_and_nothing_lost_once_fixed(
    broker_factory, collector_factory, publisher_factory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broker = broker_factory(users={"kiosk": "right-password", "cloud": "cloud-password"})
    collector = collector_factory(broker.port, username="cloud", password="cloud-password")
    password_file = tmp_path / "mqtt-password"
    password_file.write_text("wrong-password\n")
    config = write_kiosk_config(tmp_path / "kiosk", broker.port, username="kiosk", password_file=password_file)

    caplog.set_level(logging.INFO, logger="edge.sync")
    publisher = publisher_factory(config)
    with open_store(config) as store:
        ids = record_visits(store, 50)
        assert wait_until(lambda: publisher.link.connect_attempts >= 3, 10), "must keep retrying"
        refusals = [r for r in caplog.records if "refused the connection" in r.getMessage()]
        assert refusals and refusals[0].levelno == logging.ERROR
        assert "Not authorized" in refusals[0].getMessage() or "password" in refusals[0].getMessage()
        assert "mqtt.password_file" in refusals[0].getMessage()
        assert collector.distinct_ids() == set() and store.outbox.count() == 50

        password_file.write_text("right-password\n")  # re-read on the next attempt: no restart needed
        assert collector.wait_for_ids(ids, timeout=15)
        assert wait_until(lambda: store.outbox.count() == 0, 5)


def test_status_is_online_after_connect_and_offline_after_clean_stop(
    broker: MosquittoBroker, collector_factory, publisher_factory, tmp_path: Path
) -> None:
    config = write_kiosk_config(tmp_path / "kiosk", broker.port, client_id="kiosk-status-test")
    publisher = publisher_factory(config)
    assert wait_until(lambda: publisher.link.connected, 5)
    # A subscriber arriving later gets the retained status.
    late = collector_factory(broker.port, topic="test-kiosk/kiosk-test/status")
    assert wait_until(lambda: [(m.payload, m.retain) for m in late.on("status")] == [(b"online", True)], 5)
    publisher.stop()
    assert wait_until(lambda: [m.payload for m in late.on("status")][-1:] == [b"offline"], 5)
    again = collector_factory(broker.port, topic="test-kiosk/kiosk-test/status")
    assert wait_until(lambda: [(m.payload, m.retain) for m in again.on("status")] == [(b"offline", True)], 5)


def test_delete_my_data_sends_a_tombstone_and_withholds_unsent_visits(
    broker: MosquittoBroker, collector_factory, publisher_factory, tmp_path: Path
) -> None:
    collector = collector_factory(broker.port)
    config = write_kiosk_config(tmp_path / "kiosk", broker.port)
    with open_store(config) as store:
        profile = store.create_profile(pin="246813")
        sent = record_visits(store, 3, profile.id)
        publisher = publisher_factory(config)
        assert collector.wait_for_ids(sent, timeout=10)
        subject = collector.payloads("visit")[0]["subject"]

        publisher.stop()  # offline: the next visits stay queued ...
        unsent = record_visits(store, 2, profile.id)
        assert store.delete_profile(profile.id)  # ... and are withdrawn by the deletion
        assert store.history(profile.id) == [] and store.get_profile(profile.id) is None

        publisher_factory(config)
        assert wait_until(lambda: len(collector.payloads("tombstone")) == 1, 10)
        tombstone = collector.payloads("tombstone")[0]
        assert tombstone["subject"] == subject and tombstone["kind"] == "tombstone"
        assert wait_until(lambda: store.outbox.count() == 0, 5)
        assert not unsent & collector.distinct_ids()
