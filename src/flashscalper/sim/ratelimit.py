"""Continuously refilled token buckets, as Paradex and Aster limit requests."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flashscalper.clock import Clock


@dataclass(slots=True)
class BucketState:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int  # unix seconds when the bucket is full again
    window_s: int
    retry_after_s: float


class TokenBucket:
    """``capacity`` requests per ``window_s`` seconds, refilled continuously (no fixed cooldown)."""

    def __init__(self, capacity: int, window_s: float, clock: Clock) -> None:
        if capacity <= 0 or window_s <= 0:
            raise ValueError("a token bucket needs a positive capacity and window")
        self.capacity = capacity
        self.window_s = window_s
        self._rate = capacity / window_s
        self._clock = clock
        self._tokens = float(capacity)
        self._last = clock.monotonic()

    def take(self, cost: float = 1.0) -> BucketState:
        now = self._clock.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self._rate)
        self._last = now
        allowed = self._tokens >= cost
        if allowed:
            self._tokens -= cost
        missing = self.capacity - self._tokens
        wall_s = self._clock.time_ms() / 1000
        retry_after = 0.0 if allowed else (cost - self._tokens) / self._rate
        return BucketState(
            allowed=allowed,
            limit=self.capacity,
            remaining=max(0, int(self._tokens)),
            reset_s=math.ceil(wall_s + missing / self._rate),
            window_s=math.ceil(self.window_s),
            retry_after_s=retry_after,
        )


class RateLimiter:
    """Buckets keyed by (scope, key), created on first use from a table of limits."""

    def __init__(self, limits: dict[str, tuple[int, float]], clock: Clock) -> None:
        self._limits = dict(limits)
        self._clock = clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    def take(self, scope: str, key: str, cost: float = 1.0) -> BucketState:
        bucket = self._buckets.get((scope, key))
        if bucket is None:
            capacity, window = self._limits[scope]
            bucket = self._buckets[(scope, key)] = TokenBucket(capacity, window, self._clock)
        return bucket.take(cost)

    def set_limit(self, scope: str, capacity: int, window_s: float) -> None:
        """Change a scope's limit (fault injection); existing buckets start afresh."""
        self._limits[scope] = (capacity, window_s)
        for bucket_key in [k for k in self._buckets if k[0] == scope]:
            del self._buckets[bucket_key]
