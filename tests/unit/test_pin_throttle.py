"""Failed-PIN throttling: per-client and global sliding windows, exponential lockout, no reset by success."""

from __future__ import annotations

import pytest

from edge.api.auth import RateLimitedError
from edge.api.pin_throttle import PinThrottle


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_lockout_after_the_client_bound_and_it_doubles() -> None:
    clock = Clock()
    throttle = PinThrottle(client_max=3, global_max=100, window_s=60, base_lockout_s=10, clock=clock)
    for _ in range(3):
        throttle.check("127.0.0.1")
        throttle.failure("127.0.0.1")
    with pytest.raises(RateLimitedError) as exc:
        throttle.check("127.0.0.1")
    assert exc.value.retry_after_s == pytest.approx(10)
    throttle.check("10.0.0.9")  # another client is not locked by this one
    clock.t += 10.5
    throttle.check("127.0.0.1")
    for _ in range(3):
        throttle.failure("127.0.0.1")
    with pytest.raises(RateLimitedError) as exc:
        throttle.check("127.0.0.1")
    assert exc.value.retry_after_s == pytest.approx(20)  # second lockout: doubled


def test_global_bound_stops_rotating_clients_and_failures_expire() -> None:
    clock = Clock()
    throttle = PinThrottle(client_max=100, global_max=4, window_s=60, base_lockout_s=10, clock=clock)
    for i in range(3):
        throttle.failure(f"10.0.0.{i}")
    clock.t += 61  # outside the window: forgotten
    for i in range(3):
        throttle.failure(f"10.0.1.{i}")
    throttle.check("10.0.2.1")
    throttle.failure("10.0.2.2")
    with pytest.raises(RateLimitedError):
        throttle.check("10.0.3.3")  # a fresh address is locked out too


def test_brute_force_of_a_million_pins_is_hopeless() -> None:
    """An attacker retrying as soon as Retry-After allows gets only a few dozen guesses a day."""
    clock = Clock()
    throttle = PinThrottle(clock=clock)
    guesses, start = 0, clock.t
    while clock.t - start < 86400:
        try:
            throttle.check("127.0.0.1")
        except RateLimitedError as exc:
            clock.t += exc.retry_after_s
            continue
        throttle.failure("127.0.0.1")
        guesses += 1
        clock.t += 0.05
    assert guesses < 200  # vs 10**6 six-digit PINs
