"""LocalExchange: the venue interface straight on the in-process engine (paper mode and backtests use it)."""

from __future__ import annotations

from decimal import Decimal

from flashscalper.clock import ManualClock
from flashscalper.domain import (
    BalanceUpdate,
    FillEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionUpdate,
    Quote,
    Side,
)
from flashscalper.exchanges.base import Exchange
from flashscalper.exchanges.local import LocalExchange
from flashscalper.sim.engine import SimExchange
from flashscalper.sim.market_maker import MarketSimulator


def make_venue() -> tuple[ManualClock, SimExchange, MarketSimulator, LocalExchange]:
    clock = ManualClock()
    engine = SimExchange(clock)
    market = MarketSimulator(engine, seed=3)
    venue = LocalExchange(engine, "bot", clock=clock, collateral=Decimal(10_000))
    return clock, engine, market, venue


async def test_market_order_fills_and_reports_in_domain_events() -> None:
    clock, _engine, market, venue = make_venue()
    assert isinstance(venue, Exchange)
    await venue.subscribe_market_data(["BTC-USD-PERP"])
    clock.advance(250)
    market.step(250)
    quotes = [e for e in venue.drain() if isinstance(e, Quote)]
    assert quotes and all(q.market == "BTC-USD-PERP" and q.bid < q.ask for q in quotes)

    order = await venue.place_order(
        OrderRequest("BTC-USD-PERP", Side.BUY, OrderType.MARKET, Decimal("0.01"), client_id="fs-1")
    )
    assert order.status is OrderStatus.FILLED
    events = venue.drain()
    kinds = {type(e) for e in events}
    assert {OrderUpdate, FillEvent, PositionUpdate, BalanceUpdate} <= kinds
    fills = [e.fill for e in events if isinstance(e, FillEvent)]
    assert sum(f.size for f in fills) == Decimal("0.01")
    (position,) = await venue.positions()
    assert position.size == Decimal("0.01")
    assert (await venue.get_order("BTC-USD-PERP", client_id="fs-1")).status is OrderStatus.FILLED


async def test_cancel_of_unknown_order_is_terminal_not_an_error() -> None:
    _clock, _engine, _market, venue = make_venue()
    assert await venue.cancel_order("BTC-USD-PERP", order_id="no-such-order") is False
    assert await venue.cancel_order("BTC-USD-PERP", client_id="never-sent") is False
