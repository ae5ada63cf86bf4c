"""How a backtest feeds its data to the bot in virtual time (used by :class:`BacktestRunner`).

* :class:`ReferenceDriver` — every event through the venue's queue and :meth:`Bot.process_pending`,
  exactly as paper mode runs.
* :class:`FastDriver` — the same rounds without the queue hop for market events, with lazy
  mirroring and no timer round while the bot has nothing live. Same trades as the reference (tested).
* :class:`CandleDriver` — ``resolution="candle"``: the strategy sees one quote per candle (the close);
  the candle's earlier tick-path quotes (open, first extreme, second extreme) go only into the engine,
  and only while the bot has an order or a position there, so that stops, take-profits and resting
  limit orders trigger on the candle's high and low. No trades are published (see
  :mod:`flashscalper.replay.backtest` for what that approximates).
"""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from typing import Any

from flashscalper.clock import ManualClock
from flashscalper.domain import Quote
from flashscalper.replay.data import CandleTicks, DataSet
from flashscalper.replay.feed import BacktestVenue
from flashscalper.replay.latency import LatencyExchange
from flashscalper.trading.bot import Bot
from flashscalper.trading.exits import ExitReason

__all__ = ["CandleDriver", "FastDriver", "ReferenceDriver", "Sampler", "stop_pump"]


async def stop_pump(bot: Bot) -> None:
    """End the bot's event pump: the fast drivers read the venue's queue themselves and the pump
    would race them for events."""
    pump = bot._pump
    if pump is not None:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
        bot._pump = None


class Sampler:
    """Equity every ``interval`` of data time (from the engine while a position is open, the last
    flat equity otherwise) and a thinned price series per market for the report.

    A run of equal equity samples is kept as its first and last sample (drawdown, daily returns and
    the plotted curve are the same as with every sample). Price samples are thinned as they come
    (every other one is dropped whenever a series reaches twice ``points``), so memory stays bounded
    however long the data."""

    def __init__(self, interval_ms: int, points: int, start_ms: int, equity: Decimal) -> None:
        self.interval = max(interval_ms, 1)
        self.next_ms = start_ms
        self.flat_equity = equity
        self.equity: list[tuple[int, Decimal]] = []
        self.prices: dict[str, list[tuple[int, Decimal]]] = {}
        self.last_mid: dict[str, Decimal] = {}
        self.points = max(points, 1)
        self._stride = 1  # keep one sample in ``_stride`` (doubles at each thinning)
        self._seen = 0

    def sample_equity(self, now: int, venue: BacktestVenue, *, force: bool = False) -> None:
        if venue.idle():
            equity = self.flat_equity = venue._account_state.collateral
        else:
            venue.flush()
            equity = venue.engine.account_summary(venue.account_id).account_value
        curve = self.equity
        if len(curve) >= 2 and curve[-1][1] == equity and curve[-2][1] == equity:
            curve[-1] = (now, equity)  # a flat run keeps its first and last sample: same metrics, same plot
        else:
            curve.append((now, equity))
        if not force:
            self.next_ms = now - now % self.interval + self.interval
        keep = force or self._seen % self._stride == 0
        self._seen += 1
        if not keep:
            return
        for market, mid in self.last_mid.items():
            series = self.prices.setdefault(market, [])
            series.append((now, mid))
            if len(series) >= 2 * self.points:
                del series[1::2]
                self._stride *= 2

    def price_series(self) -> dict[str, list[tuple[int, Decimal]]]:
        return {market: list(series) for market, series in self.prices.items()}


class ReferenceDriver:
    """Every event through the venue's queue and :meth:`Bot.process_pending`, as in paper mode."""

    def __init__(self, bot: Bot, venue: BacktestVenue, latency: LatencyExchange | None, clock: ManualClock,
                 sampler: Sampler) -> None:
        self.bot, self.venue, self.latency, self.clock, self.sampler = bot, venue, latency, clock, sampler
        self._samples = 0

    async def _release(self, until_ms: int) -> None:
        latency = self.latency
        while latency is not None and (due := latency.next_due()) is not None and due <= until_ms:
            if due > self.clock.time_ms():
                self.clock.set(due)
            await latency.release_due(due)
            await self.settle()

    async def settle(self) -> None:
        await self.bot.process_pending()

    async def step(self, event: Any) -> None:
        self.venue.on_market_event(event)
        await self.settle()

    async def advance(self, ts: int) -> None:
        """Move virtual time to ``ts``: due delayed orders, equity samples, then the clock."""
        if self.latency is not None:
            await self._release(ts)
        sampler = self.sampler
        if ts >= sampler.next_ms:
            sampler.sample_equity(ts, self.venue)
            self._samples += 1
            if self._samples % 32 == 0:
                # long runs: finished orders would make every timer scan an ever-growing history
                # (not at every sample: the scan itself is O(orders kept))
                self.bot.executor.tracker.forget_done(keep=100)
        if ts > self.clock.time_ms():
            self.clock.set(ts)

    async def run(self, data: DataSet) -> int:
        last_mid = self.sampler.last_mid
        advance, step = self.advance, self.step
        count = 0
        for event in data.events():
            await advance(event.ts)
            if type(event) is Quote:
                last_mid[event.market] = (event.bid + event.ask) / 2
            await step(event)
            count += 1
        return count

    async def finish(self, end_ms: int) -> None:
        bot = self.bot
        await self._release(max(end_ms, self.clock.time_ms()) + 10**9)
        for symbol in list(bot.executor.entries):
            bot.executor.entries[symbol].done = True
            del bot.executor.entries[symbol]
        await bot.executor.cancel_all()
        await bot.positions.flatten(ExitReason.MANUAL)
        await self.settle()
        await self._release(self.clock.time_ms() + 10**9)
        await self.settle()


class FastDriver(ReferenceDriver):
    """Same rounds as the reference, without the queue hop for market events and with lazy mirroring
    while the bot has nothing live (then the bot's timers are no-ops and are skipped)."""

    def _idle(self) -> bool:
        bot = self.bot
        return (not bot.executor.entries and not bot.positions.positions and self.venue.idle()
                and (self.latency is None or not self.latency._pending))

    async def settle(self, first: bool = True) -> None:
        # Bot.process_pending's rounds, reading the venue queue directly (the pump is stopped)
        bot, queue = self.bot, self.venue._queue
        handle = bot.handle
        for round_no in range(20 if first else 19):  # without the first round the reference has 19 left
            batch = []
            while not queue.empty():
                batch.append(queue.get_nowait())
            for item in batch:
                await handle(item)
            if round_no == 0 and first:
                await bot.on_timer()
            elif not batch:
                break

    async def step(self, event: Any) -> None:
        venue = self.venue
        if self._idle():
            venue.mirror(event)  # deferred while idle: cannot touch the bot
            await self.bot.handle(event)
            if venue._queue.empty() and self._idle():
                return  # the reference would now run a timer with nothing to do, then stop
            await self.bot.on_timer()
            await self.settle(first=False)
            return
        venue.on_market_event(event)
        await self.settle()


class CandleDriver(FastDriver):
    """One strategy event per candle; the intra-candle path reaches the engine only while it matters."""

    async def run(self, data: DataSet) -> int:
        if data.candles is None or len(data.markets) != 1:
            raise ValueError("resolution='candle' needs one market of candle data (load_dataset of a candle "
                             "file, or replay.data.dataset_from_candles)")
        (spec,) = data.markets.values()
        ticks = CandleTicks(spec, interval_ms=data.interval_ms or 60_000)
        symbol = spec.market.symbol
        last_mid = self.sampler.last_mid
        venue = self.venue
        advance, step, idle = self.advance, self.step, self._idle
        count = 0
        for candle in data.candles():
            if not idle():
                # something live in the engine: walk the open and both extremes through it
                for quote in ticks.quotes(candle)[:3]:
                    await advance(quote.ts)
                    venue.mirror(quote)
                    await self.settle()
                    if idle():
                        break  # flat again: the lazy mirror would only keep the close anyway
            close = ticks.close_quote(candle)
            await advance(close.ts)
            last_mid[symbol] = (close.bid + close.ask) / 2
            await step(close)
            count += 1
        return count
