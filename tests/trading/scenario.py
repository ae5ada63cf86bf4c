"""Building blocks for trading-core scenarios: a live simulated market in virtual time, a bot on it,
and a scripted strategy that signals when a test tells it to (a real Strategy, not a mock)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flashscalper.clock import ManualClock
from flashscalper.domain import Order, OrderType, Quote, Side
from flashscalper.exchanges.local import LocalExchange
from flashscalper.sim.engine import SimExchange
from flashscalper.sim.market_maker import MarketSimulator
from flashscalper.strategy.base import Signal, Strategy
from flashscalper.trading.bot import Bot, BotConfig
from flashscalper.trading.bus import EventBus, Subscription
from flashscalper.trading.risk import RiskEngine

BTC = "BTC-USD-PERP"
ETH = "ETH-USD-PERP"
SOL = "SOL-USD-PERP"
ACCOUNT = "bot"


class ScriptedStrategy(Strategy):
    """Signals ``side`` on the next quote of ``market`` after :meth:`go`; otherwise silent."""

    name = "scripted"

    def __init__(self) -> None:
        self.pending: dict[str, Side] = {}

    def go(self, market: str, side: Side) -> None:
        self.pending[market] = side

    def on_quote(self, quote: Quote) -> Signal | None:
        side = self.pending.pop(quote.market, None)
        if side is None:
            return None
        return Signal(quote.market, side, 0.9, ("scripted by the test",), {"mid": float(quote.mid)},
                      quote.ts, "scripted", self.name, quote.mid)


@dataclass
class Scenario:
    clock: ManualClock
    engine: SimExchange
    market: MarketSimulator
    venue: LocalExchange
    bot: Bot
    strategy: Strategy
    events: Subscription
    config: BotConfig
    seen: list[Any] = field(default_factory=list)

    async def step(self, ms: int = 250, times: int = 1) -> None:
        """Advance virtual time, move the market, let the bot handle everything."""
        for _ in range(times):
            self.clock.advance(ms)
            self.market.step(ms)
            await self.bot.process_pending()
        self.seen.extend(self.events.drain())

    async def settle(self) -> None:
        await self.bot.process_pending()
        self.seen.extend(self.events.drain())

    async def enter(self, market: str, side: Side, max_steps: int = 20) -> None:
        """Ask the scripted strategy for an entry and step until the position is open."""
        assert isinstance(self.strategy, ScriptedStrategy)
        self.strategy.go(market, side)
        for _ in range(max_steps):
            await self.step()
            if self.bot.positions.get(market) is not None and market not in self.bot.executor.entries:
                return
        raise AssertionError(f"no {side} position in {market} after {max_steps} steps")

    async def jump(self, market: str, fraction: float) -> None:
        """Move fair and mark price at once (the book follows right after the mark)."""
        self.market.jump(market, fraction)
        await self.settle()

    async def drift(self, market: str, fraction: float, steps: int = 10) -> None:
        """Move the price by ``fraction`` in small jumps, one market step apart (the book keeps up)."""
        for _ in range(steps):
            self.market.jump(market, fraction / steps)
            await self.step()

    def venue_orders(self, market: str | None = None) -> list[Order]:
        return self.engine.open_orders(ACCOUNT, market)

    def venue_position(self, market: str) -> Decimal:
        return self.engine.position(ACCOUNT, market).size

    def of_kind(self, kind: str) -> list[Any]:
        return [e for e in self.seen if e.kind == kind]


def make_scenario(*, seed: int = 3, collateral: Decimal = Decimal(10_000), strategy: Strategy | None = None,
                  venue_cls: type[LocalExchange] = LocalExchange, engine: SimExchange | None = None,
                  clock: ManualClock | None = None, market: MarketSimulator | None = None,
                  **config: Any) -> Scenario:
    """A seeded market, a funded account and a bot on it (not started)."""
    clock = clock or ManualClock()
    engine = engine or SimExchange(clock)
    market = market or MarketSimulator(engine, seed=seed)
    venue = venue_cls(engine, ACCOUNT, clock=clock, collateral=collateral)
    defaults: dict[str, Any] = {"markets": (BTC, ETH, SOL), "max_holding_seconds": 0,
                                "trailing_activation_roe": Decimal(0)}
    defaults.update(config)
    settings = BotConfig(**defaults)
    bus = EventBus()
    events = bus.subscribe(maxsize=100_000)
    strategy = strategy or ScriptedStrategy()
    bot = Bot(venue, strategy, RiskEngine(settings.risk_limits(), clock), settings=settings, clock=clock, bus=bus)
    return Scenario(clock, engine, market, venue, bot, strategy, events, settings)


async def started(**kwargs: Any) -> Scenario:
    s = make_scenario(**kwargs)
    await s.bot.start()
    await s.step(250, 4)  # a few quotes so the bot has prices
    return s


def exit_orders(orders: list[Order]) -> dict[OrderType, Order]:
    return {o.type: o for o in orders if o.type in (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET)}
