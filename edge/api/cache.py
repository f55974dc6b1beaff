"""A bounded LRU result cache with a TTL, keyed by sha256(image bytes) + request parameters.

Only successful face lists are stored (errors are never cached); copies go in and out, so a caller
cannot alter a cached result.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any


def cache_key(image: bytes, fields: Iterable[str], max_faces: int, extended: bool) -> str:
    digest = hashlib.sha256(image).hexdigest()
    # Field order does not change the result, so it must not change the key.
    return f"{digest}|{','.join(sorted(fields))}|{max_faces}|{int(extended)}"


class ResultCache:
    def __init__(self, max_entries: int, ttl_s: float, clock: Any = time.monotonic) -> None:
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, list[dict[str, Any]]]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0 and self.ttl_s > 0

    def get(self, key: str) -> list[dict[str, Any]] | None:
        if not self.enabled:
            return None
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            stored_at, faces = item
            if self._clock() - stored_at > self.ttl_s:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return copy.deepcopy(faces)

    def put(self, key: str, faces: list[dict[str, Any]]) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._items[key] = (self._clock(), copy.deepcopy(faces))
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
