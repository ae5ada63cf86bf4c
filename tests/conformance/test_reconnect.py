"""A dropped connection is repaired and re-read: a fill that happens while disconnected arrives exactly once."""

from __future__ import annotations

from decimal import Decimal

from flashscalper.domain import (
    ConnectionEvent,
    ConnectionState,
    FillEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from tests.conformance.conftest import VenueHarness
from tests.conformance.test_orders import SIZE, order_state, position_in


async def test_fill_while_disconnected_is_delivered_once_after_resync(venue: VenueHarness) -> None:
    await venue.exchange.subscribe_market_data([venue.market])
    rules = await venue.rules()
    quote = await venue.touch()
    price = quote.bid + rules.tick_size  # our bid becomes the best bid, so the counter-order hits it first
    request = OrderRequest(venue.market, Side.BUY, OrderType.LIMIT, SIZE, venue.client_id("d"), price=price)
    await venue.exchange.place_order(request)
    await order_state(venue, request.client_id, {OrderStatus.OPEN})

    mark = len(venue.events)
    # a venue with sockets reports their state; the in-process one has none to drop
    has_connections = any(isinstance(e, ConnectionEvent) for e in venue.events)
    await venue.sim.faults.drop_connections()
    venue.counter_order(Side.SELL, SIZE, price)  # fills us while no socket is there to tell us

    fill = await venue.wait_for(lambda e: isinstance(e, FillEvent) and e.fill.client_id == request.client_id,
                                after=mark, timeout_s=10)
    assert isinstance(fill, FillEvent) and fill.fill.size == SIZE and fill.fill.price == price
    if has_connections:  # it noticed the drop, reconnected and said so
        down = await venue.wait_for(
            lambda e: isinstance(e, ConnectionEvent) and e.state is ConnectionState.DISCONNECTED, after=mark)
        back = await venue.wait_for(
            lambda e: isinstance(e, ConnectionEvent) and e.state is not ConnectionState.DISCONNECTED,
            after=venue.events.index(down), timeout_s=10)
        assert isinstance(back, ConnectionEvent)

    # more traffic and a second drop must not replay the fill
    venue.step(100, times=3)
    await venue.sim.faults.drop_connections()
    await venue.quiet(1.0)
    venue.step(100)
    await venue.quiet(0.5)
    copies = [e for e in venue.events if isinstance(e, FillEvent) and e.fill.id == fill.fill.id]
    assert len(copies) == 1
    assert (await order_state(venue, request.client_id)).status is OrderStatus.FILLED
    position = await position_in(venue)
    assert position is not None and position.size == SIZE
    assert sum((e.fill.size for e in venue.events
                if isinstance(e, FillEvent) and e.fill.client_id == request.client_id), Decimal(0)) == SIZE
