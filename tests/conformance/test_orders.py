"""Order entry through the Exchange interface: resting, cancelling, filling, partial fills, reduce-only."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from flashscalper.domain import (
    FillEvent,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    Side,
)
from flashscalper.errors import ExchangeError, InvalidOrder, OrderNotFound
from tests.conformance.conftest import VenueHarness

SIZE = Decimal("0.002")


async def order_state(venue: VenueHarness, client_id: str, until: set[OrderStatus] | None = None,
                      timeout_s: float = 3.0) -> Order:
    """The venue's view of one order by client id (polled until its status is in ``until``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        order = await venue.exchange.get_order(venue.market, client_id=client_id)
        if until is None or order.status in until or loop.time() > deadline:
            return order
        await asyncio.sleep(0.05)


async def position_in(venue: VenueHarness) -> Position | None:
    return next((p for p in await venue.exchange.positions() if p.market == venue.market and p.size != 0), None)


async def place_limit_away(venue: VenueHarness, side: Side = Side.BUY, size: Decimal = SIZE) -> OrderRequest:
    rules = await venue.rules()
    quote = await venue.touch()
    away = quote.bid * Decimal("0.99") if side is Side.BUY else quote.ask * Decimal("1.01")
    request = OrderRequest(venue.market, side, OrderType.LIMIT, size, venue.client_id("l"),
                           price=rules.round_price(away, side))
    ack = await venue.exchange.place_order(request)
    assert ack.client_id == request.client_id
    assert ack.status in (OrderStatus.NEW, OrderStatus.OPEN)
    return request


async def test_limit_away_from_the_touch_rests_open_and_cancels_once(venue: VenueHarness) -> None:
    request = await place_limit_away(venue)

    resting = await order_state(venue, request.client_id, {OrderStatus.OPEN})
    assert resting.status is OrderStatus.OPEN
    assert resting.side is Side.BUY and resting.size == SIZE and resting.price == request.price
    assert resting.filled_size == 0
    assert [o.client_id for o in await venue.exchange.open_orders(venue.market)] == [request.client_id]

    assert await venue.exchange.cancel_order(venue.market, client_id=request.client_id) is True
    assert await venue.exchange.open_orders(venue.market) == []
    try:
        closed = await order_state(venue, request.client_id, {OrderStatus.CANCELED})
    except OrderNotFound:
        pass  # a venue may forget closed orders; "gone" is what matters
    else:
        assert closed.status is OrderStatus.CANCELED
    # cancelling what is already closed is a terminal answer, not an error
    assert await venue.exchange.cancel_order(venue.market, client_id=request.client_id) is False


async def test_market_order_fills_and_opens_a_signed_position(venue: VenueHarness) -> None:
    before = await venue.exchange.balance()
    mark = len(venue.events)
    request = OrderRequest(venue.market, Side.SELL, OrderType.MARKET, SIZE, venue.client_id("m"))
    await venue.exchange.place_order(request)

    fill = await venue.wait_for(lambda e: isinstance(e, FillEvent) and e.fill.client_id == request.client_id,
                                after=mark)
    assert isinstance(fill, FillEvent)
    assert fill.fill.side is Side.SELL and fill.fill.market == venue.market and fill.fill.price > 0
    assert (await order_state(venue, request.client_id, {OrderStatus.FILLED})).status is OrderStatus.FILLED

    position = await position_in(venue)
    assert position is not None and position.size == -SIZE  # short: negative
    after = await venue.exchange.balance()
    assert after.initial_margin > before.initial_margin
    assert after.available < before.available


async def test_limit_partially_filled_by_a_smaller_counter_order_stays_open(venue: VenueHarness) -> None:
    rules = await venue.rules()
    quote = await venue.touch()
    price = quote.bid + rules.tick_size  # inside the spread: the counter-order becomes the best ask
    assert price < quote.ask
    small = SIZE / 2
    venue.counter_order(Side.SELL, small, price)

    mark = len(venue.events)
    request = OrderRequest(venue.market, Side.BUY, OrderType.LIMIT, SIZE, venue.client_id("p"), price=price)
    await venue.exchange.place_order(request)

    fill = await venue.wait_for(lambda e: isinstance(e, FillEvent) and e.fill.client_id == request.client_id,
                                after=mark)
    assert isinstance(fill, FillEvent) and fill.fill.size == small and fill.fill.price == price
    order = await order_state(venue, request.client_id)
    assert order.status is OrderStatus.OPEN
    assert order.filled_size == small and order.remaining_size == SIZE - small
    assert [o.client_id for o in await venue.exchange.open_orders(venue.market)] == [request.client_id]
    position = await position_in(venue)
    assert position is not None and position.size == small


async def test_reduce_only_larger_than_the_position_never_flips_it(venue: VenueHarness) -> None:
    entry = OrderRequest(venue.market, Side.BUY, OrderType.MARKET, SIZE, venue.client_id("e"))
    await venue.exchange.place_order(entry)
    await order_state(venue, entry.client_id, {OrderStatus.FILLED})

    too_big = OrderRequest(venue.market, Side.SELL, OrderType.MARKET, SIZE * 3, venue.client_id("r"),
                           reduce_only=True)
    try:
        await venue.exchange.place_order(too_big)
    except (InvalidOrder, ExchangeError):
        pass  # refusing it outright also keeps the position from flipping
    await venue.quiet(0.2)
    position = await position_in(venue)
    assert position is None or position.size > 0  # flat or still long, never short
    fills = [e.fill for e in venue.events if isinstance(e, FillEvent) and e.fill.client_id == too_big.client_id]
    assert sum((f.size for f in fills), Decimal(0)) <= SIZE
    updates = [e.order for e in venue.events if isinstance(e, OrderUpdate) and e.order.client_id == too_big.client_id]
    assert all(o.filled_size <= SIZE for o in updates)
