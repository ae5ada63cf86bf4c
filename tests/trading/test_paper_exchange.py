"""Paper mode: prices from a venue, fills from the local engine, nothing sent to the venue."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from flashscalper.clock import ManualClock
from flashscalper.domain import OrderRequest, OrderStatus, OrderType, Quote, Side, TimeInForce
from flashscalper.exchanges.local import LocalExchange
from flashscalper.exchanges.paper import PaperExchange
from flashscalper.sim.engine import SimExchange
from flashscalper.sim.market_maker import MarketSimulator

BTC = "BTC-USD-PERP"


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_paper_fills_at_the_venues_touch_and_never_trades_on_the_venue() -> None:
    clock = ManualClock()
    venue_engine = SimExchange(clock)
    market = MarketSimulator(venue_engine, seed=11)
    data_venue = LocalExchange(venue_engine, "watcher", clock=clock)
    paper = PaperExchange(data_venue, clock=clock, collateral=Decimal(5_000))
    await paper.connect()
    await paper.subscribe_market_data([BTC])
    clock.advance(200)
    market.step(200)
    await _settle()
    quotes = [e for e in paper.drain() if isinstance(e, Quote) and e.market == BTC]
    assert quotes, "paper mode must pass the venue's quotes on to the bot"
    touch = quotes[-1]

    order = await paper.place_order(OrderRequest(BTC, Side.BUY, OrderType.MARKET, Decimal("0.001"), client_id="p-1"))
    assert order.status is OrderStatus.FILLED
    assert order.avg_fill_price == touch.ask
    (position,) = await paper.positions()
    assert position.size == Decimal("0.001")
    # The data venue account never traded: paper orders stay local.
    assert await data_venue.positions() == [] and await data_venue.open_orders() == []
    assert venue_engine.fills("watcher") == []
    await paper.close()


async def test_resting_paper_limit_fills_when_venue_quotes_trade_through_it() -> None:
    clock = ManualClock()
    venue_engine = SimExchange(clock)
    market = MarketSimulator(venue_engine, seed=5)
    paper = PaperExchange(LocalExchange(venue_engine, "watcher", clock=clock), clock=clock)
    await paper.connect()
    await paper.subscribe_market_data([BTC])
    clock.advance(200)
    market.step(200)
    await _settle()
    touch = [e for e in paper.drain() if isinstance(e, Quote)][-1]
    tick = Decimal("0.1")
    resting = await paper.place_order(OrderRequest(BTC, Side.BUY, OrderType.LIMIT, Decimal("0.001"), client_id="p-2",
                                                   price=touch.bid - 50 * tick, tif=TimeInForce.GTC))
    assert resting.status is OrderStatus.OPEN
    # The venue's ask falls through our bid: the mirror quote now crosses and fills us.
    crossing = Quote(BTC, touch.bid - 80 * tick, Decimal(1), touch.bid - 60 * tick, Decimal(1), clock.time_ms())
    paper.on_market_event(crossing)
    filled = await paper.get_order(BTC, order_id=resting.id)
    assert filled.status is OrderStatus.FILLED
    assert filled.avg_fill_price == touch.bid - 50 * tick  # a resting order fills at its own price
    await paper.close()


async def test_a_stop_triggered_by_the_venues_price_fills_against_the_new_touch() -> None:
    # A data source with quotes but no mark feed (as candle and trade imports): the mark follows the mid.
    clock = ManualClock()
    paper = PaperExchange(LocalExchange(SimExchange(clock), "watcher", clock=clock), clock=clock)
    await paper.connect()
    tick = Decimal("0.1")
    start = Decimal(95_000)
    paper.on_market_event(Quote(BTC, start, Decimal(1), start + tick, Decimal(1), clock.time_ms()))
    await paper.place_order(OrderRequest(BTC, Side.BUY, OrderType.MARKET, Decimal("0.001"), client_id="p-3"))
    stop = await paper.place_order(OrderRequest(
        BTC, Side.SELL, OrderType.STOP_MARKET, Decimal("0.001"), client_id="p-4",
        trigger_price=start - 100 * tick, reduce_only=True,
    ))
    assert stop.status is OrderStatus.UNTRIGGERED
    # The venue gaps down through the stop: the stop must fill against the venue's new bid, not expire
    # against the empty book between the mirror's cancel and its re-quote.
    gapped = Quote(BTC, start - 150 * tick, Decimal(1), start - 149 * tick, Decimal(1), clock.time_ms())
    paper.on_market_event(gapped)
    fired = await paper.get_order(BTC, order_id=stop.id)
    assert fired.status is OrderStatus.FILLED
    assert fired.avg_fill_price == gapped.bid
    assert await paper.positions() == []
    await paper.close()
