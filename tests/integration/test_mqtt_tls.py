"""MQTT over TLS with a CA generated for the test: the right CA works, a stranger CA is refused."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from mqtt_harness import TlsFiles, sample_face, wait_until, write_kiosk_config

from edge.config import load_settings
from edge.diary import DiaryStore


def tls_config(folder: Path, port: int, tls: TlsFiles, ca: Path) -> Path:
    return write_kiosk_config(folder, port, tls=True, ca_file=ca, cert_file=tls.client_cert,
                              key_file=tls.client_key)


def test_mutual_tls_with_the_generated_ca_delivers(
    broker_factory, collector_factory, publisher_factory, tls_files: TlsFiles, tmp_path: Path
) -> None:
    broker = broker_factory(tls=tls_files)
    collector = collector_factory(broker.port, tls=tls_files)
    config = tls_config(tmp_path / "kiosk", broker.port, tls_files, tls_files.ca_cert)
    with DiaryStore.from_settings(load_settings(config)) as store:
        ids = {store.record_visit(sample_face(i)).id for i in range(20)}
        publisher_factory(config)
        assert collector.wait_for_ids(ids, timeout=10)
        assert wait_until(lambda: store.outbox.count() == 0, 5)


def test_a_broker_certificate_from_another_ca_is_refused(
    broker_factory, collector_factory, publisher_factory, tls_files: TlsFiles, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = broker_factory(tls=tls_files)
    collector = collector_factory(broker.port, tls=tls_files)
    config = tls_config(tmp_path / "kiosk", broker.port, tls_files, tls_files.other_ca_cert)
    caplog.set_level(logging.INFO, logger="edge.sync")
    with DiaryStore.from_settings(load_settings(config)) as store:
        store.record_visit(sample_face())
        publisher = publisher_factory(config)
        assert wait_until(lambda: publisher.link.connect_attempts >= 2, 10)
        time.sleep(0.2)
        assert not publisher.link.connected
        failures = [r.getMessage() for r in caplog.records if "TLS handshake" in r.getMessage()]
        assert failures and "certificate verify failed" in failures[0]
        assert collector.on("visit") == [] and store.outbox.count() == 1
