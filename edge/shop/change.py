"""Change since the last visit: each concern's score against the previous visit's, judged against that
concern's measured repeatability.

A change is real only when it exceeds the concern's minimal detectable change (MDC95: the committed
table's, edge/shop/table.py, measured by scripts/concern_repeatability.py on re-rendered real faces):
|now - before| <= MDC95 reads "no real change"; beyond it a higher score is "worse", a lower one
"better" (every concern score grows with severity), with the size of the change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edge.shop.concerns import shown
from edge.shop.vocabulary import CONCERN_LABELS, CONCERNS

NO_REAL_CHANGE, BETTER, WORSE, NOT_COMPARABLE = "no real change", "better", "worse", "not comparable"


@dataclass(frozen=True)
class Change:
    concern: str
    before: float | None
    now: float | None
    mdc: float | None
    verdict: str

    @property
    def delta(self) -> float | None:
        return None if self.before is None or self.now is None else round(self.now - self.before, 1)

    @property
    def text(self) -> str:
        """'worse by 18 (42 -> 60)', 'no real change (within 9)', ..."""
        if self.verdict == NOT_COMPARABLE or self.delta is None:
            return "not measured on both visits"
        span = f"{shown(self.before)} → {shown(self.now)}"
        if self.verdict == NO_REAL_CHANGE:
            return f"no real change ({span}, within ±{shown(self.mdc or 0.0)})"
        return f"{self.verdict} by {shown(abs(self.delta))} ({span})"

    def as_dict(self) -> dict[str, Any]:
        return {"concern": self.concern, "label": CONCERN_LABELS[self.concern], "before": self.before,
                "now": self.now, "delta": self.delta, "mdc95": self.mdc, "verdict": self.verdict,
                "text": self.text}


def verdict(before: float, now: float, mdc: float) -> str:
    delta = round(now - before, 1)  # scores carry one decimal: 30.0 + 0.7 is a change of 0.7, not 0.70000001
    if abs(delta) <= mdc:
        return NO_REAL_CHANGE
    return WORSE if delta > 0 else BETTER


def changes(before: Mapping[str, float], now: Mapping[str, float], mdc: Mapping[str, float]) -> list[Change]:
    """One Change per concern, in the report's order."""
    out = []
    for concern in CONCERNS:
        b, n, m = before.get(concern), now.get(concern), mdc.get(concern)
        if b is None or n is None or m is None:
            out.append(Change(concern, b, n, m, NOT_COMPARABLE))
        else:
            out.append(Change(concern, float(b), float(n), m, verdict(float(b), float(n), m)))
    return out
