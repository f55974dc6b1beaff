"""The shop's run-time state: the catalogue in use (replaced atomically) and the take-home reports
(memory only, each behind a random token that lives `shop.report_ttl_s`)."""

from __future__ import annotations

import ipaddress
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from edge.config import ConfigError, Settings, load_admin_key
from edge.shop.catalogue import (
    Catalogue,
    CatalogueError,
    format_of,
    load_catalogue,
    parse_catalogue,
    write_atomically,
)
from edge.shop.report import ReportData, render_pdf

log = logging.getLogger(__name__)

TOKEN_BYTES = 16  # 128 random bits: a link cannot be guessed within its minutes of life
GONE_MEMORY = 4096  # expired/deleted tokens remembered (id only) to answer 410 rather than 404


class CatalogueHolder:
    """The catalogue the shop serves. `replace` validates a whole new file, writes it atomically beside
    the old one, and only then swaps it in; on any error the old catalogue stays, in memory and on disk."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.catalogue.path
        self.currency = settings.catalogue.currency
        self._lock = threading.Lock()
        self.catalogue: Catalogue | None = None
        self.error: str | None = None
        try:
            self.admin_key = load_admin_key(settings.catalogue)
        except ConfigError as exc:  # check-config refuses this; the kiosk still runs without replacement
            log.warning("catalogue replacement disabled: %s", exc)
            self.admin_key = None
        try:
            self.catalogue = load_catalogue(self.path, currency=self.currency)
        except CatalogueError as exc:
            self.error = str(exc)
            log.warning("shop disabled: %s", exc)

    def replace(self, text: str, fmt: str) -> Catalogue:
        """Raises CatalogueError (invalid) or OSError (cannot write); either way nothing changed."""
        expected = format_of(self.path)
        if fmt != expected:
            raise CatalogueError("<upload>", [f"the catalogue file is {self.path.name}: upload it as {expected}"])
        with self._lock:
            fresh = parse_catalogue(text, fmt, self.path.parent, currency=self.currency, source=str(self.path))
            write_atomically(self.path, text)
            self.catalogue, self.error = fresh, None
            return fresh


@dataclass
class Report:
    token: str
    data: ReportData
    html: str
    expires: float  # monotonic
    result_id: str | None
    profile_id: str | None
    generation: int = 0  # the "Delete my data" period it was made in
    _pdf: bytes | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def pdf(self) -> bytes:
        """Drawn on first request (most people only look at the page), then kept with the report."""
        with self._lock:
            if self._pdf is None:
                self._pdf = render_pdf(self.data)
            return self._pdf


class ReportStore:
    """Live reports by token. Expired ones are erased (content dropped) by `purge`, which every call makes
    and the app runs periodically; their token is remembered for a 410."""

    def __init__(self, ttl_s: float, max_reports: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_reports = max_reports
        self._clock = clock
        self._live: OrderedDict[str, Report] = OrderedDict()
        self._gone: OrderedDict[str, None] = OrderedDict()
        self._generation = 0
        self._lock = threading.Lock()

    def new_token(self) -> str:
        return secrets.token_urlsafe(TOKEN_BYTES)

    def add(self, token: str, data: ReportData, html: str, result_id: str | None, profile_id: str | None) -> Report:
        with self._lock:
            report = Report(token, data, html, self._clock() + self.ttl_s, result_id, profile_id, self._generation)
            self._purge_locked()
            while len(self._live) >= self.max_reports:  # the oldest goes first
                old, _ = self._live.popitem(last=False)
                self._forget_locked(old)
            self._live[token] = report
        return report

    def get(self, token: str) -> tuple[Report | None, bool]:
        """(report, gone): the live report, or None with gone=True when it expired or was deleted."""
        with self._lock:
            self._purge_locked()
            report = self._live.get(token)
            return report, report is None and token in self._gone

    def delete_mine(self, profile_id: str | None = None) -> int:
        """"Delete my data" at the kiosk: every report made since the previous "Delete my data" (the
        person at the kiosk cannot be told apart from the one before, so when in doubt erase), and
        every report of this diary profile. Returns how many were deleted."""
        with self._lock:
            doomed = [t for t, r in self._live.items() if r.generation == self._generation
                      or (profile_id and r.profile_id == profile_id)]
            self._generation += 1
            return self._delete_locked(doomed)

    def delete_profile(self, profile_id: str) -> int:
        """A diary deleted: its reports go with it."""
        with self._lock:
            return self._delete_locked([t for t, r in self._live.items() if r.profile_id == profile_id])

    def _delete_locked(self, doomed: list[str]) -> int:
        for token in doomed:
            del self._live[token]
            self._forget_locked(token)
        return len(doomed)

    def purge(self) -> int:
        with self._lock:
            return self._purge_locked()

    def __len__(self) -> int:
        with self._lock:
            return len(self._live)

    def _purge_locked(self) -> int:
        now = self._clock()
        expired = [t for t, r in self._live.items() if r.expires <= now]
        for token in expired:
            del self._live[token]
            self._forget_locked(token)
        return len(expired)

    def _forget_locked(self, token: str) -> None:
        self._gone[token] = None
        while len(self._gone) > GONE_MEMORY:
            self._gone.popitem(last=False)


# A phone on the shop's own network: private LAN ranges (RFC 1918, IPv6 unique local), link-local and
# loopback. Named, not `ip.is_private`, which also admits documentation and benchmark ranges.
LOCAL_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "127.0.0.0/8",
    "fc00::/7", "fe80::/10", "::1/128"))


def is_local_network(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in LOCAL_NETWORKS)


class ShopState:
    def __init__(self, settings: Settings) -> None:
        self.catalogue = CatalogueHolder(settings)
        self.reports = ReportStore(settings.shop.report_ttl_s, settings.shop.max_reports)
