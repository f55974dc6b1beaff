"""The skin diary (SQLite) and its transactional outbox. Knows nothing about MQTT: see edge/sync."""

from edge.diary.outbox import Outbox, OutboxMessage, OutboxStats
from edge.diary.store import (
    DiaryStore,
    InvalidPinError,
    PinTakenError,
    Profile,
    UnknownProfileError,
    VisitRecord,
)

__all__ = [
    "DiaryStore",
    "InvalidPinError",
    "Outbox",
    "OutboxMessage",
    "OutboxStats",
    "PinTakenError",
    "Profile",
    "UnknownProfileError",
    "VisitRecord",
]
