"""The shared REST retry policy: backoff bounds, who may be resent, rate-limit waits, create-at-most-once."""

from __future__ import annotations

import random

import pytest

from flashscalper.errors import ExchangeError, ExchangeUnavailable, OrderRejected
from flashscalper.exchanges.retry import RetryPolicy, create_once, idempotent


class VirtualSleep:
    """Records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def policy(sleep: VirtualSleep, **kwargs: float) -> RetryPolicy:
    return RetryPolicy(sleep=sleep, rng=random.Random(7), **kwargs)  # type: ignore[arg-type]


def test_backoff_is_full_jitter_under_a_growing_then_capped_ceiling() -> None:
    p = RetryPolicy(backoff_base_s=0.1, backoff_cap_s=2.0, rng=random.Random(1))
    for attempt, ceiling in [(0, 0.1), (1, 0.2), (3, 0.8), (5, 2.0), (12, 2.0)]:
        delays = [p.backoff_delay(attempt) for _ in range(300)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8 and min(delays) < ceiling * 0.2  # spread over the whole range


def test_reads_and_cancels_are_idempotent_state_changes_are_not() -> None:
    assert idempotent("GET") and idempotent("DELETE")
    assert not any(idempotent(m) for m in ("POST", "PUT", "PATCH"))


async def test_failures_back_off_until_the_budget_is_spent() -> None:
    sleep = VirtualSleep()
    attempts = policy(sleep, max_retries=2).attempts("GET /markets", retry=True)
    assert await attempts.backoff("HTTP 503") and await attempts.backoff("TimeoutError")
    assert not await attempts.backoff("HTTP 503")
    assert attempts.count == 2 and len(sleep.waits) == 2


async def test_a_request_that_may_not_be_resent_never_waits() -> None:
    sleep = VirtualSleep()
    attempts = policy(sleep).attempts("PUT /orders/{id}", retry=False)
    assert not await attempts.backoff("HTTP 502")
    assert sleep.waits == [] and attempts.count == 0


async def test_rate_limits_are_waited_out_for_every_request_up_to_the_cap() -> None:
    sleep = VirtualSleep()
    attempts = policy(sleep, max_retries=3, rate_limit_max_wait_s=5.0).attempts("POST /orders", retry=False)
    assert await attempts.wait_rate_limit(1.5)
    assert not await attempts.wait_rate_limit(60.0)  # a long ban is not slept through
    assert await attempts.wait_rate_limit(5.0)
    assert sleep.waits == [1.5, 5.0]


class Venue:
    """An order endpoint whose answers are scripted; a landed order is findable by its client id."""

    def __init__(self, *outcomes: Exception | None, stale_lookups: int = 0) -> None:
        self.outcomes = list(outcomes)
        self.stale_lookups = stale_lookups  # lookups that do not see the order yet
        self.sent = 0
        self.landed: str | None = None
        self.lookups = 0

    async def send(self) -> str:
        self.sent += 1
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is None or getattr(outcome, "landed", False):
            self.landed = f"order-{self.sent}"
        if outcome is not None:
            raise outcome
        assert self.landed is not None
        return self.landed

    async def find(self) -> str | None:
        self.lookups += 1
        return None if self.lookups <= self.stale_lookups else self.landed


def lost_answer() -> ExchangeUnavailable:
    exc = ExchangeUnavailable("POST /orders: TimeoutError")
    exc.landed = True  # type: ignore[attr-defined]  # the venue took it, the answer got lost
    return exc


def is_duplicate(exc: ExchangeError) -> bool:
    return isinstance(exc, OrderRejected) and exc.reason == "DUPLICATED_CLIENT_ID"


async def test_an_order_whose_answer_was_lost_is_found_not_placed_twice() -> None:
    venue, sleep = Venue(lost_answer()), VirtualSleep()
    order = await create_once(policy(sleep), venue.send, venue.find, is_duplicate=is_duplicate)
    assert order == "order-1" and venue.sent == 1 and venue.lookups == 1 and len(sleep.waits) == 1


async def test_an_order_that_never_arrived_is_resent_after_the_lookup() -> None:
    venue = Venue(ExchangeUnavailable("HTTP 503"), ExchangeUnavailable("HTTP 503"))
    order = await create_once(policy(VirtualSleep()), venue.send, venue.find, is_duplicate=is_duplicate)
    assert order == "order-3" and venue.sent == 3 and venue.lookups == 2


async def test_without_a_client_id_an_unclear_outcome_is_never_resent() -> None:
    venue, sleep = Venue(ExchangeUnavailable("HTTP 503")), VirtualSleep()
    with pytest.raises(ExchangeUnavailable):
        await create_once(policy(sleep), venue.send, None, is_duplicate=is_duplicate)
    assert venue.sent == 1 and sleep.waits == []


async def test_a_duplicate_refusal_of_a_resend_returns_the_first_order() -> None:
    venue = Venue(lost_answer(), OrderRejected("taken", reason="DUPLICATED_CLIENT_ID"), stale_lookups=1)
    order = await create_once(policy(VirtualSleep()), venue.send, venue.find, is_duplicate=is_duplicate)
    assert order == "order-1" and venue.sent == 2 and venue.lookups == 2


async def test_other_refusals_propagate_at_once() -> None:
    venue = Venue(OrderRejected("too small", reason="ORDER_SIZE_BELOW_MIN"))
    with pytest.raises(OrderRejected, match="too small"):
        await create_once(policy(VirtualSleep()), venue.send, venue.find, is_duplicate=is_duplicate)
    assert venue.sent == 1 and venue.lookups == 0


async def test_the_budget_ends_with_the_last_unclear_outcome() -> None:
    venue = Venue(*[ExchangeUnavailable("HTTP 503")] * 5)
    with pytest.raises(ExchangeUnavailable):
        await create_once(policy(VirtualSleep(), max_retries=2), venue.send, venue.find, is_duplicate=is_duplicate)
    assert venue.sent == 3 and venue.lookups == 2

