"""The live loop (``Bot.run``) against a venue whose stop orders hang: market data keeps reaching the
strategy, other markets keep trading, a close waits for the protect of its own position, and a stop
that cannot be placed still closes the position at market. Backtests stay deterministic."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

from flashscalper.domain import OrderRequest, OrderType, Quote, Side
from flashscalper.exchanges.local import LocalExchange
from flashscalper.strategy.base import Signal, create_strategy
from flashscalper.trading.exits import ExitReason

from .scenario import BTC, ETH, Scenario, ScriptedStrategy, exit_orders, make_scenario, started
from .test_executor_scenarios import StopRefusingVenue

D = Decimal


class SlowStopVenue(LocalExchange):
    """Fault injection: a stop order hangs on its way to the venue (a slow REST answer) until the test
    opens ``gate``; ``stalled`` tells the test that one is hanging. Everything else is the real venue."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.gate = asyncio.Event()
        self.stalled = asyncio.Event()

    async def place_order(self, request: OrderRequest) -> object:  # type: ignore[override]
        if request.type is OrderType.STOP_MARKET and not self.gate.is_set():
            self.stalled.set()
            await self.gate.wait()
        return await super().place_order(request)


class CountingStrategy(ScriptedStrategy):
    """The scripted strategy, counting the quotes it is shown per market."""

    def __init__(self) -> None:
        super().__init__()
        self.quotes: Counter[str] = Counter()

    def on_quote(self, quote: Quote) -> Signal | None:
        self.quotes[quote.market] += 1
        return super().on_quote(quote)


async def _tick(s: Scenario, times: int = 1) -> None:
    """Real-time-ish steps for a bot inside run(): virtual time moves, the loop gets a moment."""
    for _ in range(times):
        s.clock.advance(250)
        s.market.step(250)
        await asyncio.sleep(0.005)


async def _tick_until(s: Scenario, done: Callable[[], bool], limit: int = 60) -> None:
    for _ in range(limit):
        if done():
            return
        await _tick(s)
    raise AssertionError("the condition never came true")


async def test_market_data_keeps_flowing_while_a_stop_placement_is_slow() -> None:
    s = await started(venue_cls=SlowStopVenue, strategy=CountingStrategy())
    venue: SlowStopVenue = s.venue  # type: ignore[assignment]
    strategy: CountingStrategy = s.strategy  # type: ignore[assignment]
    runner = asyncio.create_task(s.bot.run())
    strategy.go(BTC, Side.BUY)
    await _tick_until(s, venue.stalled.is_set)
    pos = s.bot.positions.get(BTC)
    assert pos is not None and pos.stop is None and s.venue_position(BTC) > 0

    seen_before = dict(strategy.quotes)
    strategy.go(ETH, Side.SELL)
    await _tick(s, 8)
    # the BTC stop is still hanging, yet quotes of every market reached the strategy...
    assert exit_orders(s.venue_orders(BTC)) == {}
    assert strategy.quotes[BTC] >= seen_before[BTC] + 4 and strategy.quotes[ETH] >= seen_before[ETH] + 4
    # ...and another market traded meanwhile
    assert s.venue_position(ETH) < 0

    venue.gate.set()
    await _tick_until(s, lambda: all(
        set(exit_orders(s.venue_orders(m))) == {OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET}
        for m in (BTC, ETH)))
    assert s.bot.positions.get(BTC).stop is not None  # type: ignore[union-attr]
    s.bot.stop()
    await asyncio.wait_for(runner, timeout=2)
    assert s.bot.errors == 0 and s.bot.workers.errors == 0
    await s.bot.close()


async def test_a_close_waits_for_the_protect_of_its_own_position() -> None:
    s = await started(venue_cls=SlowStopVenue)
    venue: SlowStopVenue = s.venue  # type: ignore[assignment]
    runner = asyncio.create_task(s.bot.run())
    s.strategy.go(BTC, Side.BUY)  # type: ignore[attr-defined]
    await _tick_until(s, venue.stalled.is_set)

    closing = asyncio.create_task(s.bot.close_position(BTC))
    await _tick(s, 4)
    # same position, same line: the close does not race the half-done protect
    assert not closing.done() and s.venue_position(BTC) > 0
    assert not [o for o in s.engine.order_history("bot", BTC) if o.reduce_only and o.type is OrderType.MARKET]

    venue.gate.set()
    await asyncio.wait_for(closing, timeout=2)
    await _tick_until(s, lambda: s.bot.positions.get(BTC) is None and s.venue_orders(BTC) == [])
    assert s.venue_position(BTC) == 0
    assert s.bot.positions.closed[-1].reason is ExitReason.MANUAL
    history = [o for o in s.engine.order_history("bot", BTC) if o.reduce_only]
    kinds = [o.type for o in sorted(history, key=lambda o: int(o.client_id.rsplit("-", 1)[1]))]
    assert kinds[0] is OrderType.STOP_MARKET and kinds[-1] is OrderType.MARKET  # stop first, then the close
    s.bot.stop()
    await asyncio.wait_for(runner, timeout=2)
    await s.bot.close()


async def test_a_stop_that_cannot_be_placed_still_closes_the_position_in_the_live_loop() -> None:
    s = await started(venue_cls=StopRefusingVenue)
    runner = asyncio.create_task(s.bot.run())
    s.strategy.go(BTC, Side.BUY)  # type: ignore[attr-defined]
    await _tick_until(s, lambda: bool(s.bot.positions.closed))
    await _tick_until(s, lambda: s.venue_position(BTC) == 0 and s.venue_orders(BTC) == [])
    assert s.bot.positions.closed[-1].reason is ExitReason.PROTECTION_FAILED
    s.bot.stop()
    await asyncio.wait_for(runner, timeout=2)
    assert s.bot.errors == 0
    await s.bot.close()


async def _virtual_run() -> list[str]:
    s = make_scenario(strategy=create_strategy("scalper"), markets=(BTC, ETH), max_holding_seconds=10,
                      trailing_activation_roe=D(1), trail_min_interval_s=0.0)
    await s.bot.start()
    await s.step(250, 4 * 30)
    await s.bot.flatten()
    await s.step(250, 2)
    assert s.bot.positions.closed, "the run must trade, or equal event orders prove little"
    return [repr(e) for e in s.seen]


async def test_virtual_time_runs_publish_the_same_events_in_the_same_order() -> None:
    first, second = await _virtual_run(), await _virtual_run()
    assert len(first) > 100 and first == second
