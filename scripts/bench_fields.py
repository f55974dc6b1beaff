#!/usr/bin/env python3
"""Benchmark analysis fields beyond the face stage: p50/p95 ms per field on a 1920x1080 photo.

The face stage (detect, mesh, regions) runs once; every timed run then analyses a fresh copy of the
face context (empty map cache), so each run pays for its models and shared maps like a real request.
Two tables: each field alone (it pays for every map it needs), and all fields together in seed order
(a shared map is charged to the first field that asks for it) with their total.

    .venv/bin/python scripts/bench_fields.py [--runs 30] [--fields color,smooth,skinface,skinquality]

`bench_fields()` is importable (scripts/bench.py can call it).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from edge.config import load_settings  # noqa: E402
from edge.pipeline import Engine  # noqa: E402

TONE_FIELDS = ("color", "smooth", "skinface", "skinquality")


def bench_image() -> np.ndarray:
    """The astronaut portrait upscaled to 1000 px and placed on a 1920x1080 canvas (BGR)."""
    from skimage import data

    face = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    face = cv2.resize(face, (1000, 1000), interpolation=cv2.INTER_CUBIC)[:, 100:1000]
    canvas = np.full((1080, 1920, 3), (150, 160, 170), np.uint8)
    canvas[40:1040, 510:1410] = face
    return canvas


def _stats(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values)
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 95))


def bench_fields(engine: Engine | None = None, fields: Sequence[str] = TONE_FIELDS, runs: int = 30,
                 image: np.ndarray | None = None, warmup: int = 2) -> dict[str, dict[str, tuple[float, float]]]:
    """{'alone': {field: (p50, p95)}, 'together': {field: (p50, p95), 'total': (p50, p95)}} in ms."""
    engine = engine or Engine.from_settings(load_settings())
    image = bench_image() if image is None else image
    contexts = engine.face_contexts(image, max_faces=1)
    if not contexts:
        raise RuntimeError("no face found in the benchmark image")
    ctx = contexts[0]
    analyzers = {f: engine.analyzer(f) for f in fields}

    def fresh():
        return dataclasses.replace(ctx, _cache={})

    alone: dict[str, list[float]] = {f: [] for f in fields}
    together: dict[str, list[float]] = {f: [] for f in fields}
    total: list[float] = []
    for i in range(runs + warmup):
        for f in fields:
            c = fresh()
            t0 = time.perf_counter()
            analyzers[f].analyze(c)
            if i >= warmup:
                alone[f].append((time.perf_counter() - t0) * 1000)
        c = fresh()
        t_all = time.perf_counter()
        for f in fields:
            t0 = time.perf_counter()
            analyzers[f].analyze(c)
            if i >= warmup:
                together[f].append((time.perf_counter() - t0) * 1000)
        if i >= warmup:
            total.append((time.perf_counter() - t_all) * 1000)
    result = {"alone": {f: _stats(v) for f, v in alone.items()},
              "together": {f: _stats(v) for f, v in together.items()}}
    result["together"]["total"] = _stats(total)
    return result


def format_table(result: dict[str, dict[str, tuple[float, float]]]) -> str:
    lines = [f"{'field':<14}{'alone p50':>11}{'p95':>8}{'together p50':>15}{'p95':>8}", "-" * 56]
    for f, (p50, p95) in result["alone"].items():
        t50, t95 = result["together"][f]
        lines.append(f"{f:<14}{p50:>11.2f}{p95:>8.2f}{t50:>15.2f}{t95:>8.2f}")
    t50, t95 = result["together"]["total"]
    lines.append(f"{'all together':<14}{'':>19}{t50:>15.2f}{t95:>8.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--fields", default=",".join(TONE_FIELDS))
    args = parser.parse_args(argv)
    settings = load_settings()
    fields = [f.strip() for f in args.fields.split(",") if f.strip()]
    result = bench_fields(Engine.from_settings(settings), fields, runs=args.runs)
    print(f"fields beyond the face stage: 1920x1080 astronaut canvas, {args.runs} runs, "
          f"{settings.runtime.num_threads} interpreter threads (ms)")
    print(format_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
