#!/usr/bin/env python3
"""Benchmark the REST API on loopback: N concurrent clients posting the demo photo.

Starts `skin-kiosk serve` (API only) on a free 127.0.0.1 port in a subprocess (cache off, so every request is
analysed; pool size from --workers/--queue-size), then runs two phases of --seconds each:

  1. "within capacity": as many clients as the pool admits (workers + queue_size): throughput, p50/p99;
  2. "overload": --overload x that many clients: admitted requests keep their latency, the rest get
     503 BUSY (with Retry-After) quickly instead of waiting -- the point of the bounded queue.

    scripts/bench_api.py [--seconds 10] [--workers 2] [--queue-size 4] [--overload 4] [--fields LIST]
    scripts/bench_api.py --url http://127.0.0.1:8080 --clients 8   # an already running server

With --tier basic|advanced|pro, one client instead alternates a request to the seed endpoint with every
field and one to that vendor tier (Pro: every map and mark), --requests of each, and prints both
latencies and their ratio, measured in the same run. The server's resident memory (now and peak, from
/proc) is printed after every phase when the bench started the server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "data" / "demo" / "astronaut.jpg"
ANALYZE = "/face/effect/skin_analyze"
TIER_PATHS = {"basic": "/api/portrait/analysis/skin-analysis",
              "advanced": "/api/portrait/analysis/skin-analysis-advanced",
              "pro": "/api/portrait/analysis/skin-analysis-pro"}
ALL_FIELDS = "color,smooth,acnespotmole,wrinkle,eyesattr,blackheadpore,skinface,skinquality"
START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 60.0


@dataclass
class Phase:
    name: str
    clients: int
    ok_ms: list[float] = field(default_factory=list)
    busy_ms: list[float] = field(default_factory=list)
    other: dict[int, int] = field(default_factory=dict)
    timeouts: int = 0
    seconds: float = 0.0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


async def client(base: str, photo: bytes, fields: str, until: float, phase: Phase, backoff_s: float) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_S) as http:
        while time.monotonic() < until:
            t0 = time.perf_counter()
            try:
                r = await http.post(ANALYZE, files={"image": ("a.jpg", photo, "image/jpeg")},
                                    data={"face_field": fields} if fields else None)
            except httpx.TimeoutException:
                phase.timeouts += 1
                continue
            ms = (time.perf_counter() - t0) * 1000
            code = r.json().get("error_code", -1)
            if code == 0:
                phase.ok_ms.append(ms)
            elif code == 1203:
                phase.busy_ms.append(ms)
                # A polite client honours Retry-After; the bench only backs off a little (--busy-backoff)
                # so it keeps the queue full and measures how fast refusals are.
                await asyncio.sleep(backoff_s)
            else:
                phase.other[code] = phase.other.get(code, 0) + 1


async def run_phase(base: str, photo: bytes, fields: str, phase: Phase, seconds: float,
                    backoff_s: float = 0.05) -> Phase:
    t0 = time.monotonic()
    until = t0 + seconds
    await asyncio.gather(*(client(base, photo, fields, until, phase, backoff_s) for _ in range(phase.clients)))
    phase.seconds = time.monotonic() - t0
    return phase


def report(phase: Phase) -> None:
    ok, busy = phase.ok_ms, phase.busy_ms
    print(f"\n{phase.name}: {phase.clients} concurrent clients, {phase.seconds:.1f} s")
    print(f"  200 OK   : {len(ok):5d}  throughput {len(ok) / phase.seconds:6.1f} req/s   "
          f"p50 {pct(ok, 50):7.1f} ms  p99 {pct(ok, 99):7.1f} ms  max {max(ok, default=float('nan')):7.1f} ms")
    if busy:
        print(f"  503 BUSY : {len(busy):5d}  {len(busy) / phase.seconds:6.1f} req/s              "
              f"p50 {pct(busy, 50):7.1f} ms  p99 {pct(busy, 99):7.1f} ms  max {max(busy):7.1f} ms")
    if phase.other:
        print(f"  other error codes: {phase.other}")
    print(f"  client timeouts: {phase.timeouts}")


def server_rss_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of the server process, MB, from /proc (Linux)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan"), float("nan")
    kb = {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines() if line.startswith(("VmRSS", "VmHWM"))}
    return kb.get("VmRSS", 0) / 1024, kb.get("VmHWM", 0) / 1024


def print_rss(proc: subprocess.Popen[bytes] | None, label: str) -> None:
    if proc is not None:
        now, peak = server_rss_mb(proc.pid)
        print(f"  server RSS after {label}: {now:.0f} MB (peak {peak:.0f} MB)")


def tier_params(tier: str) -> dict[str, str]:
    if tier != "pro":
        return {"return_maps": "red_area", "return_rect_confidence": "1"} if tier == "advanced" else {}
    sys.path.insert(0, str(ROOT))
    from edge.formats.ailab_maps import FRONT_MAPS
    from edge.formats.ailab_pro import MARK_TOKENS, WRINKLE_LIST_TOKENS

    return {"return_maps": ",".join(FRONT_MAPS), "return_marks": ",".join(MARK_TOKENS + WRINKLE_LIST_TOKENS)}


def compare_tier(base: str, photo: bytes, tier: str, requests: int, key: str | None) -> None:
    """Seed endpoint (every field) and `tier`, alternated, one client: p50/p99 and the ratio."""
    headers = {"ailabapi-api-key": key} if key else {}
    times: dict[str, list[float]] = {"seed (all fields)": [], f"{tier} (vendor)": []}
    sizes: dict[str, int] = {}
    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT_S, headers=headers) as http:
        for i in range(requests + 1):  # the first pair warms both paths up and is not counted
            for name, path, data in (("seed (all fields)", ANALYZE, {"face_field": ALL_FIELDS}),
                                     (f"{tier} (vendor)", TIER_PATHS[tier], tier_params(tier))):
                t0 = time.perf_counter()
                r = http.post(path, files={"image": ("a.jpg", photo, "image/jpeg")}, data=data)
                ms = (time.perf_counter() - t0) * 1000
                if r.status_code != 200 or r.json().get("error_code") != 0:
                    raise SystemExit(f"{path}: HTTP {r.status_code} {r.text[:200]}")
                if i:
                    times[name].append(ms)
                sizes[name] = len(r.content)
    print(f"\n{'endpoint':22s} {'n':>4s} {'p50 ms':>8s} {'p99 ms':>8s} {'response kB':>12s}")
    for name, ms in times.items():
        print(f"{name:22s} {len(ms):4d} {pct(ms, 50):8.1f} {pct(ms, 99):8.1f} {sizes[name] / 1024:12.1f}")
    seed_ms, tier_ms = times.values()
    print(f"{tier} / seed p50 ratio: {pct(tier_ms, 50) / pct(seed_ms, 50):.2f}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "SKIN_KIOSK_API__WORKERS": str(args.workers),
           "SKIN_KIOSK_API__QUEUE_SIZE": str(args.queue_size), "SKIN_KIOSK_API__CACHE_SIZE": "0",
           "SKIN_KIOSK_RUNTIME__NUM_THREADS": str(args.threads),
           "SKIN_KIOSK_CAPTURE__ENABLED": "false"}  # API only: the demo capture daemon would share the cores
    proc = subprocess.Popen([sys.executable, "-m", "edge.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not become ready")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="bench this running server instead of starting one")
    parser.add_argument("--clients", type=int, help="clients in phase 1 (default: workers + queue_size)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--queue-size", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="TFLite threads per worker")
    parser.add_argument("--overload", type=float, default=4.0, help="phase 2 clients = this x phase 1 clients")
    parser.add_argument("--busy-backoff", type=float, default=0.05, help="seconds a client waits after a 503")
    parser.add_argument("--fields", default="", help="face_field for every request (default: location only)")
    parser.add_argument("--tier", choices=sorted(TIER_PATHS), help="compare this vendor tier with the seed endpoint")
    parser.add_argument("--requests", type=int, default=20, help="with --tier: requests to each endpoint")
    parser.add_argument("--photo", type=Path, default=PHOTO, help="JPEG to post (default: the demo photo)")
    parser.add_argument("--key", help="API key to send (servers with keys configured)")
    args = parser.parse_args()
    photo = args.photo.read_bytes()
    proc = None
    if args.url:
        base = args.url.rstrip("/")
    else:
        proc, base = start_server(args)
    try:
        print_rss(proc, "start-up")
        if args.tier:
            print(f"bench_api: seed endpoint vs {args.tier}, photo {args.photo.name} ({len(photo)} bytes), "
                  f"workers={args.workers} (cache off)")
            compare_tier(base, photo, args.tier, args.requests, args.key)
            print_rss(proc, f"{args.requests} requests to each")
            return 0
        capacity = args.clients or args.workers + args.queue_size
        print(f"bench_api: {base}{ANALYZE}, photo {args.photo.name} ({len(photo)} bytes), fields={args.fields or '-'}, "
              f"workers={args.workers} queue_size={args.queue_size} (cache off)")
        asyncio.run(run_phase(base, photo, args.fields, Phase("warm-up", 1), 1.0))
        phase = asyncio.run(run_phase(base, photo, args.fields, Phase("within capacity", capacity), args.seconds))
        report(phase)
        print_rss(proc, "within capacity")
        over = max(capacity + 1, round(capacity * args.overload))
        report(asyncio.run(run_phase(base, photo, args.fields, Phase("overload", over), args.seconds, args.busy_backoff)))
        print_rss(proc, "overload")
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
