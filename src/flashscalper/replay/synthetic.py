"""Seeded synthetic candles (tests, benchmarks, demos): a random walk with volatility regimes."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from decimal import Decimal

from flashscalper.replay.data import Candle

__all__ = ["synthetic_candles"]


def synthetic_candles(count: int, *, seed: int = 7, start_ms: int = 1_704_067_200_000, price: float = 60_000.0,
                      interval_ms: int = 60_000, tick: Decimal = Decimal("0.1")) -> Iterator[Candle]:
    """``count`` candles of ``interval_ms``: a log random walk whose per-candle volatility switches
    between calm (5 bp), normal (12 bp) and wild (30 bp) about every 200 candles. Same seed, same
    candles. Prices are rounded to ``tick``."""
    rng = random.Random(seed)
    vol = 0.0012
    close = price
    for i in range(count):
        if rng.random() < 0.005:
            vol = rng.choice((0.0005, 0.0012, 0.003))
        open_ = close
        close = open_ * math.exp(rng.gauss(0.0, vol))
        high = max(open_, close) * (1 + abs(rng.gauss(0.0, vol * 0.6)))
        low = min(open_, close) * (1 - abs(rng.gauss(0.0, vol * 0.6)))
        o, h, lo, c = (Decimal(round(x / float(tick))) * tick for x in (open_, high, low, close))
        yield Candle(start_ms + i * interval_ms, o, max(h, o, c), min(lo, o, c), c,
                     Decimal(rng.randint(1, 400)) / 10)
