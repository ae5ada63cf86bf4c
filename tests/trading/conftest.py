"""Shared fixtures for trading tests: a few markets with different precision rules, and a clock."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from flashscalper.clock import ManualClock
from flashscalper.domain import Market

# 2024-03-01 10:00:00 UTC — mid-morning, so a few hours pass before the next UTC day
START_MS = int(datetime(2024, 3, 1, 10, 0, tzinfo=UTC).timestamp() * 1000)
HOUR_MS = 3_600_000


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START_MS)


@pytest.fixture
def btc() -> Market:
    return Market(
        symbol="BTC-USD-PERP",
        base="BTC",
        quote="USD",
        tick_size=Decimal("0.1"),
        step_size=Decimal("0.001"),
        min_notional=Decimal(10),
        max_order_size=Decimal(5),
        position_limit=Decimal(10),
        max_leverage=Decimal(50),
    )


@pytest.fixture
def eth() -> Market:
    return Market(
        symbol="ETH-USD-PERP",
        base="ETH",
        quote="USD",
        tick_size=Decimal("0.01"),
        step_size=Decimal("0.01"),
        min_notional=Decimal(100),
        max_leverage=Decimal(5),
    )


@pytest.fixture
def doge() -> Market:
    return Market(
        symbol="DOGEUSDT",
        base="DOGE",
        quote="USDT",
        tick_size=Decimal("0.00001"),
        step_size=Decimal(1),
        min_notional=Decimal(5),
        max_order_size=Decimal(50_000),
    )
