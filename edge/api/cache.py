"""A bounded LRU result cache with a TTL, keyed by sha256(image bytes) + request parameters.

Only successful face lists are stored (errors are never cached). Entries are kept as serialized JSON:
a caller cannot alter a cached result, and the cache is bounded by its size in bytes as well as by
entries (one face with `skinface` images is ~150 kB). `face_token` is never stored: the contract makes
it random per face per request, so a hit gets fresh tokens (and two clients sending the same photo
cannot be linked by it).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

DEFAULT_MAX_BYTES = 32 * 1024 * 1024  # a Pi has memory to spare, but not for a cache of face crops


def parts_digest(parts: Iterable[bytes]) -> bytes:
    """sha256 over several byte strings, each preceded by its length (8 bytes): the same bytes split
    differently between the parts (e.g. a photo and its side photos) give another digest."""
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.digest()


def cache_key(image: bytes, fields: Iterable[str], max_faces: int, extended: bool) -> str:
    digest = hashlib.sha256(image).hexdigest()
    # Field order does not change the result, so it must not change the key.
    return f"{digest}|{','.join(sorted(fields))}|{max_faces}|{int(extended)}"


class ResultCache:
    def __init__(self, max_entries: int, ttl_s: float, clock: Any = time.monotonic,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self.max_bytes = max_bytes
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0 and self.ttl_s > 0 and self.max_bytes > 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def get(self, key: str) -> list[dict[str, Any]] | None:
        if not self.enabled:
            return None
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            stored_at, text = item
            if self._clock() - stored_at > self.ttl_s:
                self._drop(key)
                return None
            self._items.move_to_end(key)
        faces: list[dict[str, Any]] = json.loads(text)
        for face in faces:
            if "face_token" in face:
                face["face_token"] = secrets.token_hex(16)
        return faces

    def put(self, key: str, faces: list[dict[str, Any]]) -> None:
        if not self.enabled:
            return
        text = json.dumps(faces, separators=(",", ":"))
        if len(text) > self.max_bytes:
            return  # larger than the whole cache: not worth evicting everything for
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = (self._clock(), text)
            self._bytes += len(text)
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                self._drop(next(iter(self._items)))

    def _drop(self, key: str) -> None:
        _, text = self._items.pop(key)
        self._bytes -= len(text)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)
