"""The shop's run-time state: the catalogue in use (replaced atomically), the committed concern table and
the report template (read here and handed to edge/shop, which reads no file but the catalogue), and the
take-home reports (memory only, each behind a random token that lives `shop.report_ttl_s`)."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Template, TemplateError

from edge.config import ConfigError, Settings, load_admin_key
from edge.shop.catalogue import (
    Catalogue,
    CatalogueError,
    format_of,
    load_catalogue,
    parse_catalogue,
)
from edge.shop.report import TEMPLATE_FILE, ReportData, compile_template, render_pdf
from edge.shop.table import TABLE_NAME, ConcernTable, TableError, parse_table

log = logging.getLogger(__name__)

TOKEN_BYTES = 16  # 128 random bits: a link cannot be guessed within its minutes of life
GONE_MEMORY = 4096  # expired/deleted tokens remembered (id only) to answer 410 rather than 404
CONCERN_TABLE = Path(TEMPLATE_FILE).parent.parent / TABLE_NAME  # edge/shop/concern_table.json, committed


def load_concern_table(path: Path = CONCERN_TABLE) -> ConcernTable:
    """The committed concern table (full scales, MDC95, scores version); TableError if unusable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TableError(f"cannot read {path}: {exc}") from None
    return parse_table(data)


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a reader sees the old file or the new one, never half of it:
    a temp file in the same folder, flushed to disk, renamed over the old name."""
    path = Path(path)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temp, "x", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    try:  # the rename itself must survive a power cut
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


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
        except Exception as exc:  # a reader's own bug must not stop the kiosk: the shop alone is off
            self.error = f"cannot read the catalogue {self.path}:\n  {type(exc).__name__}: {exc}"
            log.exception("shop disabled: cannot read the catalogue %s", self.path)

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


# What the kiosk page and check-config say when a take-home link could not be opened by a phone.
REPORT_LINK_NOTE = ("Take-home links need shop.report_base_url: set it to this kiosk's address on the shop's "
                    "network (e.g. http://192.168.1.20:8080) and bind api.host there, which needs an API key.")


def report_link_base(settings: Settings, page_base: str) -> str:
    """Where a take-home link starts: shop.report_base_url, else the address the page was loaded from."""
    return (settings.shop.report_base_url or page_base).rstrip("/")


def loopback_only(url: str) -> bool:
    """True when `url`'s host is this device alone (127.0.0.0/8, ::1, localhost): a phone cannot open it.
    Other names are not resolved: they may well name this kiosk on the shop's network."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
    """The catalogue, the concern table and the report template, each read once here; a missing or broken
    one disables the shop (503 saying why), never the kiosk."""

    def __init__(self, settings: Settings, table_path: Path = CONCERN_TABLE) -> None:
        self.catalogue = CatalogueHolder(settings)
        self.reports = ReportStore(settings.shop.report_ttl_s, settings.shop.max_reports)
        self.table: ConcernTable | None = None
        self.table_error: str | None = None
        try:
            self.table = load_concern_table(table_path)
        except TableError as exc:
            self.table_error = f"concern table: {exc}"
            log.warning("shop disabled: %s", self.table_error)
        self.template: Template | None = None
        try:
            self.template = compile_template(TEMPLATE_FILE.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, TemplateError) as exc:
            log.warning("take-home reports disabled: cannot read %s: %s", TEMPLATE_FILE, exc)
