"""Performance metrics: one module for backtest, paper and live, so their figures compare.

Input: the closed trades (:class:`~flashscalper.trading.exits.ClosedTrade`) and an equity curve of
``(ts_ms, equity)`` samples, plus the period covered. Definitions:

* **win rate** — % of trades with net P&L > 0 (break-even trades count as not won).
* **profit factor** — sum of winning net P&L / |sum of losing net P&L| (None when nothing was lost).
* **expectancy** — mean net P&L per trade (quote currency).
* **per-trade Sharpe** — mean / sample standard deviation (n − 1) of per-trade returns, where a
  trade's return is its net P&L divided by the equity before it (starting equity plus the net P&L of
  earlier trades). Not annualised. **per-trade Sortino** — the same mean over the downside deviation
  sqrt(Σ min(r, 0)² / n).
* **daily Sharpe / Sortino** — on daily equity returns: the equity at each UTC day's last sample
  (carried forward over days without samples) against the day before; annualised by √365 because
  crypto trades every day. Needs at least two daily returns, else None.
* **max drawdown %** — largest peak-to-trough fall of the equity curve in % of the peak; its
  **duration** is from that peak to the recovery above it (or to the end of the period if never
  recovered).
* **exposure** — % of the period during which at least one position was open (the union of the
  trades' open intervals).
* **trades per hour** — trades / period hours.

Ratios are floats (they are statistics, not money); money stays Decimal and is written as strings.
"""

from __future__ import annotations

import itertools
import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, Protocol

__all__ = ["Metrics", "TradeLike", "compute_metrics", "daily_returns", "max_drawdown"]

DAY_MS = 86_400_000
ANNUALISATION_DAYS = 365


class TradeLike(Protocol):
    """What metrics read from a trade (ClosedTrade fits; so do journal rows wrapped in a dataclass)."""

    @property
    def net_pnl(self) -> Decimal: ...

    opened_at: int
    closed_at: int


@dataclass(frozen=True, slots=True)
class Metrics:
    """Every figure of :func:`compute_metrics`; ``to_json`` writes Decimals as strings."""

    trades: int
    wins: int
    losses: int
    win_rate_percent: float
    net_pnl: Decimal
    gross_profit: Decimal
    gross_loss: Decimal
    profit_factor: float | None
    expectancy: Decimal
    avg_duration_s: float
    median_duration_s: float
    sharpe_per_trade: float | None
    sortino_per_trade: float | None
    sharpe_daily_annualised: float | None
    sortino_daily_annualised: float | None
    max_drawdown_percent: float
    max_drawdown_duration_s: float
    exposure_percent: float
    trades_per_hour: float
    start_equity: Decimal
    end_equity: Decimal
    return_percent: float
    period_start_ms: int
    period_end_ms: int
    notes: tuple[str, ...] = (
        "sharpe/sortino per trade: returns = net pnl / equity before the trade, not annualised",
        "sharpe/sortino daily: UTC day-end equity returns, annualised by sqrt(365)",
        "sortino downside deviation: sqrt(sum(min(r,0)^2)/n)",
    )

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Decimal) else list(v) if isinstance(v, tuple) else v)
                for k, v in asdict(self).items()}

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.as_dict(), **kwargs)

    def lines(self) -> list[str]:
        """A short human-readable summary."""
        def f(x: float | None, fmt: str = ".2f") -> str:
            return "n/a" if x is None else format(x, fmt)

        q = Decimal("0.01")
        return [
            f"trades {self.trades} (win rate {self.win_rate_percent:.1f}%), {self.trades_per_hour:.2f}/h, "
            f"exposure {self.exposure_percent:.1f}%",
            f"net pnl {self.net_pnl.quantize(q)} ({self.return_percent:+.2f}%), expectancy "
            f"{self.expectancy.quantize(Decimal('0.0001'))}/trade, profit factor {f(self.profit_factor)}",
            f"duration avg {self.avg_duration_s:.1f}s, median {self.median_duration_s:.1f}s",
            f"sharpe per trade {f(self.sharpe_per_trade, '.3f')}, sortino per trade "
            f"{f(self.sortino_per_trade, '.3f')} (not annualised)",
            f"sharpe daily {f(self.sharpe_daily_annualised)}, sortino daily "
            f"{f(self.sortino_daily_annualised)} (annualised x sqrt(365))",
            f"max drawdown {self.max_drawdown_percent:.2f}% lasting {self.max_drawdown_duration_s / 3600:.2f}h",
        ]


def _sharpe(returns: Sequence[float]) -> float | None:
    if len(returns) < 2:
        return None
    sd = statistics.stdev(returns)
    return statistics.fmean(returns) / sd if sd > 0 else None


def _sortino(returns: Sequence[float]) -> float | None:
    if len(returns) < 2:
        return None
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in returns) / len(returns))
    return statistics.fmean(returns) / downside if downside > 0 else None


def daily_returns(equity: Sequence[tuple[int, Decimal]]) -> list[float]:
    """Returns between consecutive UTC day-end equities (days without samples carry the last value)."""
    if not equity:
        return []
    closes: dict[int, Decimal] = {}
    for ts, value in equity:
        closes[ts // DAY_MS] = value
    days = sorted(closes)
    series: list[Decimal] = []
    last = closes[days[0]]
    for day in range(days[0], days[-1] + 1):
        last = closes.get(day, last)
        series.append(last)
    return [float(b / a - 1) for a, b in itertools.pairwise(series) if a > 0]


def max_drawdown(equity: Sequence[tuple[int, Decimal]], end_ms: int | None = None) -> tuple[float, float]:
    """(max drawdown in % of the peak, its duration in seconds from the peak to recovery or the end)."""
    peak_value: Decimal | None = None
    peak_ts = 0
    worst = 0.0
    worst_peak_ts: int | None = None
    worst_duration = 0.0
    for ts, value in equity:
        if peak_value is None or value > peak_value:
            if worst_peak_ts == peak_ts and peak_value is not None:
                worst_duration = (ts - peak_ts) / 1000  # the worst drawdown recovered here
                worst_peak_ts = None
            peak_value, peak_ts = value, ts
            continue
        if peak_value > 0:
            drop = float((peak_value - value) / peak_value * 100)
            if drop > worst:
                worst, worst_peak_ts = drop, peak_ts
                worst_duration = 0.0
    if worst_peak_ts is not None:  # never recovered: lasts until the end
        last_ts = end_ms if end_ms is not None else (equity[-1][0] if equity else worst_peak_ts)
        worst_duration = (last_ts - worst_peak_ts) / 1000
    return worst, worst_duration


def _exposure_ms(trades: Sequence[TradeLike], start_ms: int, end_ms: int) -> int:
    spans = sorted((max(t.opened_at, start_ms), min(t.closed_at, end_ms)) for t in trades)
    total, cur_start, cur_end = 0, None, None
    for a, b in spans:
        if b <= a:
            continue
        if cur_end is None or a > cur_end:
            if cur_end is not None and cur_start is not None:
                total += cur_end - cur_start
            cur_start, cur_end = a, b
        else:
            cur_end = max(cur_end, b)
    if cur_end is not None and cur_start is not None:
        total += cur_end - cur_start
    return total


def compute_metrics(trades: Sequence[TradeLike], equity: Sequence[tuple[int, Decimal]], *,
                    start_equity: Decimal, start_ms: int, end_ms: int) -> Metrics:
    """All metrics over ``[start_ms, end_ms)`` (see the module docstring for every definition)."""
    net = [t.net_pnl for t in trades]
    wins = [p for p in net if p > 0]
    losses = [p for p in net if p < 0]
    gross_profit = sum(wins, Decimal(0))
    gross_loss = sum(losses, Decimal(0))
    durations = [max(t.closed_at - t.opened_at, 0) / 1000 for t in trades]
    per_trade: list[float] = []
    running = start_equity
    for pnl in net:
        if running > 0:
            per_trade.append(float(pnl / running))
        running += pnl
    curve = list(equity) or [(start_ms, start_equity)]
    if curve[0][0] > start_ms:
        curve.insert(0, (start_ms, start_equity))
    dd, dd_s = max_drawdown(curve, end_ms)
    daily = daily_returns(curve)
    span_ms = max(end_ms - start_ms, 1)
    end_equity = curve[-1][1] if equity else start_equity + sum(net, Decimal(0))
    return Metrics(
        trades=len(net), wins=len(wins), losses=len(losses),
        win_rate_percent=len(wins) / len(net) * 100 if net else 0.0,
        net_pnl=sum(net, Decimal(0)), gross_profit=gross_profit, gross_loss=gross_loss,
        profit_factor=float(gross_profit / -gross_loss) if gross_loss else None,
        expectancy=sum(net, Decimal(0)) / len(net) if net else Decimal(0),
        avg_duration_s=statistics.fmean(durations) if durations else 0.0,
        median_duration_s=statistics.median(durations) if durations else 0.0,
        sharpe_per_trade=_sharpe(per_trade), sortino_per_trade=_sortino(per_trade),
        sharpe_daily_annualised=_annualise(_sharpe(daily)), sortino_daily_annualised=_annualise(_sortino(daily)),
        max_drawdown_percent=dd, max_drawdown_duration_s=dd_s,
        exposure_percent=_exposure_ms(trades, start_ms, end_ms) / span_ms * 100,
        trades_per_hour=len(net) / (span_ms / 3_600_000),
        start_equity=start_equity, end_equity=end_equity,
        return_percent=float((end_equity - start_equity) / start_equity * 100) if start_equity > 0 else 0.0,
        period_start_ms=start_ms, period_end_ms=end_ms,
    )


def _annualise(ratio: float | None) -> float | None:
    return None if ratio is None else ratio * math.sqrt(ANNUALISATION_DAYS)
