"""The whole bot on the seeded market in virtual time, the bus under a slow reader, and session stats."""

from __future__ import annotations

from decimal import Decimal

from flashscalper.domain import Quote, Side
from flashscalper.strategy.base import Signal, create_strategy
from flashscalper.trading.bot import BotConfig
from flashscalper.trading.bus import EquitySample, EventBus, TradeClosed
from flashscalper.trading.exits import ClosedTrade, ExitReason
from flashscalper.trading.stats import SessionStats

from .scenario import BTC, ETH, ScriptedStrategy, make_scenario, started

D = Decimal


async def test_bot_trades_the_seeded_market_for_minutes_then_flattens() -> None:
    s = make_scenario(strategy=create_strategy("scalper"), markets=(BTC, ETH), max_holding_seconds=60,
                      trailing_activation_roe=D(1))
    await s.bot.start()
    await s.step(250, 4 * 60 * 5)  # five simulated minutes
    stats = s.bot.stats.summary()
    assert stats.trades > 0 and stats.trades == len(s.bot.positions.closed)
    assert sum(stats.exit_reasons.values()) == stats.trades
    assert s.of_kind("signal") and s.of_kind("position") and s.of_kind("equity")
    await s.bot.flatten()
    await s.step(250, 2)
    assert await s.venue.positions() == [] and await s.venue.open_orders() == []
    assert s.bot.positions.positions == {}
    assert s.bot.errors == 0


class ExplodingStrategy(ScriptedStrategy):
    """Raises on every third quote, as a buggy strategy might."""

    def __init__(self) -> None:
        super().__init__()
        self.quotes = 0

    def on_quote(self, quote: Quote) -> Signal | None:
        self.quotes += 1
        if self.quotes % 3 == 0:
            raise ValueError("indicator blew up")
        return super().on_quote(quote)


async def test_a_bad_event_never_kills_the_loop() -> None:
    s = await started(strategy=ExplodingStrategy())
    await s.enter(BTC, Side.BUY)
    assert s.bot.errors > 0 and s.bot.positions.get(BTC) is not None


async def test_a_slow_subscriber_loses_old_events_but_never_blocks_trading() -> None:
    s = await started()
    slow = s.bot.bus.subscribe(maxsize=5)
    await s.enter(BTC, Side.BUY)
    await s.step(250, 20)
    assert slow.queue.qsize() == 5 and slow.dropped > 0
    assert s.bot.positions.get(BTC) is not None  # trading went on


def _trade(pnl: str, fees: str, reason: ExitReason, duration_ms: int) -> ClosedTrade:
    return ClosedTrade(BTC, Side.BUY, D("0.01"), D(100), D(101), D(pnl), D(fees), 0, duration_ms, reason,
                       D(10), D(0))


def test_session_stats_from_trades_and_equity() -> None:
    bus = EventBus()
    stats = SessionStats()
    stats.attach(bus)
    for ts, equity in [(0, "1000"), (1, "1010"), (2, "990"), (3, "1005")]:
        bus.publish(EquitySample(D(equity), D(equity), D(equity), D(0), D(0), ts))
    for trade in [_trade("10", "1", ExitReason.TP, 4000), _trade("-20", "1", ExitReason.SL, 2000),
                  _trade("16", "1", ExitReason.TRAIL, 6000)]:
        bus.publish(TradeClosed(trade, trade.closed_at))
    summary = stats.summary()
    assert (summary.trades, summary.wins, summary.losses) == (3, 2, 1)
    assert summary.win_rate == D(2) / 3 * 100
    assert summary.pnl == D(3) and summary.gross_pnl == D(6) and summary.fees == D(3)
    assert summary.max_drawdown == D(20) and summary.max_drawdown_percent == D(20) / D(1010) * 100
    assert summary.avg_duration_s == D(4)
    assert summary.exit_reasons == {"TP": 1, "SL": 1, "TRAIL": 1}
    assert summary.start_equity == D(1000) and summary.end_equity == D(1005)
    assert len(summary.lines()) == 5


def test_bot_config_from_settings() -> None:
    from flashscalper.config import GeneralSettings, ParadexSettings

    trade = ParadexSettings(_env_file=None, markets="btc-usd-perp", leverage=D(5), stop_loss_roe=D("-1"))
    general = GeneralSettings(_env_file=None, safe_mode=True, max_holding_seconds=90)
    config = BotConfig.from_settings(trade, general, entry_timeout_s=2.0)
    assert config.markets == ("BTC-USD-PERP",) and config.leverage == D(5) and config.stop_loss_roe == D(-1)
    assert config.max_holding_seconds == 90 and config.entry_timeout_s == 2.0
    assert config.risk_limits().effective().leverage == D(3)  # safe mode caps it


async def test_run_consumes_the_venue_stream_until_stopped() -> None:
    import asyncio

    s = await started()
    runner = asyncio.create_task(s.bot.run())
    s.strategy.go(ETH, Side.BUY)  # type: ignore[attr-defined]
    for _ in range(10):
        s.clock.advance(250)
        s.market.step(250)
        await asyncio.sleep(0.01)
    s.bot.stop()
    await asyncio.wait_for(runner, timeout=2)
    assert s.bot.positions.get(ETH) is not None and s.venue_position(ETH) > 0
    await s.bot.close()
