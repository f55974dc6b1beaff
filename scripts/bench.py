#!/usr/bin/env python3
"""Benchmark the analysis pipeline on a 1920x1080 photo: p50/p95 ms per stage, plus peak RSS.

Stages: decode (bytes -> image), detect, mesh, regions, one row per available analysis field (a
shared map is charged to the first field that asks for it, in seed order), envelope (JSON). Run it
on an otherwise idle machine: `scripts/bench.py [--runs 30] [--fields all|LIST] [--faces N]`.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edge.config import load_settings  # noqa: E402
from edge.envelope import success  # noqa: E402
from edge.pipeline import Engine, StageTimer  # noqa: E402
from edge.request import decode_image, parse_face_fields  # noqa: E402


def bench_photo() -> bytes:
    """The astronaut portrait upscaled so her face is ~500 px wide, on a 1920x1080 canvas, as JPEG."""
    from skimage import data

    face = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    face = cv2.resize(face, (1000, 1000), interpolation=cv2.INTER_CUBIC)[0:1000, 100:1000]
    canvas = np.full((1080, 1920, 3), (150, 160, 170), np.uint8)
    canvas[40:1040, 510:1410] = face[:1000]
    ok, buf = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return buf.tobytes()


def percentile_table(rows: dict[str, list[float]]) -> str:
    lines = [f"{'stage':<16}{'p50 ms':>10}{'p95 ms':>10}{'runs':>6}", "-" * 42]
    for name, values in rows.items():
        arr = np.asarray(values)
        lines.append(f"{name:<16}{np.percentile(arr, 50):>10.2f}{np.percentile(arr, 95):>10.2f}{len(arr):>6}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--fields", default="available", help="'available' (default), 'none', or a face_field list")
    parser.add_argument("--faces", type=int, default=1)
    args = parser.parse_args(argv)

    settings = load_settings()
    engine = Engine.from_settings(settings)
    if args.fields == "available":
        fields = engine.available_fields()
    elif args.fields == "none":
        fields = []
    else:
        fields = parse_face_fields(args.fields)
    engine.warm_up(fields)
    data = bench_photo()

    order = ["decode", "detect", "mesh", "regions", *fields, "envelope"]
    rows: dict[str, list[float]] = {k: [] for k in order}
    rows["face stage"] = []
    rows["fields total"] = []
    rows["total"] = []
    for i in range(args.runs + 2):  # two warm-up runs are discarded
        timer = StageTimer()
        t0 = time.perf_counter()
        decoded = decode_image(data, settings.request)
        timer.add("decode", time.perf_counter() - t0)
        faces = engine.analyze(decoded.image, fields, max_faces=args.faces, to_original=decoded.to_original, timer=timer)
        t1 = time.perf_counter()
        json.dumps(success(faces))
        timer.add("envelope", time.perf_counter() - t1)
        total = (time.perf_counter() - t0) * 1000
        if i < 2:
            continue
        for k in order:
            rows[k].append(timer.ms.get(k, 0.0))
        rows["face stage"].append(sum(timer.ms.get(k, 0.0) for k in ("detect", "mesh", "regions")))
        rows["fields total"].append(sum(timer.ms.get(k, 0.0) for k in fields))
        rows["total"].append(total)

    print(f"skin-kiosk bench: 1920x1080 JPEG, {args.faces} face(s), fields={','.join(fields) or '-'}, "
          f"{settings.runtime.num_threads} interpreter threads")
    print(percentile_table(rows))
    detect_mesh = np.asarray(rows["detect"]) + np.asarray(rows["mesh"])
    print(f"{'detect+mesh':<16}{np.percentile(detect_mesh, 50):>10.2f}{np.percentile(detect_mesh, 95):>10.2f}")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS: {peak_kib / 1024:.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
