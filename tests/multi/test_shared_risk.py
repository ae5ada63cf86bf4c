"""Two bots — Paradex and Aster — on one simulator, judged by one risk budget.

The simulator runs on a ManualClock with a generated market; both venues trade BTC (``BTC-USD-PERP``
on Paradex, ``BTCUSDT`` on Aster), which is one engine market, so one price move hits both.
Each bot runs a scripted strategy that signals only when the test asks it to.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

import pytest

from flashscalper.clock import ManualClock
from flashscalper.config import load_settings
from flashscalper.domain import Quote, Side
from flashscalper.exchanges.aster.client import AsterExchange
from flashscalper.exchanges.aster.rest import HmacCredentials
from flashscalper.exchanges.paradex.client import ParadexExchange, demo_identity
from flashscalper.exchanges.paradex.rest import ParadexRestClient
from flashscalper.multi import MultiVenueSession, build_multi_session, enabled_venues
from flashscalper.sim.aster.registry import registry_of
from flashscalper.sim.server import Simulator
from flashscalper.strategy.base import Signal, Strategy
from flashscalper.trading.bus import BotEvent, SignalReport
from flashscalper.trading.risk import RiskState

FUND = Decimal(10_000)
MARKETS = {"paradex": "BTC-USD-PERP", "aster": "BTCUSDT"}


class Scripted(Strategy):
    """Signals once per :meth:`want`, on the next two-sided quote of its market."""

    name: ClassVar[str] = "scripted"

    def __init__(self, market: str) -> None:
        self.market = market
        self.wanted: list[Side] = []

    def want(self, side: Side) -> None:
        self.wanted.append(side)

    def on_quote(self, quote: Quote) -> Signal | None:
        if quote.market != self.market or not self.wanted or not 0 < quote.bid < quote.ask:
            return None
        return Signal(quote.market, self.wanted.pop(0), 0.9, ("scripted",), {}, quote.ts, "scripted",
                      price=quote.mid)


@dataclass
class World:
    sim: Simulator
    multi: MultiVenueSession
    strategies: dict[str, Scripted]
    reports: dict[str, list[BotEvent]]

    async def drive(self, until: Callable[[], bool], timeout_s: float = 8.0) -> None:
        """Step the market and let both bots handle what arrived, until ``until()`` holds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not until():
            if loop.time() > deadline:
                raise AssertionError("condition not reached in time")
            self.sim.advance(100)
            await asyncio.sleep(0.03)  # the wire carries the step's events to the clients
            for session in self.multi.sessions.values():
                await session.bot.process_pending()

    def signals(self, venue: str) -> list[SignalReport]:
        return [e for e in self.reports[venue] if isinstance(e, SignalReport)]

    def holds(self, venue: str) -> bool:
        return self.multi.sessions[venue].bot.positions.get(MARKETS[venue]) is not None


@pytest.fixture
async def world(request: pytest.FixtureRequest) -> AsyncIterator[World]:
    overrides = getattr(request, "param", {})
    clock = ManualClock(1_790_000_000_000)
    sim = Simulator(seed=3, fund_usdc=FUND, clock=clock)
    urls = await sim.start(port=0)
    sim.advance(100)
    paradex = ParadexExchange(ParadexRestClient(urls.paradex_rest, demo_identity(sim.system), clock=clock),
                              urls.paradex_ws, clock=clock)
    key, secret, _ = registry_of(sim).add_api_key()
    aster = AsterExchange(urls.aster_rest, urls.aster_ws, HmacCredentials(key, secret), clock=clock)
    settings = load_settings(env_file=None, paradex={"enabled": True, "markets": [MARKETS["paradex"]]},
                             aster={"enabled": True, "markets": [MARKETS["aster"]]})
    assert enabled_venues(settings) == ["paradex", "aster"]
    strategies = {name: Scripted(market) for name, market in MARKETS.items()}
    multi = build_multi_session({"paradex": (paradex, settings.paradex), "aster": (aster, settings.aster)},
                                settings, clock=clock, mode="test", strategies=strategies,
                                max_holding_seconds=0, trailing_activation_roe=Decimal(0), **overrides)
    reports: dict[str, list[BotEvent]] = {name: [] for name in MARKETS}
    for name, session in multi.sessions.items():
        session.bus.add_listener(reports[name].append)
        await session.bot.start()
    world = World(sim, multi, strategies, reports)
    # both venues have reported a balance: the budget now judges the whole portfolio
    assert multi.budget.equity() == 2 * FUND
    try:
        yield world
    finally:
        for session in multi.sessions.values():
            await session.bot.close()
        await sim.stop()


@pytest.mark.parametrize("world", [{"max_positions": 1}], indirect=True)
async def test_one_position_slot_shared_by_both_venues(world: World) -> None:
    world.strategies["paradex"].want(Side.BUY)
    await world.drive(lambda: world.holds("paradex"))

    world.strategies["aster"].want(Side.BUY)
    await world.drive(lambda: bool(world.signals("aster")))
    refused = world.signals("aster")[-1]
    assert not refused.acted
    assert "max positions reached (1 open, limit 1)" in refused.note
    assert await world.multi.sessions["aster"].exchange.positions() == []

    # once Paradex is flat again, the slot is free for Aster
    await world.multi.sessions["paradex"].bot.close_position(MARKETS["paradex"])
    await world.drive(lambda: not world.holds("paradex"))
    world.strategies["aster"].want(Side.BUY)
    await world.drive(lambda: world.holds("aster"))
    assert world.signals("aster")[-1].acted


@pytest.mark.parametrize("world", [{"max_positions": 2, "stop_loss_roe": Decimal(-90),
                                    "take_profit_roe": Decimal(900)}], indirect=True)
async def test_daily_loss_summed_over_both_venues_halts_both(world: World) -> None:
    budget = world.multi.budget
    for venue in MARKETS:
        world.strategies[venue].want(Side.BUY)
    await world.drive(lambda: world.holds("paradex") and world.holds("aster"))
    assert budget.engine.state is RiskState.ACTIVE
    assert budget.engine.status().start_of_day_equity == 2 * FUND  # the baseline is the portfolio

    # BTC gaps down 3%: both longs lose; together more than the 5% daily limit of the portfolio's equity
    world.sim.market.jump("BTC-USD-PERP", -0.03)
    # both bots close at the gapped prices; the closing fills reach each bot as account events
    for venue in MARKETS:
        await world.multi.sessions[venue].bot.close_position(MARKETS[venue])
    await world.drive(lambda: budget.engine.state is RiskState.HALTED)
    equity = budget.equity()
    assert equity is not None and equity < 2 * FUND * Decimal("0.95")
    assert budget.engine.state is RiskState.HALTED
    assert "daily loss limit hit" in budget.engine.reasons()[0]
    for session in world.multi.sessions.values():
        assert session.bot.risk.state is RiskState.HALTED

    # neither venue may enter again today
    await world.drive(lambda: not world.holds("paradex") and not world.holds("aster"))
    for venue in MARKETS:
        world.strategies[venue].want(Side.SELL)
    await world.drive(lambda: all(len(world.signals(v)) >= 2 for v in MARKETS))
    for venue in MARKETS:
        last = world.signals(venue)[-1]
        assert not last.acted and "risk state is HALTED" in last.note
