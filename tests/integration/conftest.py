"""Integration fixtures for the MQTT sync: real mosquitto brokers (each killed at teardown), real paho
subscribers, publishers in-process or as a subprocess. Helpers live in mqtt_harness.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from mqtt_harness import (
    MOSQUITTO,
    PAYLOAD_SCHEMA_PATH,
    REPO_ROOT,
    Collector,
    MosquittoBroker,
    TlsFiles,
    make_tls_files,
)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed")
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def broker_factory(tmp_path: Path) -> Iterator[Callable[..., MosquittoBroker]]:
    """make_broker(users=None, tls=None, start=True) -> MosquittoBroker; all are killed at teardown."""
    if not os.path.exists(MOSQUITTO):
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    brokers: list[MosquittoBroker] = []

    def make(*, users: dict[str, str] | None = None, tls: TlsFiles | None = None,
             start: bool = True) -> MosquittoBroker:
        broker = MosquittoBroker(tmp_path / f"broker{len(brokers)}", users=users, tls=tls)
        brokers.append(broker)
        if start:
            broker.start()
        return broker

    yield make
    for broker in brokers:
        broker.kill()


@pytest.fixture
def broker(broker_factory: Callable[..., MosquittoBroker]) -> MosquittoBroker:
    return broker_factory()


@pytest.fixture
def collector_factory() -> Iterator[Callable[..., Collector]]:
    collectors: list[Collector] = []

    def make(port: int, **kwargs: Any) -> Collector:
        collector = Collector(port, **kwargs).start()
        collectors.append(collector)
        return collector

    yield make
    for collector in collectors:
        collector.close()


@pytest.fixture(scope="session")
def payload_schema() -> dict[str, Any]:
    return json.loads(PAYLOAD_SCHEMA_PATH.read_text())


@pytest.fixture
def publisher_factory() -> Iterator[Callable[[Path], Any]]:
    """start(config_path) -> a running in-process OutboxPublisher; all are stopped at teardown."""
    from edge.config import load_settings
    from edge.sync.publisher import OutboxPublisher

    running: list[OutboxPublisher] = []

    def start(config_path: Path) -> OutboxPublisher:
        publisher = OutboxPublisher.from_settings(load_settings(config_path))
        publisher.start()
        running.append(publisher)
        return publisher

    yield start
    for publisher in running:
        publisher.stop()
        publisher.outbox.close()


@pytest.fixture
def publisher_process_factory() -> Iterator[Callable[[Path], subprocess.Popen[bytes]]]:
    """spawn(config_path) -> `python -m edge.sync.publisher --config ...`; all are killed at teardown."""
    processes: list[subprocess.Popen[bytes]] = []

    def spawn(config_path: Path) -> subprocess.Popen[bytes]:
        log = (config_path.parent / f"publisher{len(processes)}.log").open("wb")
        process = subprocess.Popen([sys.executable, "-m", "edge.sync.publisher", "--config", str(config_path)],
                                   cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    yield spawn
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()
