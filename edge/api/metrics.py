"""Prometheus metrics of one app (own registry, so several apps — e.g. in tests — never collide)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ApiMetrics:
    def __init__(self, queue_depth: Callable[[], float], running: Callable[[], float]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("skin_kiosk_requests", "HTTP requests by route and envelope error_code",
                                ["route", "error_code"], registry=self.registry)
        self.latency = Histogram("skin_kiosk_request_seconds", "HTTP request latency by route", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.stages = Histogram("skin_kiosk_stage_seconds", "Analysis stage latency (detect, mesh, each field)",
                                ["stage"], buckets=STAGE_BUCKETS, registry=self.registry)
        self.cache = Counter("skin_kiosk_cache", "Result cache lookups", ["outcome"], registry=self.registry)
        queue = Gauge("skin_kiosk_queue_depth", "Analysis jobs waiting for a worker", registry=self.registry)
        queue.set_function(queue_depth)
        busy = Gauge("skin_kiosk_workers_busy", "Workers running an analysis", registry=self.registry)
        busy.set_function(running)

    def observe_stages(self, stage_ms: dict[str, float]) -> None:
        for stage, ms in stage_ms.items():
            self.stages.labels(stage).observe(ms / 1000.0)
