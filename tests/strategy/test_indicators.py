"""Price indicators against plain O(n) recomputations over random series."""

from __future__ import annotations

import math
import random
import statistics
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flashscalper.strategy.indicators import ATR, EMA, RSI, Bollinger, RollingStats, TickATR

prices = st.lists(
    st.floats(min_value=1.0, max_value=100_000.0, allow_nan=False, allow_infinity=False), min_size=1, max_size=300
)


def random_walk(seed: int, n: int, start: float = 2000.0, step: float = 0.5) -> list[float]:
    rng = random.Random(seed)
    out, x = [], start
    for _ in range(n):
        x += rng.gauss(0.0, step)
        out.append(round(x, 2))
    return out


# ---- reference implementations: recompute from the whole history each time --------------------


def ema_reference(xs: list[float], period: int) -> float:
    """Closed form: seed SMA decayed, plus each later sample weighted alpha*(1-alpha)^age."""
    if len(xs) <= period:
        return sum(xs) / len(xs)
    alpha = 2.0 / (period + 1.0)
    seed = sum(xs[:period]) / period
    later = xs[period:]
    k = len(later)
    return seed * (1 - alpha) ** k + sum(alpha * (1 - alpha) ** (k - 1 - i) * x for i, x in enumerate(later))


def wilder_reference(samples: list[float], period: int) -> float:
    avg = sum(samples[:period]) / period
    for s in samples[period:]:
        avg = (avg * (period - 1) + s) / period
    return avg


def rsi_reference(xs: list[float], period: int) -> float:
    changes = [b - a for a, b in pairwise(xs)]
    gain = wilder_reference([max(c, 0.0) for c in changes], period)
    loss = wilder_reference([max(-c, 0.0) for c in changes], period)
    if loss == 0.0:
        return 50.0 if gain == 0.0 else 100.0
    return 100.0 - 100.0 / (1.0 + gain / loss)


# ---- EMA --------------------------------------------------------------------------------------


@given(xs=prices, period=st.integers(1, 40))
def test_ema_matches_closed_form(xs: list[float], period: int) -> None:
    ema = EMA(period)
    for x in xs:
        ema.update(x)
    assert ema.value == pytest.approx(ema_reference(xs, period), rel=1e-9)
    assert ema.ready == (len(xs) >= period)


def test_ema_is_seeded_with_the_simple_average_until_warm() -> None:
    ema = EMA(4)
    assert math.isnan(ema.value) and not ema.ready
    for x, expected in [(10.0, 10.0), (20.0, 15.0), (30.0, 20.0), (40.0, 25.0)]:
        assert ema.update(x) == pytest.approx(expected)
    assert ema.ready
    assert ema.update(50.0) == pytest.approx(25.0 + 0.4 * (50.0 - 25.0))


# ---- RSI --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_rsi_matches_wilder_recomputation_at_every_step(seed: int) -> None:
    xs = random_walk(seed, 400)
    period = 14
    rsi = RSI(period)
    for i, x in enumerate(xs):
        value = rsi.update(x)
        if i >= period:
            assert rsi.ready
            assert value == pytest.approx(rsi_reference(xs[: i + 1], period), abs=1e-9)
        else:
            assert not rsi.ready and value == 50.0


def test_rsi_extremes_and_flat_market() -> None:
    up, down, flat = RSI(5), RSI(5), RSI(5)
    for i in range(20):
        up.update(100.0 + i)
        down.update(100.0 - i)
        flat.update(100.0)
    assert up.value == 100.0
    assert down.value == 0.0
    assert flat.value == 50.0


# ---- ATR --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_bar_atr_matches_true_range_recomputation(seed: int) -> None:
    rng = random.Random(seed)
    bars = []
    close = 100.0
    for _ in range(200):
        open_ = close
        close = open_ + rng.gauss(0, 1)
        high = max(open_, close) + abs(rng.gauss(0, 0.5))
        low = min(open_, close) - abs(rng.gauss(0, 0.5))
        bars.append((high, low, close))
    period = 14
    atr = ATR(period)
    for i, (h, low, c) in enumerate(bars):
        atr.update(h, low, c)
        trs = [bars[0][0] - bars[0][1]] + [
            max(hh - ll, abs(hh - bars[j][2]), abs(ll - bars[j][2])) for j, (hh, ll, _) in enumerate(bars[1 : i + 1])
        ]
        assert atr.ready == (i + 1 >= period)
        if atr.ready:
            assert atr.value == pytest.approx(wilder_reference(trs, period), rel=1e-12)
        else:
            assert atr.value == pytest.approx(sum(trs) / len(trs), rel=1e-12)


def test_atr_counts_gaps_from_previous_close() -> None:
    atr = ATR(1)
    atr.update(10.0, 9.0, 9.5)
    # Gap up: the bar's own range is 1, but the move from the previous close is 3.5.
    assert atr.update(13.0, 12.0, 12.5) == pytest.approx(3.5)


@pytest.mark.parametrize("seed", range(5))
def test_tick_atr_averages_only_actual_moves(seed: int) -> None:
    rng = random.Random(seed)
    xs = [2000.0]
    for _ in range(500):
        # Many size-only updates: the price often repeats.
        xs.append(xs[-1] if rng.random() < 0.5 else xs[-1] + rng.choice([-2, -1, 1, 2, 3]) * 0.01)
    period = 20
    atr = TickATR(period)
    for i, x in enumerate(xs):
        atr.update(x)
        moves = [abs(b - a) for a, b in pairwise(xs[: i + 1]) if b != a]
        assert atr.ready == (len(moves) >= period)
        if atr.ready:
            assert atr.value == pytest.approx(wilder_reference(moves, period), rel=1e-9)


# ---- rolling statistics and Bollinger ---------------------------------------------------------


@settings(max_examples=300)
@given(xs=prices, window=st.integers(1, 50))
def test_rolling_stats_match_statistics_module(xs: list[float], window: int) -> None:
    rs = RollingStats(window, recompute_every=37)
    for i, x in enumerate(xs):
        rs.update(x)
        tail = xs[max(0, i + 1 - window) : i + 1]
        # An O(1) sliding update carries rounding of the values that recently left the window:
        # variance error ~ eps * scale**2, so std error ~ sqrt(eps) * scale (1.5e-8 * scale).
        scale = max(abs(v) for v in xs[max(0, i + 1 - 2 * window) : i + 1])
        assert rs.mean == pytest.approx(statistics.fmean(tail), rel=1e-9, abs=1e-11 * scale)
        assert rs.std == pytest.approx(statistics.pstdev(tail), rel=1e-6, abs=1e-7 * scale)
        assert rs.ready == (len(tail) == window)


def test_rolling_stats_do_not_drift_over_a_long_session() -> None:
    # Large level, small moves: the worst case for sum/sum-of-squares style updates.
    xs = random_walk(7, 200_000, start=65_000.0, step=0.3)
    rs = RollingStats(100)
    for x in xs:
        rs.update(x)
    tail = xs[-100:]
    assert rs.mean == pytest.approx(statistics.fmean(tail), abs=1e-9)
    assert rs.std == pytest.approx(statistics.pstdev(tail), rel=1e-9)


def test_rolling_stats_of_a_constant_are_exactly_flat() -> None:
    rs = RollingStats(10)
    for _ in range(100):
        rs.update(1234.56)
    assert rs.variance == 0.0 and rs.std == 0.0


@pytest.mark.parametrize("seed", range(3))
def test_bollinger_bands_match_recomputation(seed: int) -> None:
    xs = random_walk(seed, 300)
    bb = Bollinger(20, 2.0)
    for i, x in enumerate(xs):
        bb.update(x)
        tail = xs[max(0, i - 19) : i + 1]
        mean, sd = statistics.fmean(tail), statistics.pstdev(tail)
        assert bb.middle == pytest.approx(mean, abs=1e-9)
        assert bb.upper == pytest.approx(mean + 2 * sd, abs=1e-7)
        assert bb.lower == pytest.approx(mean - 2 * sd, abs=1e-7)
        if sd > 0:
            assert bb.zscore == pytest.approx((x - mean) / sd, abs=1e-6)
        assert bb.ready == (i >= 19)


def test_invalid_periods_are_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="EMA period"):
        EMA(0)
    with pytest.raises(ValueError, match="Bollinger k"):
        Bollinger(20, 0.0)
