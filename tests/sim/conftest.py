"""Fixtures: a simulator on a manual clock with funded accounts, and small order helpers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flashscalper.clock import ManualClock
from flashscalper.sim.engine import SimExchange


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ex(clock: ManualClock) -> SimExchange:
    """An exchange at BTC mark 95000 with three funded traders (alice, bob, carol)."""
    exchange = SimExchange(clock)
    for name in ("alice", "bob", "carol"):
        exchange.create_account(name, Decimal(100_000))
    return exchange
