"""Incremental price indicators: O(1) work per update, floats inside.

Every indicator is a small object with an ``update(...)`` method that takes the newest value and
returns the current reading, plus a ``ready`` property that turns true once warm-up is over.
Readings before ``ready`` are defined (partial averages, a neutral RSI) but should not be traded on.

Rolling statistics use a sliding-window Welford update and recompute from the window every so often,
so rounding error cannot build up over a long session.
"""

from __future__ import annotations

import math
from collections import deque


def _check_period(name: str, period: int, minimum: int = 1) -> None:
    if not isinstance(period, int) or period < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {period!r}")


class EMA:
    """Exponential moving average, alpha = 2 / (period + 1), seeded with the mean of the first ``period`` values.

    Seeding with a simple average (the classic TA convention) keeps the first readings from being
    dominated by whatever the very first sample happened to be.
    """

    __slots__ = ("_seed_sum", "alpha", "count", "period", "value")

    def __init__(self, period: int) -> None:
        _check_period("EMA period", period)
        self.period = period
        self.alpha = 2.0 / (period + 1.0)
        self.value = math.nan
        self.count = 0
        self._seed_sum = 0.0

    def update(self, x: float) -> float:
        """Add a sample and return the average."""
        n = self.count + 1
        self.count = n
        if n > self.period:
            self.value += self.alpha * (x - self.value)
        else:
            self._seed_sum += x
            self.value = self._seed_sum / n
        return self.value

    @property
    def ready(self) -> bool:
        return self.count >= self.period


class RSI:
    """Relative Strength Index with Wilder smoothing (values 0–100; 50 before warm-up).

    The first average gain/loss is the plain mean of the first ``period`` changes; after that each
    new change is blended in with weight 1/period (Wilder's smoothing).
    """

    __slots__ = ("_avg_gain", "_avg_loss", "_changes", "_prev", "period", "value")

    def __init__(self, period: int = 14) -> None:
        _check_period("RSI period", period)
        self.period = period
        self.value = 50.0
        self._prev = math.nan
        self._changes = 0
        self._avg_gain = 0.0
        self._avg_loss = 0.0

    def update(self, price: float) -> float:
        """Add a price and return the RSI."""
        prev = self._prev
        self._prev = price
        if prev != prev:  # NaN: first price, no change yet
            return self.value
        change = price - prev
        gain = change if change > 0.0 else 0.0
        loss = -change if change < 0.0 else 0.0
        p = self.period
        n = self._changes + 1
        self._changes = n
        if n > p:
            self._avg_gain = (self._avg_gain * (p - 1) + gain) / p
            self._avg_loss = (self._avg_loss * (p - 1) + loss) / p
        else:
            # Running mean of the first p changes; at n == p it is exactly the seed average.
            self._avg_gain += (gain - self._avg_gain) / n
            self._avg_loss += (loss - self._avg_loss) / n
            if n < p:
                return self.value
        avg_loss = self._avg_loss
        if avg_loss == 0.0:
            self.value = 50.0 if self._avg_gain == 0.0 else 100.0
        else:
            self.value = 100.0 - 100.0 / (1.0 + self._avg_gain / avg_loss)
        return self.value

    @property
    def ready(self) -> bool:
        return self._changes >= self.period


class _WilderMean:
    """Wilder average: plain mean of the first ``period`` samples, then (prev * (p-1) + x) / p."""

    __slots__ = ("count", "period", "value")

    def __init__(self, period: int) -> None:
        self.period = period
        self.count = 0
        self.value = math.nan

    def add(self, x: float) -> float:
        n = self.count + 1
        self.count = n
        p = self.period
        if n > p:
            self.value = (self.value * (p - 1) + x) / p
        elif n == 1:
            self.value = x
        else:
            self.value += (x - self.value) / n
        return self.value


class ATR:
    """Average True Range over high/low/close bars, Wilder-smoothed (first bar's range is high - low)."""

    __slots__ = ("_mean", "_prev_close")

    def __init__(self, period: int = 14) -> None:
        _check_period("ATR period", period)
        self._mean = _WilderMean(period)
        self._prev_close = math.nan

    def update(self, high: float, low: float, close: float) -> float:
        """Add a closed bar and return the ATR."""
        prev = self._prev_close
        true_range = high - low
        if prev == prev:  # not NaN
            true_range = max(true_range, abs(high - prev), abs(low - prev))
        self._prev_close = close
        return self._mean.add(true_range)

    @property
    def value(self) -> float:
        return self._mean.value

    @property
    def period(self) -> int:
        return self._mean.period

    @property
    def ready(self) -> bool:
        return self._mean.count >= self._mean.period


class TickATR:
    """Tick-level ATR: Wilder average of the absolute change of a price (usually the mid) between ticks.

    Updates where the price did not move are skipped, so the reading means "a typical move when
    the price moves" and does not shrink just because a venue sends many size-only quotes.
    """

    __slots__ = ("_mean", "_prev")

    def __init__(self, period: int = 14) -> None:
        _check_period("TickATR period", period)
        self._mean = _WilderMean(period)
        self._prev = math.nan

    def update(self, price: float) -> float:
        """Add a price and return the ATR (NaN until the price has moved once)."""
        prev = self._prev
        if price != prev:
            self._prev = price
            if prev == prev:
                move = price - prev
                return self._mean.add(move if move > 0.0 else -move)
        return self._mean.value

    @property
    def value(self) -> float:
        return self._mean.value

    @property
    def period(self) -> int:
        return self._mean.period

    @property
    def ready(self) -> bool:
        return self._mean.count >= self._mean.period


class RollingStats:
    """Mean and variance over the last ``window`` samples, updated in O(1).

    Sliding-window Welford: adding x while dropping the oldest value o moves the mean by
    (x - o) / n and the sum of squared deviations by (x - o) * (x - new_mean + o - old_mean).
    Every ``recompute_every`` replacements the two are recomputed from the window (O(window),
    amortised O(1)) to wipe out accumulated rounding, and also as soon as the sum of squares is no
    longer well above a running bound on its rounding error (right after an outlier leaves the
    window, the sum collapses and its leftover rounding would dwarf the true variance).
    """

    __slots__ = ("_buf", "_err", "_m2", "_since_recompute", "mean", "recompute_every", "window")

    def __init__(self, window: int, recompute_every: int | None = None) -> None:
        _check_period("RollingStats window", window)
        self.window = window
        self.recompute_every = recompute_every if recompute_every is not None else max(window, 1024)
        self._buf: deque[float] = deque()
        self.mean = 0.0
        self._m2 = 0.0
        self._err = 0.0  # sum of step magnitudes since the last recompute (rounding scale of _m2)
        self._since_recompute = 0

    def update(self, x: float) -> float:
        """Add a sample (dropping the oldest once the window is full) and return the mean."""
        buf = self._buf
        n = len(buf)
        if n < self.window:
            buf.append(x)
            n += 1
            delta = x - self.mean
            self.mean += delta / n
            self._m2 += delta * (x - self.mean)
            return self.mean
        old = buf.popleft()
        buf.append(x)
        old_mean = self.mean
        delta = x - old
        new_mean = old_mean + delta / n
        inc = delta * ((x - new_mean) + (old - old_mean))
        m2 = self._m2 + inc
        self._m2 = m2
        self.mean = new_mean
        # Scale of this step's rounding in m2 (in units of ~1 ulp): the increment itself plus the
        # mean's rounding, which follows the level of the data rather than its spread.
        err = self._err + abs(inc) + abs(delta * old_mean)
        self._err = err
        self._since_recompute += 1
        # Recompute on schedule, or once m2 is no longer ~1e6 times above its possible rounding
        # error (typically right after an outlier left the window and cancelled most of it).
        if self._since_recompute >= self.recompute_every or m2 < err * 1e-9:
            self._recompute()
        return self.mean

    def _recompute(self) -> None:
        buf = self._buf
        mean = math.fsum(buf) / len(buf)
        self.mean = mean
        self._m2 = math.fsum((v - mean) * (v - mean) for v in buf)
        self._err = 0.0
        self._since_recompute = 0

    @property
    def count(self) -> int:
        return len(self._buf)

    @property
    def variance(self) -> float:
        """Population variance (ddof=0); never negative."""
        n = len(self._buf)
        if n == 0:
            return 0.0
        m2 = self._m2
        return m2 / n if m2 > 0.0 else 0.0

    @property
    def std(self) -> float:
        """Population standard deviation (ddof=0)."""
        return math.sqrt(self.variance)

    @property
    def ready(self) -> bool:
        return len(self._buf) >= self.window


class Bollinger:
    """Bollinger bands: rolling mean ± ``k`` population standard deviations of the last ``period`` values."""

    __slots__ = ("_stats", "k", "last")

    def __init__(self, period: int = 20, k: float = 2.0) -> None:
        if k <= 0:
            raise ValueError(f"Bollinger k must be positive, got {k!r}")
        self._stats = RollingStats(period)
        self.k = k
        self.last = math.nan

    def update(self, x: float) -> float:
        """Add a value and return the middle band."""
        self.last = x
        return self._stats.update(x)

    @property
    def period(self) -> int:
        return self._stats.window

    @property
    def middle(self) -> float:
        return self._stats.mean

    @property
    def std(self) -> float:
        return self._stats.std

    @property
    def upper(self) -> float:
        return self._stats.mean + self.k * self._stats.std

    @property
    def lower(self) -> float:
        return self._stats.mean - self.k * self._stats.std

    @property
    def bandwidth(self) -> float:
        """Band width relative to the middle band ((upper - lower) / middle)."""
        mid = self._stats.mean
        return 2.0 * self.k * self._stats.std / mid if mid else 0.0

    @property
    def zscore(self) -> float:
        """How many standard deviations the last value sits from the middle (0 when flat)."""
        std = self._stats.std
        return (self.last - self._stats.mean) / std if std > 0.0 else 0.0

    @property
    def ready(self) -> bool:
        return self._stats.ready
