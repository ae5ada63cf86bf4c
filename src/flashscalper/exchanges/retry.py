"""The retry policy both venue REST clients follow (Paradex and Aster), kept in one place.

Which requests may be resent, and how:
* Reads and cancels (``GET``, ``DELETE``) are idempotent: network errors, timeouts and 5xx are retried with
  full-jitter exponential backoff (a uniform wait in ``[0, min(cap, base·2^attempt)]``), up to
  ``max_retries`` times.
* Order creation changes state, so it is resent after an unclear outcome only when the order carries a
  client id, and only after looking that id up: if the first attempt landed, that order is the answer
  (:func:`create_once`). Other state changes (modify, leverage, margin) are never resent.
* A rate-limit refusal means nothing happened: every request waits for the reset (bounded by
  ``rate_limit_max_wait_s``) and is resent; out of attempts, or told to wait longer, it gives up.

Each venue maps its own error bodies to typed errors; this module decides only *whether* and *when* to
resend. ``sleep`` and ``rng`` are injectable so tests run the waits in virtual time.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import aiohttp

from flashscalper.errors import ExchangeError, ExchangeUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

Sleep = Callable[[float], Awaitable[None]]
IDEMPOTENT_METHODS = frozenset({"GET", "DELETE"})
# what an unanswered request raises: it may or may not have reached the venue
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (aiohttp.ClientError, TimeoutError)


def idempotent(method: str) -> bool:
    """Whether a request with this HTTP method may be resent after an unclear outcome (reads and cancels)."""
    return method in IDEMPOTENT_METHODS


@dataclass(slots=True)
class RetryPolicy:
    """Backoff and rate-limit limits of one client. ``sleep`` None looks ``asyncio.sleep`` up at each wait."""

    max_retries: int = 3
    backoff_base_s: float = 0.1
    backoff_cap_s: float = 2.0
    rate_limit_max_wait_s: float = 10.0
    sleep: Sleep | None = None
    rng: random.Random = field(default_factory=random.Random)

    def backoff_delay(self, attempt: int) -> float:
        """Full jitter: uniform in ``[0, min(cap, base·2^attempt)]`` (spreads resends of many clients apart)."""
        return self.rng.uniform(0, min(self.backoff_cap_s, self.backoff_base_s * 2**attempt))

    async def pause(self, seconds: float) -> None:
        """Wait with the injected sleep."""
        await (self.sleep or asyncio.sleep)(seconds)

    async def backoff(self, attempt: int) -> None:
        """Wait the jittered backoff before resend number ``attempt + 1``."""
        await self.pause(self.backoff_delay(attempt))

    def attempts(self, where: str, *, retry: bool) -> Attempts:
        """A fresh retry budget for one logical request; ``retry`` False allows no resend after failures."""
        return Attempts(self, where, retry)


class Attempts:
    """The retry budget of one logical request. ``count`` is the number of resends made so far."""

    __slots__ = ("_policy", "_retry", "count", "where")

    def __init__(self, policy: RetryPolicy, where: str, retry: bool) -> None:
        self._policy = policy
        self._retry = retry
        self.where = where
        self.count = 0

    @property
    def exhausted(self) -> bool:
        """No further resend may be made (after a failure)."""
        return not self._retry or self.count >= self._policy.max_retries

    async def backoff(self, reason: str) -> bool:
        """After a network error, timeout or 5xx: back off and return True when the request may be resent."""
        if self.exhausted:
            return False
        log.debug("%s: %s, retry %d", self.where, reason, self.count + 1)
        await self._policy.backoff(self.count)
        self.count += 1
        return True

    async def network_error(self, exc: Exception) -> None:
        """After a connection error or timeout: back off for a resend, or raise ``ExchangeUnavailable``."""
        if not await self.backoff(type(exc).__name__):
            raise ExchangeUnavailable(f"{self.where}: {type(exc).__name__} after {self.count + 1} attempt(s)") from exc

    async def wait_rate_limit(self, wait_s: float) -> bool:
        """After a rate-limit refusal: wait ``wait_s`` and return True, unless out of attempts or the wait
        is longer than the cap (the caller then raises ``RateLimited``). Applies to every request."""
        if self.count >= self._policy.max_retries or wait_s > self._policy.rate_limit_max_wait_s:
            return False
        log.debug("%s: rate limited, waiting %.2fs", self.where, wait_s)
        await self._policy.pause(wait_s)
        self.count += 1
        return True


async def create_once(
    policy: RetryPolicy,
    send: Callable[[], Awaitable[T]],
    find: Callable[[], Awaitable[T | None]] | None,
    *,
    is_duplicate: Callable[[ExchangeError], bool],
) -> T:
    """Create an order at most once: ``send`` is resent after an unclear outcome only when ``find`` (the
    lookup by client id) is given, and ``find`` runs before every resend so an order that already landed is
    returned instead of placed again. ``is_duplicate`` recognises the venue's "client id already used" refusal
    of a resend, which also means the first attempt landed."""
    attempts = policy.attempts("create order", retry=find is not None)
    while True:
        try:
            return await send()
        except ExchangeUnavailable:
            if not await attempts.backoff("unclear outcome"):
                raise
            assert find is not None  # a resend budget exists only with a lookup
            landed = await find()
            if landed is not None:
                return landed
        except ExchangeError as exc:
            if attempts.count > 0 and find is not None and is_duplicate(exc):
                landed = await find()
                if landed is not None:
                    return landed
            raise
