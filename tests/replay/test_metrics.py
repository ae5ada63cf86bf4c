"""Metrics against small cases computed by hand."""

from __future__ import annotations

import math
from decimal import Decimal

from flashscalper.domain import Side
from flashscalper.replay.metrics import compute_metrics, daily_returns, max_drawdown
from flashscalper.trading.exits import ClosedTrade, ExitReason

H = 3_600_000
DAY = 24 * H


def trade(pnl: str, opened: int, closed: int, fees: str = "0") -> ClosedTrade:
    return ClosedTrade("BTC-USD-PERP", Side.BUY, Decimal(1), Decimal(100), Decimal(100), Decimal(pnl), Decimal(fees),
                       opened, closed, ExitReason.TP, Decimal(10), Decimal(0))


def test_three_trades_by_hand() -> None:
    # +100 (1h), -50 (2h), +50 (overlaps the second by 1h); equity starts at 1000 over a 10 h period
    trades = [trade("100", 0, H), trade("-50", 2 * H, 4 * H), trade("50", 3 * H, 5 * H)]
    m = compute_metrics(trades, [], start_equity=Decimal(1000), start_ms=0, end_ms=10 * H)
    assert (m.trades, m.wins, m.losses) == (3, 2, 1)
    assert math.isclose(m.win_rate_percent, 200 / 3)
    assert m.net_pnl == Decimal(100) and m.expectancy == Decimal(100) / 3
    assert m.profit_factor == 3.0  # 150 / 50
    assert m.avg_duration_s == (3600 + 7200 + 7200) / 3 and m.median_duration_s == 7200
    assert math.isclose(m.exposure_percent, 40.0)  # [0,1h] + [2h,5h] of 10 h
    assert math.isclose(m.trades_per_hour, 0.3)
    # per-trade returns: 100/1000, -50/1100, 50/1050
    r = [0.1, -50 / 1100, 50 / 1050]
    mean = sum(r) / 3
    sd = math.sqrt(sum((x - mean) ** 2 for x in r) / 2)
    assert math.isclose(m.sharpe_per_trade, mean / sd)
    assert math.isclose(m.sortino_per_trade, mean / math.sqrt((50 / 1100) ** 2 / 3))
    assert m.end_equity == Decimal(1100) and math.isclose(m.return_percent, 10.0)


def test_drawdown_depth_and_duration() -> None:
    curve = [(0, Decimal(100)), (1000, Decimal(120)), (2000, Decimal(90)), (3000, Decimal(110)),
             (5000, Decimal(125)), (6000, Decimal(115))]
    depth, duration = max_drawdown(curve)
    assert math.isclose(depth, 25.0)  # 120 -> 90
    assert duration == 4.0  # from the 120 peak at 1 s to the recovery at 5 s


def test_unrecovered_drawdown_lasts_to_the_end() -> None:
    depth, duration = max_drawdown([(0, Decimal(100)), (1000, Decimal(80))], end_ms=11_000)
    assert math.isclose(depth, 20.0) and duration == 11.0


def test_daily_returns_carry_equity_over_empty_days_and_annualise() -> None:
    curve = [(0, Decimal(100)), (DAY + 5, Decimal(110)), (3 * DAY + 5, Decimal(99))]
    assert daily_returns(curve) == [0.1, 0.0, -0.1]
    m = compute_metrics([], curve, start_equity=Decimal(100), start_ms=0, end_ms=4 * DAY)
    r = [0.1, 0.0, -0.1]
    assert m.sharpe_daily_annualised is not None and math.isclose(m.sharpe_daily_annualised, 0.0, abs_tol=1e-12)
    assert m.trades == 0 and m.profit_factor is None
    assert "annualised by sqrt(365)" in " ".join(m.notes)
    assert m.as_dict()["net_pnl"] == "0" and sum(r) == 0
