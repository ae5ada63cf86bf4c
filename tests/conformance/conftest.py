"""One ``venue`` fixture, four venues: every conformance scenario runs against each of them.

* ``paradex``  — ParadexExchange over loopback REST + WS (fresh random identity, onboarded by the client)
* ``aster-v1`` — AsterExchange with an HMAC key pair created in the simulator's registry
* ``aster-v3`` — AsterExchange signing EIP-712 through an approved agent wallet
* ``local``    — LocalExchange straight on the simulator's engine (no wire)

Each test gets its own simulator on a ManualClock with a generated market (makers quoting, takers
trading) that moves only when the test calls :meth:`VenueHarness.step`, so every scenario is
deterministic. The venue and the simulator share the clock, so signatures and tokens agree.
Scenarios talk to the venue only through the :class:`Exchange` interface; the simulator handle is used
to arrange the world around it (counter-orders from another account, mark moves, dropped sockets).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from eth_account import Account

from flashscalper.clock import ManualClock
from flashscalper.domain import Event, Market, OrderRequest, Quote, Side
from flashscalper.exchanges.aster.client import AsterExchange
from flashscalper.exchanges.aster.rest import AgentCredentials, HmacCredentials
from flashscalper.exchanges.base import Exchange
from flashscalper.exchanges.local import LocalExchange
from flashscalper.exchanges.paradex.client import ParadexExchange, demo_identity
from flashscalper.exchanges.paradex.rest import ParadexRestClient
from flashscalper.sim.aster.registry import registry_of
from flashscalper.sim.server import Simulator

FUND = Decimal(10_000)
START_MS = 1_790_000_000_000
ENGINE_MARKET = "BTC-USD-PERP"
VENUES = ("paradex", "aster-v1", "aster-v3", "local")


@dataclass
class VenueHarness:
    """A connected venue, the simulator behind it, and the helpers scenarios arrange the world with."""

    kind: str
    exchange: Exchange
    sim: Simulator
    clock: ManualClock
    market: str  # the venue's symbol for the test market
    engine_market: str  # the same market as the simulator's engine names it
    events: list[Event] = field(default_factory=list)
    _pump: asyncio.Task[None] | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: int = 0

    # ---- events ------------------------------------------------------------------------------

    def start_pump(self) -> None:
        """Read ``exchange.events()`` (its one consumer) into ``events``, as a bot would."""

        async def pump() -> None:
            async for event in self.exchange.events():
                self.events.append(event)
                self._arrived.set()

        self._pump = asyncio.create_task(pump(), name=f"conformance-pump-{self.kind}")

    async def stop_pump(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pump

    async def wait_for(self, match: Callable[[Event], bool], *, timeout_s: float = 5.0,
                       after: int = 0) -> Event:
        """The first event (at index >= ``after``) that ``match`` accepts; fails after ``timeout_s``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        seen = after
        while True:
            for event in self.events[seen:]:
                if match(event):
                    return event
            seen = len(self.events)
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"{self.kind}: no matching event within {timeout_s}s")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)

    async def quiet(self, seconds: float = 0.3) -> None:
        """Let in-flight messages arrive (used before asserting that something did NOT happen)."""
        await asyncio.sleep(seconds)

    # ---- the world around the venue ------------------------------------------------------------

    def step(self, ms: int = 100, times: int = 1) -> None:
        """Move the generated market (and the shared clock) forward."""
        for _ in range(times):
            self.sim.advance(ms)

    async def rules(self) -> Market:
        return (await self.exchange.markets())[self.market]

    async def touch(self) -> Quote:
        return await self.exchange.quote(self.market)

    def client_id(self, tag: str) -> str:
        self._ids += 1
        return f"cf{tag}{self._ids}{secrets.token_hex(3)}"

    def counter_order(self, side: Side, size: Decimal, price: Decimal, *, account: str = "counterparty") -> None:
        """A limit order from another account, straight into the engine (funded on first use)."""
        engine = self.sim.exchange
        if account not in engine.accounts():
            engine.create_account(account, Decimal(1_000_000))
        from flashscalper.domain import OrderType  # local: keeps the fixture's import list short

        engine.submit_order(account, OrderRequest(self.engine_market, side, OrderType.LIMIT, size,
                                                  self.client_id("x"), price=price))

    def clear_book(self) -> None:
        """Pull every maker quote so the test's own orders are the only liquidity (until the next step)."""
        engine = self.sim.exchange
        for account in list(engine.accounts()):
            if account.startswith("mm-"):
                engine.cancel_all(account, self.engine_market)

    def move_mark(self, price: Decimal) -> None:
        """Set the oracle (mark) price and run the venue's triggers at it."""
        self.sim.exchange.set_mark_price(self.engine_market, price)
        self.sim.exchange.tick()

    def mark(self) -> Decimal:
        return self.sim.exchange.mark_price(self.engine_market)


async def _connect(kind: str, sim: Simulator, clock: ManualClock) -> tuple[Exchange, str]:
    urls = sim.urls
    assert urls is not None
    if kind == "paradex":
        rest = ParadexRestClient(urls.paradex_rest, demo_identity(sim.system), clock=clock)
        venue: Exchange = ParadexExchange(rest, urls.paradex_ws, clock=clock)
        market = ENGINE_MARKET
    elif kind == "aster-v1":
        key, secret, _ = registry_of(sim).add_api_key()
        venue = AsterExchange(urls.aster_rest, urls.aster_ws, HmacCredentials(key, secret), clock=clock)
        market = "BTCUSDT"
    elif kind == "aster-v3":
        user, agent = Account.create(), Account.create()
        registry_of(sim).add_agent(user.address, agent.address)
        venue = AsterExchange(urls.aster_rest, urls.aster_ws,
                              AgentCredentials(user.address, agent.address, agent.key.hex()), clock=clock)
        market = "BTCUSDT"
    elif kind == "local":
        venue = LocalExchange(sim.exchange, f"local-{secrets.token_hex(4)}", clock=clock, collateral=FUND)
        market = ENGINE_MARKET
    else:
        raise ValueError(kind)
    await venue.connect()
    return venue, market


@pytest.fixture(params=VENUES)
async def venue(request: pytest.FixtureRequest) -> AsyncIterator[VenueHarness]:
    """A connected venue with a fresh funded account on its own simulator (see the module docstring)."""
    clock = ManualClock(START_MS)
    sim = Simulator(seed=5, fund_usdc=FUND, clock=clock)
    await sim.start(port=0)
    sim.advance(100)  # one market step: quotes on both sides, a mark
    exchange, market = await _connect(request.param, sim, clock)
    harness = VenueHarness(request.param, exchange, sim, clock, market, ENGINE_MARKET)
    harness.start_pump()
    try:
        yield harness
    finally:
        await harness.stop_pump()
        with contextlib.suppress(Exception):
            await exchange.close()
        await sim.stop()
