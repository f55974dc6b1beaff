"""`models/manifest.yaml`: every model's file, sha256, tensors, meaning, provenance and licence.

A `ModelStore` loads models by manifest name, verifies their hash once per process, and keeps one
interpreter per model for its owner (one store per worker thread: interpreters are not thread-safe).
A trained model with the same named outputs can replace a designed one by editing the manifest entry.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from edge.runtime.interpreter import ModelOptions, TFLiteModel


class ModelError(Exception):
    """A model is missing, unknown to the manifest, or does not match its recorded hash."""


@dataclass(frozen=True)
class ModelEntry:
    name: str
    file: str
    sha256: str
    info: dict[str, Any] = field(default_factory=dict)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_manifest(path: Path) -> dict[str, ModelEntry]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ModelError(f"cannot read model manifest {path}: {exc.strerror}") from exc
    entries: dict[str, ModelEntry] = {}
    for name, info in (data.get("models") or {}).items():
        if not isinstance(info, dict) or "file" not in info or "sha256" not in info:
            raise ModelError(f"manifest entry {name!r} needs at least `file` and `sha256`")
        entries[name] = ModelEntry(name=name, file=str(info["file"]), sha256=str(info["sha256"]).lower(), info=info)
    return entries


_verified: dict[tuple[str, float, int], str] = {}
_verified_lock = threading.Lock()


def verify_file(path: Path, expected_sha256: str) -> None:
    """Raise ModelError unless the file exists and matches; a file is hashed once per process."""
    if not path.exists():
        raise ModelError(f"model file missing: {path} (run scripts/setup.sh)")
    stat = path.stat()
    key = (str(path), stat.st_mtime, stat.st_size)
    with _verified_lock:
        actual = _verified.get(key)
    if actual is None:
        actual = sha256_of(path)
        with _verified_lock:
            _verified[key] = actual
    if actual != expected_sha256:
        raise ModelError(f"model {path.name}: sha256 {actual} does not match manifest {expected_sha256}")


class ModelStore:
    """Creates each model once (on first use) and reuses it. Not thread-safe: one per worker."""

    def __init__(self, models_dir: Path, manifest_path: Path, num_threads: int = 2, verify: bool = True) -> None:
        self.models_dir = Path(models_dir)
        self.entries = load_manifest(manifest_path)
        self.num_threads = num_threads
        self.verify = verify
        self._models: dict[str, TFLiteModel] = {}

    def path_of(self, name: str) -> Path:
        return self.models_dir / self.entry(name).file

    def entry(self, name: str) -> ModelEntry:
        try:
            return self.entries[name]
        except KeyError:
            raise ModelError(f"model {name!r} is not in the manifest") from None

    def get(self, name: str) -> TFLiteModel:
        model = self._models.get(name)
        if model is None:
            entry = self.entry(name)
            path = self.models_dir / entry.file
            if self.verify:
                verify_file(path, entry.sha256)
            model = TFLiteModel.create_from_options(ModelOptions(model_path=path, num_threads=self.num_threads))
            self._models[name] = model
        return model

    def loaded(self) -> list[str]:
        return sorted(self._models)

    def close(self) -> None:
        for model in self._models.values():
            model.close()
        self._models.clear()
