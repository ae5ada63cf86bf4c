"""Seeded synthetic tick streams for exercising strategies (tests, benchmarks, demos).

The mid follows a random walk in units of the tick size with a per-phase drift; quotes arrive
every ~``interval_ms`` (jittered) and public trades print at the touch, with taker side and
top-of-book sizes tilted towards the drift the way real order flow leads a trend. The same seed
always gives the same stream. This is not the exchange simulator's market generator: it produces
domain events directly, without matching or accounts.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from flashscalper.domain import Quote, Side, Trade


@dataclass(frozen=True, slots=True)
class Phase:
    """A stretch of market behaviour.

    ``drift_ticks`` is the mean mid move per quote in ticks (positive: up trend), ``vol_ticks`` the
    standard deviation of the per-quote move, ``spread_ticks`` the quoted spread. With
    ``mean_revert`` the mid is pulled back to where the phase started (a range, no walk).
    """

    duration_ms: int
    drift_ticks: float = 0.0
    vol_ticks: float = 1.0
    spread_ticks: int = 1
    mean_revert: bool = False


def synthetic_ticks(
    phases: Sequence[Phase],
    *,
    seed: int,
    market: str = "ETH-USD-PERP",
    start_price: Decimal = Decimal("2000"),
    tick_size: Decimal = Decimal("0.01"),
    interval_ms: int = 100,
    trade_probability: float = 0.6,
    start_ts: int = 1_700_000_000_000,
) -> Iterator[Quote | Trade]:
    """Yield quotes and trades in timestamp order for the given phases."""
    rng = random.Random(seed)
    center = float(start_price / tick_size)  # mid in ticks
    ts = start_ts
    trade_no = 0
    seq = 0
    for phase in phases:
        end = ts + phase.duration_ms
        anchor = center
        # Order flow leans with the drift: 0.5 with no trend, up to ~0.85 in a strong one.
        lean = max(-0.35, min(0.35, 2.0 * phase.drift_ticks / max(phase.vol_ticks, 1e-9)))
        while ts < end:
            ts += max(1, int(rng.uniform(0.5, 1.5) * interval_ms))
            if phase.mean_revert:
                center = anchor + rng.gauss(0.0, phase.vol_ticks)
            else:
                center += phase.drift_ticks + rng.gauss(0.0, phase.vol_ticks)
            bid_ticks = round(center) - phase.spread_ticks // 2
            ask_ticks = bid_ticks + phase.spread_ticks
            bid = tick_size * bid_ticks
            ask = tick_size * ask_ticks
            bid_size = max(0.05, rng.expovariate(1.0) * (1.0 + lean))
            ask_size = max(0.05, rng.expovariate(1.0) * (1.0 - lean))
            seq += 1
            yield Quote(
                market=market,
                bid=bid,
                bid_size=Decimal(f"{bid_size:.3f}"),
                ask=ask,
                ask_size=Decimal(f"{ask_size:.3f}"),
                ts=ts,
                seq_no=seq,
            )
            if rng.random() < trade_probability:
                trade_no += 1
                buy = rng.random() < 0.5 + lean
                yield Trade(
                    market=market,
                    id=f"t{trade_no}",
                    price=ask if buy else bid,
                    size=Decimal(f"{max(0.001, rng.expovariate(2.0)):.3f}"),
                    taker_side=Side.BUY if buy else Side.SELL,
                    ts=ts,
                )
