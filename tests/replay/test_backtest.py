"""Backtests are deterministic, the fast path equals the reference path, latency and funding act."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from flashscalper.replay.backtest import BacktestConfig, BacktestRunner, trade_fingerprint
from flashscalper.replay.data import DataSet

# sha256 of the trades of the default scalper (min_confidence 0.3) on synthetic_candles(1500, seed=3)
PINNED = "deba0c6ebcbccdcf09be81e0f9d438b9583fe15fa97b412af315ae9b48e08f90"


def test_fingerprint_is_stable_across_runs_and_pinned(candles_data: DataSet, config: BacktestConfig) -> None:
    first = BacktestRunner(candles_data, config).run()
    second = BacktestRunner(candles_data, config).run()
    assert first.trades, "the scenario must trade, or the fingerprint proves nothing"
    assert first.fingerprint == second.fingerprint == trade_fingerprint(second.trades)
    if PINNED is not None:
        assert first.fingerprint == PINNED


def test_fast_path_gives_the_same_trades_as_the_reference_path(candles_data: DataSet, config: BacktestConfig) -> None:
    fast = BacktestRunner(candles_data, config).run()
    reference = BacktestRunner(candles_data, replace(config, fast=False)).run()
    assert len(fast.trades) > 5
    assert fast.fingerprint == reference.fingerprint
    assert fast.metrics.net_pnl == reference.metrics.net_pnl


def test_fast_and_reference_agree_with_order_latency(candles_data: DataSet, config: BacktestConfig) -> None:
    slow = replace(config, latency_ms=250)
    fast = BacktestRunner(candles_data, slow).run()
    reference = BacktestRunner(candles_data, replace(slow, fast=False)).run()
    instant = BacktestRunner(candles_data, config).run()
    assert fast.trades and fast.fingerprint == reference.fingerprint
    assert fast.fingerprint != instant.fingerprint  # fills happen later, at other prices
    assert fast.errors == 0


def test_funding_is_charged_to_held_positions(candles_data: DataSet, config: BacktestConfig) -> None:
    # hold positions for hours (no TP/SL/time limit reachable) so several funding periods pass
    bot = config.bot.with_changes(take_profit_roe=Decimal(500), stop_loss_roe=Decimal(-500),
                                  max_holding_seconds=6 * 3600, trailing_activation_roe=Decimal(0))
    free = BacktestRunner(candles_data, replace(config, bot=bot)).run()
    charged = BacktestRunner(candles_data, replace(config, bot=bot, funding_rate=Decimal("0.01"))).run()
    assert free.trades and charged.trades
    assert sum(t.fees for t in charged.trades) != sum(t.fees for t in free.trades)
