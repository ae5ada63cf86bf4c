"""Microstructure indicators against plain recomputations, with event-time windows."""

from __future__ import annotations

import math
import random
import statistics
from decimal import Decimal
from itertools import pairwise

import pytest

from flashscalper.domain import BookLevel, BookUpdate, Quote, Side, Trade
from flashscalper.strategy.microstructure import (
    OrderBookImbalance,
    RollingVWAP,
    SpreadMonitor,
    TradeFlowDelta,
    VolatilityRegime,
    VolRegime,
)

T0 = 1_700_000_000_000


def random_prints(seed: int, n: int) -> list[tuple[int, float, float, Side]]:
    """(ts, price, size, taker side) with irregular gaps, including bursts at the same millisecond."""
    rng = random.Random(seed)
    ts, price, out = T0, 2000.0, []
    for _ in range(n):
        ts += rng.choice([0, 0, 1, 5, 40, 120, 900, 2500])
        price += rng.gauss(0, 0.3)
        out.append((ts, round(price, 2), round(rng.expovariate(1.0) + 0.001, 3), rng.choice([Side.BUY, Side.SELL])))
    return out


# ---- VWAP -------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_time_window_vwap_matches_recomputation(seed: int) -> None:
    prints = random_prints(seed, 600)
    window = 3_000
    vwap = RollingVWAP(window_ms=window)
    for i, (ts, price, size, _) in enumerate(prints):
        value = vwap.update(price, size, ts)
        live = [(p, s) for (t, p, s, _) in prints[: i + 1] if t > ts - window]
        expected = math.fsum(p * s for p, s in live) / math.fsum(s for _, s in live)
        assert value == pytest.approx(expected, rel=1e-12)
        assert vwap.count == len(live)
        assert vwap.ready == (ts - prints[0][0] >= window)


@pytest.mark.parametrize("seed", range(4))
def test_count_window_vwap_matches_recomputation(seed: int) -> None:
    prints = random_prints(seed, 400)
    vwap = RollingVWAP(window_count=25)
    for i, (ts, price, size, _) in enumerate(prints):
        vwap.update(price, size, ts)
        live = prints[max(0, i - 24) : i + 1]
        expected = math.fsum(p * s for _, p, s, _ in live) / math.fsum(s for _, _, s, _ in live)
        assert vwap.value == pytest.approx(expected, rel=1e-12)
        assert vwap.ready == (i >= 24)


def test_vwap_window_expires_on_event_time_without_new_trades() -> None:
    vwap = RollingVWAP(window_ms=1_000)
    vwap.update(100.0, 1.0, T0)
    vwap.update(110.0, 3.0, T0 + 500)
    assert vwap.value == pytest.approx(107.5)
    assert vwap.advance(T0 + 1_000) == pytest.approx(110.0)  # the first print is exactly 1 s old: gone
    assert vwap.ready
    assert math.isnan(vwap.advance(T0 + 1_500))
    assert vwap.volume == 0.0


def test_vwap_needs_exactly_one_kind_of_window() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        RollingVWAP()
    with pytest.raises(ValueError, match="exactly one"):
        RollingVWAP(window_ms=1000, window_count=10)


# ---- trade flow -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_trade_flow_delta_matches_recomputation(seed: int) -> None:
    prints = random_prints(seed, 800)
    window = 5_000
    flow = TradeFlowDelta(window)
    for i, (ts, price, size, side) in enumerate(prints):
        trade = Trade("BTC-USD-PERP", str(i), Decimal(str(price)), Decimal(str(size)), side, ts)
        flow.update_trade(trade)
        live = [(s, sd) for (t, _, s, sd) in prints[: i + 1] if t > ts - window]
        buys = math.fsum(s for s, sd in live if sd is Side.BUY)
        sells = math.fsum(s for s, sd in live if sd is Side.SELL)
        assert flow.delta == pytest.approx(buys - sells, abs=1e-9)
        assert flow.ratio == pytest.approx((buys - sells) / (buys + sells), abs=1e-9)
        assert flow.trade_count == len(live)


def test_trade_flow_forgets_old_prints_when_time_moves_on() -> None:
    flow = TradeFlowDelta(window_ms=2_000)
    flow.update(5.0, Side.BUY, T0)
    flow.update(1.0, Side.SELL, T0 + 1_500)
    assert flow.delta == pytest.approx(4.0)
    assert not flow.ready
    assert flow.advance(T0 + 2_000) == pytest.approx(-1.0)
    assert flow.ready
    assert flow.ratio == pytest.approx(-1.0)
    flow.advance(T0 + 4_000)
    assert flow.trade_count == 0 and flow.ratio == 0.0


def test_trade_flow_treats_a_late_timestamp_as_now() -> None:
    flow = TradeFlowDelta(window_ms=1_000)
    flow.update(1.0, Side.BUY, T0 + 5_000)
    flow.update(2.0, Side.BUY, T0 + 4_000)  # out of order: stamped with the latest time seen
    flow.advance(T0 + 5_500)
    assert flow.buy_volume == pytest.approx(3.0)


# ---- order book imbalance and spread ----------------------------------------------------------


def book(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> BookUpdate:
    def levels(rows: list[tuple[str, str]]) -> tuple[BookLevel, ...]:
        return tuple(BookLevel(Decimal(p), Decimal(s)) for p, s in rows)

    return BookUpdate("ETH-USD-PERP", levels(bids), levels(asks), ts=T0)


def test_book_imbalance_uses_only_the_top_levels() -> None:
    imb = OrderBookImbalance(levels=2)
    assert not imb.ready
    value = imb.update_book(book([("99", "3"), ("98", "1"), ("97", "100")], [("101", "1"), ("102", "1")]))
    assert value == pytest.approx((4 - 2) / (4 + 2))
    assert imb.ready


def test_book_imbalance_with_decay_weights_the_touch_more() -> None:
    rng = random.Random(3)
    imb = OrderBookImbalance(levels=5, decay=0.5)
    for _ in range(50):
        bids = [(str(100 - i), f"{rng.uniform(0.1, 5):.3f}") for i in range(rng.randint(0, 8))]
        asks = [(str(101 + i), f"{rng.uniform(0.1, 5):.3f}") for i in range(rng.randint(0, 8))]
        b = sum(float(s) * 0.5**i for i, (_, s) in enumerate(bids[:5]))
        a = sum(float(s) * 0.5**i for i, (_, s) in enumerate(asks[:5]))
        expected = (b - a) / (b + a) if b + a > 0 else 0.0
        assert imb.update_book(book(bids, asks)) == pytest.approx(expected, abs=1e-12)


def test_quote_imbalance_and_spread() -> None:
    q = Quote("ETH-USD-PERP", Decimal("1999.99"), Decimal("3"), Decimal("2000.01"), Decimal("1"), ts=T0)
    assert OrderBookImbalance(1).update_quote(q) == pytest.approx(0.5)
    spread = SpreadMonitor(period=3)
    spread.update(float(q.bid), float(q.ask))
    assert spread.spread == pytest.approx(0.02)
    assert spread.bps == pytest.approx(0.02 / 2000.0 * 1e4)
    assert not spread.ready
    spread.update(1999.98, 2000.02)
    spread.update(1999.97, 2000.03)
    assert spread.ready
    assert spread.average == pytest.approx((0.02 + 0.04 + 0.06) / 3)


# ---- volatility regime ------------------------------------------------------------------------


def regime_reference(
    xs: list[float], short: int, long: int, low: float, high: float
) -> dict[int, tuple[float, VolRegime]]:
    """For every price index past warm-up: (ratio, regime) from plain window variances and a seeded EMA."""
    rets = [math.log(b / a) for a, b in pairwise(xs)]
    variances = [statistics.pvariance(rets[k + 1 - short : k + 1]) for k in range(short - 1, len(rets))]
    alpha = 2.0 / (long + 1.0)
    out = {}
    avg = statistics.fmean(variances[:long])
    for j in range(long - 1, len(variances)):
        if j >= long:
            avg = alpha * variances[j] + (1 - alpha) * avg
        ratio = math.sqrt(variances[j] / avg) if avg > 0.0 else 0.0
        regime = VolRegime.LOW if avg == 0.0 or ratio < low else VolRegime.HIGH if ratio > high else VolRegime.NORMAL
        out[j + short] = (ratio, regime)  # variance j covers returns up to j + short - 1, i.e. price j + short
    return out


@pytest.mark.parametrize("seed", range(3))
def test_volatility_regime_matches_recomputation(seed: int) -> None:
    rng = random.Random(seed)
    xs, x = [], 2000.0
    for i in range(900):
        step = 0.05 if (i // 150) % 3 == 0 else 0.6 if (i // 150) % 3 == 1 else 0.2  # quiet, wild, normal
        x *= math.exp(rng.gauss(0, step) * 1e-3)
        xs.append(x)
    short, long = 20, 100
    vol = VolatilityRegime(short_window=short, long_window=long, low_ratio=0.5, high_ratio=1.8)
    reference = regime_reference(xs, short, long, 0.5, 1.8)
    seen = set()
    for i, price in enumerate(xs):
        regime = vol.update(price)
        assert vol.ready == (i in reference)
        if vol.ready:
            ratio, expected = reference[i]
            assert vol.ratio == pytest.approx(ratio, rel=1e-6)
            if abs(ratio - 0.5) > 1e-6 and abs(ratio - 1.8) > 1e-6:
                assert regime is expected
            seen.add(regime)
    assert seen == {VolRegime.LOW, VolRegime.NORMAL, VolRegime.HIGH}


def test_a_market_that_never_moves_is_low_volatility() -> None:
    vol = VolatilityRegime(short_window=5, long_window=20)
    for _ in range(50):
        vol.update(2000.0)
    assert vol.ready and vol.regime is VolRegime.LOW and vol.long_vol == 0.0


def test_volatility_regime_ignores_non_positive_prices() -> None:
    clean, noisy = VolatilityRegime(5, 20), VolatilityRegime(5, 20)
    rng = random.Random(4)
    for _ in range(60):
        price = 2000.0 + rng.gauss(0, 1)
        clean.update(price)
        noisy.update(price)
        noisy.update(0.0)  # a one-sided book has no usable mid
    assert noisy.ratio == clean.ratio and noisy.regime is clean.regime
