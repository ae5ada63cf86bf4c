"""Market-microstructure indicators: VWAP, book imbalance, trade flow, spread and volatility regime.

Time windows are measured in event time: every update carries the event's own timestamp (integer
milliseconds from the venue), never the wall clock, so live trading, replays and backtests see the
same readings. Timestamps that go backwards (out-of-order events) are treated as "now".
"""

from __future__ import annotations

import math
from collections import deque
from enum import StrEnum

from flashscalper.domain import BookLevel, BookUpdate, Quote, Side, Trade
from flashscalper.strategy.indicators import EMA, RollingStats


class _WindowedSums:
    """Two running sums over a window of (ts, a, b) entries, by time (``window_ms``) or by count.

    Sums are updated by add/subtract and recomputed from the window after as many removals as the
    window holds (amortised O(1)), so float drift stays bounded in long sessions.
    """

    __slots__ = ("_buf", "_removed", "first_ts", "now", "sum_a", "sum_b", "window_count", "window_ms")

    def __init__(self, window_ms: int | None, window_count: int | None) -> None:
        if (window_ms is None) == (window_count is None):
            raise ValueError("give exactly one of window_ms (time window) or window_count (count window)")
        if window_ms is not None and window_ms <= 0:
            raise ValueError(f"window_ms must be positive, got {window_ms!r}")
        if window_count is not None and window_count <= 0:
            raise ValueError(f"window_count must be positive, got {window_count!r}")
        self.window_ms = window_ms
        self.window_count = window_count
        self._buf: deque[tuple[int, float, float]] = deque()
        self.sum_a = 0.0
        self.sum_b = 0.0
        self._removed = 0
        self.first_ts: int | None = None
        self.now: int | None = None

    def add(self, ts: int, a: float, b: float) -> None:
        if self.first_ts is None:
            self.first_ts = ts
        if self.now is None or ts > self.now:
            self.now = ts
        self._buf.append((self.now, a, b))
        self.sum_a += a
        self.sum_b += b
        if self.window_count is not None:
            if len(self._buf) > self.window_count:
                self._drop_oldest()
        else:
            self.expire(self.now)

    def expire(self, ts: int) -> None:
        """Drop entries that fell out of a time window ending at ``ts`` (no-op for count windows)."""
        if self.window_ms is None:
            return
        if self.now is None or ts > self.now:
            self.now = ts
        cutoff = self.now - self.window_ms
        buf = self._buf
        while buf and buf[0][0] <= cutoff:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        _, a, b = self._buf.popleft()
        self.sum_a -= a
        self.sum_b -= b
        self._removed += 1
        if self._removed > len(self._buf):
            self.sum_a = math.fsum(e[1] for e in self._buf)
            self.sum_b = math.fsum(e[2] for e in self._buf)
            self._removed = 0

    def __len__(self) -> int:
        return len(self._buf)

    @property
    def covers_window(self) -> bool:
        if self.window_count is not None:
            return len(self._buf) >= self.window_count
        return self.first_ts is not None and self.now - self.first_ts >= self.window_ms


class RollingVWAP:
    """Volume-weighted average price over a time window (``window_ms``) or the last ``window_count`` trades."""

    __slots__ = ("_sums",)

    def __init__(self, window_ms: int | None = None, window_count: int | None = None) -> None:
        self._sums = _WindowedSums(window_ms, window_count)

    def update(self, price: float, size: float, ts: int) -> float:
        """Add a trade print and return the VWAP (NaN if the window holds no volume)."""
        self._sums.add(ts, price * size, size)
        return self.value

    def update_trade(self, trade: Trade) -> float:
        return self.update(float(trade.price), float(trade.size), trade.ts)

    def advance(self, ts: int) -> float:
        """Move event time forward without a trade (expires old prints in a time window)."""
        self._sums.expire(ts)
        return self.value

    @property
    def value(self) -> float:
        volume = self._sums.sum_b
        return self._sums.sum_a / volume if volume > 0.0 else math.nan

    @property
    def volume(self) -> float:
        return self._sums.sum_b

    @property
    def count(self) -> int:
        return len(self._sums)

    @property
    def ready(self) -> bool:
        """A full window has been observed (time span or trade count)."""
        return self._sums.covers_window


class TradeFlowDelta:
    """Signed taker volume over a time window: buy-initiated minus sell-initiated size.

    ``ratio`` normalises the delta to [-1, 1] (+1: every taker was a buyer).
    """

    __slots__ = ("_sums",)

    def __init__(self, window_ms: int = 5_000) -> None:
        self._sums = _WindowedSums(window_ms, None)

    def update(self, size: float, taker_side: Side, ts: int) -> float:
        """Add a trade and return the delta."""
        if taker_side is Side.BUY:
            self._sums.add(ts, size, 0.0)
        else:
            self._sums.add(ts, 0.0, size)
        return self._sums.sum_a - self._sums.sum_b

    def update_trade(self, trade: Trade) -> float:
        return self.update(float(trade.size), trade.taker_side, trade.ts)

    def advance(self, ts: int) -> float:
        """Move event time forward without a trade so that old prints expire."""
        self._sums.expire(ts)
        return self._sums.sum_a - self._sums.sum_b

    @property
    def buy_volume(self) -> float:
        return self._sums.sum_a

    @property
    def sell_volume(self) -> float:
        return self._sums.sum_b

    @property
    def delta(self) -> float:
        return self._sums.sum_a - self._sums.sum_b

    @property
    def ratio(self) -> float:
        total = self._sums.sum_a + self._sums.sum_b
        return (self._sums.sum_a - self._sums.sum_b) / total if total > 0.0 else 0.0

    @property
    def trade_count(self) -> int:
        return len(self._sums)

    @property
    def ready(self) -> bool:
        return self._sums.covers_window


class OrderBookImbalance:
    """(bid volume - ask volume) / (bid volume + ask volume) over the top ``levels`` of the book, in [-1, 1].

    ``decay`` < 1 weights level i by decay**i so that size close to the touch counts more.
    """

    __slots__ = ("_weights", "levels", "updates", "value")

    def __init__(self, levels: int = 5, decay: float = 1.0) -> None:
        if levels < 1:
            raise ValueError(f"levels must be >= 1, got {levels!r}")
        if not 0.0 < decay <= 1.0:
            raise ValueError(f"decay must be in (0, 1], got {decay!r}")
        self.levels = levels
        self._weights = tuple(decay**i for i in range(levels))
        self.value = 0.0
        self.updates = 0

    def update(self, bid_volume: float, ask_volume: float) -> float:
        """Set the reading from already-aggregated bid and ask volumes."""
        total = bid_volume + ask_volume
        self.value = (bid_volume - ask_volume) / total if total > 0.0 else 0.0
        self.updates += 1
        return self.value

    def side_volume(self, levels: tuple[BookLevel, ...]) -> float:
        """Weighted size of the first ``levels`` entries of one book side."""
        return sum(float(lvl.size) * w for lvl, w in zip(levels, self._weights, strict=False))

    def update_book(self, book: BookUpdate) -> float:
        return self.update(self.side_volume(book.bids), self.side_volume(book.asks))

    def update_quote(self, quote: Quote) -> float:
        return self.update(float(quote.bid_size), float(quote.ask_size))

    @property
    def ready(self) -> bool:
        return self.updates > 0


class SpreadMonitor:
    """Current bid/ask spread (absolute and in basis points of mid) and its EMA."""

    __slots__ = ("_avg", "mid", "spread")

    def __init__(self, period: int = 50) -> None:
        self._avg = EMA(period)
        self.spread = math.nan
        self.mid = math.nan

    def update(self, bid: float, ask: float) -> float:
        """Add a top of book and return the spread."""
        spread = ask - bid
        self.spread = spread
        self.mid = (bid + ask) * 0.5
        self._avg.update(spread)
        return spread

    @property
    def bps(self) -> float:
        mid = self.mid
        return self.spread / mid * 1e4 if mid > 0.0 else math.nan

    @property
    def average(self) -> float:
        return self._avg.value

    @property
    def ready(self) -> bool:
        return self._avg.ready


class VolRegime(StrEnum):
    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"


class VolatilityRegime:
    """Realised-volatility regime: short-window stddev of log returns against its longer-term average.

    The short window holds the last ``short_window`` log returns; its variance is averaged by an
    EMA over ``long_window`` updates (seeded with a plain mean), and ``ratio`` = sqrt(short variance
    / averaged variance). Below ``low_ratio`` the market is LOW (quiet: spreads eat the edge), above
    ``high_ratio`` it is HIGH (moving fast), NORMAL in between. A market that has not moved at all
    over the averaging horizon is LOW.
    """

    __slots__ = ("_avg_var", "_prev", "_short", "high_ratio", "low_ratio", "ratio", "regime")

    def __init__(
        self, short_window: int = 30, long_window: int = 300, low_ratio: float = 0.5, high_ratio: float = 2.0
    ) -> None:
        if short_window >= long_window:
            raise ValueError(f"short_window ({short_window}) must be shorter than long_window ({long_window})")
        if not 0.0 < low_ratio < high_ratio:
            raise ValueError(f"need 0 < low_ratio < high_ratio, got {low_ratio!r}, {high_ratio!r}")
        self._short = RollingStats(short_window)
        self._avg_var = EMA(long_window)
        self.low_ratio = low_ratio
        self.high_ratio = high_ratio
        self._prev = math.nan
        self.ratio = math.nan
        self.regime = VolRegime.NORMAL

    def update(self, price: float) -> VolRegime:
        """Add a price and return the regime (non-positive prices are ignored)."""
        if not price > 0.0:
            return self.regime
        prev = self._prev
        self._prev = price
        if prev != prev:  # first price (NaN): no return yet
            return self.regime
        short = self._short
        short.update(math.log(price / prev))
        if not short.ready:  # a partial window would understate the variance
            return self.regime
        var = short.variance
        avg = self._avg_var.update(var)
        if avg <= 0.0:
            self.ratio = 0.0
            self.regime = VolRegime.LOW
            return self.regime
        ratio = math.sqrt(var / avg)
        self.ratio = ratio
        if ratio < self.low_ratio:
            self.regime = VolRegime.LOW
        elif ratio > self.high_ratio:
            self.regime = VolRegime.HIGH
        else:
            self.regime = VolRegime.NORMAL
        return self.regime

    @property
    def short_vol(self) -> float:
        """Standard deviation of log returns over the short window (per update)."""
        return self._short.std

    @property
    def long_vol(self) -> float:
        """The longer-term average volatility the short one is compared with."""
        avg = self._avg_var.value
        return math.sqrt(avg) if avg > 0.0 else 0.0

    @property
    def ready(self) -> bool:
        return self._avg_var.ready
