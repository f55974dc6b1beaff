#!/usr/bin/env python3
"""Fetch the face models out of the Apache-2.0 mediapipe wheel and verify them.

`pip download --no-deps mediapipe==0.10.14` (the .tflite files are identical in every platform's
wheel), extract the members named in models/manifest.yaml, check each sha256, save the licence.
Idempotent: files already present with the right hash are left alone. Fetched files are gitignored.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edge.runtime.manifest import load_manifest, sha256_of  # noqa: E402

PACKAGE = "mediapipe==0.10.14"
LICENSE_MEMBER = "mediapipe-0.10.14.dist-info/LICENSE"
# mediapipe 0.10.14 has wheels for CPython 3.8-3.12; on newer Pythons ask for a 3.11 wheel explicitly.
FALLBACK_WHEEL_ARGS = ["--python-version", "3.11", "--platform", "manylinux_2_17_x86_64", "--only-binary=:all:"]


def download_wheel(dest: Path) -> Path:
    existing = sorted(dest.glob("mediapipe-0.10.14-*.whl"))
    if existing:
        return existing[0]
    base = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-d", str(dest), PACKAGE]
    for extra in ([], FALLBACK_WHEEL_ARGS):
        proc = subprocess.run(base + extra, capture_output=True, text=True)
        wheels = sorted(dest.glob("mediapipe-0.10.14-*.whl"))
        if proc.returncode == 0 and wheels:
            return wheels[0]
    raise SystemExit(f"could not download {PACKAGE}:\n{proc.stdout}\n{proc.stderr}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models")
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "skin-kiosk")
    args = parser.parse_args(argv)

    entries = {n: e for n, e in load_manifest(args.models_dir / "manifest.yaml").items() if e.info.get("fetched")}
    missing = [e for e in entries.values() if not ((args.models_dir / e.file).exists() and sha256_of(args.models_dir / e.file) == e.sha256)]
    license_path = args.models_dir / "LICENSE.mediapipe.txt"
    if not missing and license_path.exists():
        print(f"fetch_models: {len(entries)} face models present and verified")
        return 0

    args.cache.mkdir(parents=True, exist_ok=True)
    wheel = download_wheel(args.cache)
    with zipfile.ZipFile(wheel) as zf:
        for entry in entries.values():
            member = entry.info["source"]["member"]
            target = args.models_dir / entry.file
            with tempfile.NamedTemporaryFile(dir=args.models_dir, delete=False) as tmp:
                tmp.write(zf.read(member))
            tmp_path = Path(tmp.name)
            actual = sha256_of(tmp_path)
            if actual != entry.sha256:
                tmp_path.unlink()
                raise SystemExit(f"{member}: sha256 {actual} != manifest {entry.sha256}; refusing it")
            tmp_path.replace(target)
            print(f"fetch_models: {entry.file} ok ({target.stat().st_size} bytes, sha256 verified)")
        license_path.write_bytes(zf.read(LICENSE_MEMBER))
    print(f"fetch_models: licence (Apache-2.0) saved to {license_path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
