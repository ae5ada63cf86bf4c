"""Injectable clocks: live code gets wall time, tests and backtests get a clock they drive."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def time_ms(self) -> int: ...

    def monotonic(self) -> float: ...


class WallClock:
    """Real time. ``offset_ms`` corrects for measured skew against a venue's server time."""

    def __init__(self, offset_ms: int = 0) -> None:
        self.offset_ms = offset_ms

    def time_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self.offset_ms

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that only moves when told to (tests, backtests in virtual time)."""

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self._now_ms = start_ms

    def time_ms(self) -> int:
        return self._now_ms

    def monotonic(self) -> float:
        return self._now_ms / 1000.0

    def advance(self, ms: int) -> None:
        if ms < 0:
            raise ValueError("a clock cannot go backwards")
        self._now_ms += ms

    def set(self, now_ms: int) -> None:
        if now_ms < self._now_ms:
            raise ValueError("a clock cannot go backwards")
        self._now_ms = now_ms
