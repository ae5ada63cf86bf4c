"""Backtests: the real bot (strategy, risk, executor, position manager) on recorded or imported data,
in virtual time, on the paper fill model.

::

    data = load_dataset("btc_1m.csv", market="BTC-USD-PERP")
    result = BacktestRunner(data, BacktestConfig(latency_ms=50)).run()
    print(result.fingerprint, result.metrics.lines())

How it runs (assumptions, stated once):

* The venue is :class:`~flashscalper.replay.feed.BacktestVenue`, i.e. paper trading's engine: the
  data's top of book rests in the engine as mirror quotes; market orders take the displayed size at
  the touch (then sweep to the engine's slippage guard), limit orders fill at their own price when a
  later touch crosses them, stops and take-profits trigger on the mark (the mid, or recorded marks).
* Every event sets the clock to its timestamp, goes through the venue, then the bot handles
  everything that happened and runs its timers, round by round, exactly like
  :meth:`Bot.process_pending` (the reference path, ``fast=False``). The fast path
  (``fast=True``, default) hands market events to the bot without queueing them and defers
  mirroring while the bot has nothing live in the engine; both give the same trades (tested).
* Order and cancel latency (``latency_ms``) is applied by :class:`LatencyExchange`.
* Funding: the engine settles it every hour of data time; with ``funding_rate`` set (per funding
  period, e.g. 0.0001 per 8 h) positions pay/receive that rate, otherwise recorded marks' funding
  rates, otherwise the book's premium over the mark (≈ 0 for candle data).
* At the end of the data, open positions are closed at market (exit reason MANUAL).

``resolution="candle"`` (CLI ``--resolution candle``; candle data only) is a cheaper approximation
with its own pinned fingerprint; the tick path above stays the reference. Per candle the bot and the
strategy get one quote, the close (the tick path's last quote, at ``t+3T/4``), so indicators advance
once per candle, not four times (periods count candles). The candle's open and extremes (the tick
path's first three quotes) are applied to the engine only while the bot has an order or a position
there, so stops, take-profits and resting orders still trigger on the high and low at the tick
path's times; the bot's own price-driven exits and timers see them only through the engine's events.
No trades are published (for 1-minute candles the 5 s flow window of the default scalper is empty at
every quote of the tick path as well). Entries happen at closes only.

The fingerprint is the sha256 of every closed trade's canonical fields, one line per trade
(:func:`trade_fingerprint`): equal fingerprints mean identical trades.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flashscalper.clock import ManualClock
from flashscalper.replay.data import DataSet
from flashscalper.replay.drivers import CandleDriver, FastDriver, ReferenceDriver, Sampler, stop_pump
from flashscalper.replay.feed import BacktestVenue
from flashscalper.replay.latency import LatencyExchange
from flashscalper.replay.metrics import Metrics, compute_metrics
from flashscalper.strategy.base import Strategy, create_strategy
from flashscalper.trading.bot import Bot
from flashscalper.trading.bot_config import BotConfig
from flashscalper.trading.bus import EventBus, TradeClosed
from flashscalper.trading.exits import ClosedTrade
from flashscalper.trading.risk import RiskEngine

__all__ = ["BacktestConfig", "BacktestResult", "BacktestRunner", "run_backtest", "trade_fingerprint"]


@dataclass(frozen=True)
class BacktestConfig:
    """What to run and how. ``bot.markets`` is replaced by the data set's markets when left default."""

    bot: BotConfig = field(default_factory=BotConfig)
    strategy: str = "scalper"
    strategy_params: dict[str, Any] = field(default_factory=dict)
    collateral: Decimal = Decimal(10_000)
    latency_ms: int = 0
    funding_rate: Decimal | None = None
    maker_fee: Decimal = Decimal(0)
    taker_fee: Decimal = Decimal(0)
    fast: bool = True
    resolution: str = "tick"  # "tick" (the reference) or "candle" (one strategy event per candle)
    equity_interval_ms: int = 60_000
    price_points: int = 2_000  # price samples kept per market for the report

    def as_dict(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "strategy_params": dict(self.strategy_params),
                "collateral": str(self.collateral), "latency_ms": self.latency_ms,
                "funding_rate": None if self.funding_rate is None else str(self.funding_rate),
                "maker_fee": str(self.maker_fee), "taker_fee": str(self.taker_fee), "fast": self.fast,
                "resolution": self.resolution,
                "markets": list(self.bot.markets), "leverage": str(self.bot.leverage),
                "take_profit_roe": str(self.bot.take_profit_roe), "stop_loss_roe": str(self.bot.stop_loss_roe),
                "position_size_percent": str(self.bot.position_size_percent)}


@dataclass
class BacktestResult:
    """Trades, equity, metrics, fingerprint and what the run was made of."""

    trades: list[ClosedTrade]
    equity: list[tuple[int, Decimal]]
    prices: dict[str, list[tuple[int, Decimal]]]
    metrics: Metrics
    fingerprint: str
    events: int
    wall_s: float
    data: dict[str, Any]
    config: dict[str, Any]
    signals: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "events": self.events, "wall_s": round(self.wall_s, 3),
                "events_per_s": round(self.events / self.wall_s) if self.wall_s > 0 else None,
                "signals": self.signals, "errors": self.errors, "metrics": self.metrics.as_dict(),
                "data": self.data, "config": self.config}


def trade_fingerprint(trades: list[ClosedTrade]) -> str:
    """sha256 over ``market|side|size|entry|exit|pnl|fees|opened_at|closed_at|reason`` per trade."""
    digest = hashlib.sha256()
    for t in trades:
        fields = (t.market, t.side.value, _canon(t.size), _canon(t.entry_price), _canon(t.exit_price),
                  _canon(t.pnl), _canon(t.fees), str(t.opened_at), str(t.closed_at), t.reason.value)
        digest.update(("|".join(fields) + "\n").encode())
    return digest.hexdigest()


def _canon(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


class BacktestRunner:
    """Runs one backtest. ``strategy`` overrides ``config.strategy`` (an instance is used once)."""

    def __init__(self, data: DataSet, config: BacktestConfig | None = None, *, strategy: Strategy | None = None,
                 bus: EventBus | None = None) -> None:
        self.data = data
        self.config = config or BacktestConfig()
        self.strategy = strategy
        self.bus = bus or EventBus()
        self.trades: list[ClosedTrade] = []
        self.events = 0

    def run(self) -> BacktestResult:
        """Run to the end of the data (a fresh event loop)."""
        return asyncio.run(self.run_async())

    async def run_async(self) -> BacktestResult:
        cfg = self.config
        data = self.data
        clock = ManualClock(data.start_ms)
        rates = dict.fromkeys(data.markets, cfg.funding_rate) if cfg.funding_rate is not None else None
        lazy = cfg.fast or cfg.resolution == "candle"
        venue = BacktestVenue(data.markets, clock=clock, collateral=cfg.collateral, lazy=lazy,
                              funding_rates=rates, maker_fee=cfg.maker_fee, taker_fee=cfg.taker_fee)
        latency = LatencyExchange(venue, clock, cfg.latency_ms) if cfg.latency_ms > 0 else None
        exchange: Any = latency or venue
        bot_cfg = cfg.bot
        if bot_cfg.markets == BotConfig().markets or not set(bot_cfg.markets) <= set(data.markets):
            bot_cfg = bot_cfg.with_changes(markets=tuple(data.markets))
        bot_cfg = bot_cfg.with_changes(session=bot_cfg.session or "backtest")
        strategy = self.strategy or create_strategy(cfg.strategy, cfg.strategy_params)
        signals = 0

        def on_bus(event: object) -> None:
            nonlocal signals
            if isinstance(event, TradeClosed):
                self.trades.append(event.trade)
            elif getattr(event, "kind", "") == "signal":
                signals += 1

        self.bus.add_listener(on_bus)
        bot = Bot(exchange, strategy, RiskEngine(bot_cfg.risk_limits(), clock), settings=bot_cfg, clock=clock,
                  bus=self.bus)
        if cfg.resolution not in ("tick", "candle"):
            raise ValueError(f"resolution must be 'tick' or 'candle', got {cfg.resolution!r}")
        recorder = Sampler(cfg.equity_interval_ms, cfg.price_points, data.start_ms, cfg.collateral)
        started = time.perf_counter()
        await bot.start()
        drive: ReferenceDriver
        if cfg.resolution == "candle":
            await stop_pump(bot)
            drive = CandleDriver(bot, venue, latency, clock, recorder)
        elif cfg.fast:
            await stop_pump(bot)
            drive = FastDriver(bot, venue, latency, clock, recorder)
        else:
            drive = ReferenceDriver(bot, venue, latency, clock, recorder)
        await drive.settle()  # what start() produced (balance, leverage) before the first market event
        count = await drive.run(data)
        await drive.finish(data.end_ms)
        recorder.sample_equity(max(clock.time_ms(), data.end_ms), venue, force=True)
        wall = time.perf_counter() - started
        if not cfg.fast and cfg.resolution == "tick":
            await bot.close()
        self.events = count
        trades = list(self.trades)
        metrics = compute_metrics(trades, recorder.equity, start_equity=cfg.collateral, start_ms=data.start_ms,
                                  end_ms=max(data.end_ms, clock.time_ms()))
        return BacktestResult(trades=trades, equity=recorder.equity, prices=recorder.price_series(),
                              metrics=metrics, fingerprint=trade_fingerprint(trades), events=count, wall_s=wall,
                              data=dict(data.description), config=cfg.as_dict(), signals=signals,
                              errors=bot.errors)


def run_backtest(data: DataSet, config: BacktestConfig | None = None, **kwargs: Any) -> BacktestResult:
    """Shortcut: ``BacktestRunner(data, config, **kwargs).run()``."""
    return BacktestRunner(data, config, **kwargs).run()


