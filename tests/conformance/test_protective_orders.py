"""Stop-loss and take-profit rest on the venue UNTRIGGERED and fire when the mark price crosses them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flashscalper.domain import FillEvent, OrderRequest, OrderStatus, OrderType, Side
from tests.conformance.conftest import VenueHarness
from tests.conformance.test_orders import SIZE, order_state, position_in


async def open_long(venue: VenueHarness) -> None:
    entry = OrderRequest(venue.market, Side.BUY, OrderType.MARKET, SIZE, venue.client_id("e"))
    await venue.exchange.place_order(entry)
    await order_state(venue, entry.client_id, {OrderStatus.FILLED})
    position = await position_in(venue)
    assert position is not None and position.size == SIZE


def stop_loss(venue: VenueHarness, trigger: Decimal) -> OrderRequest:
    """A sell stop under a long: closes the whole position where the venue can, else reduce-only."""
    if venue.exchange.capabilities.close_position_orders:
        return OrderRequest(venue.market, Side.SELL, OrderType.STOP_MARKET, Decimal(0), venue.client_id("sl"),
                            trigger_price=trigger, close_position=True)
    return OrderRequest(venue.market, Side.SELL, OrderType.STOP_MARKET, SIZE, venue.client_id("sl"),
                        trigger_price=trigger, reduce_only=True)


async def test_stop_loss_rests_untriggered_and_closes_the_position_when_the_mark_falls(
        venue: VenueHarness) -> None:
    if not venue.exchange.capabilities.native_stop_orders:
        pytest.skip("venue cannot rest stops (capability native_stop_orders)")
    await open_long(venue)
    rules = await venue.rules()
    mark = venue.mark()
    request = stop_loss(venue, rules.round_price(mark * Decimal("0.99")))
    await venue.exchange.place_order(request)

    resting = await order_state(venue, request.client_id, {OrderStatus.UNTRIGGERED})
    assert resting.status is OrderStatus.UNTRIGGERED
    assert request.client_id in {o.client_id for o in await venue.exchange.open_orders(venue.market)}
    venue.move_mark(rules.round_price(mark * Decimal("0.995")))  # not far enough: still resting
    await venue.quiet(0.1)
    assert (await order_state(venue, request.client_id)).status is OrderStatus.UNTRIGGERED

    venue.move_mark(rules.round_price(mark * Decimal("0.985")))
    await venue.wait_for(lambda e: isinstance(e, FillEvent) and e.fill.client_id == request.client_id)
    assert (await order_state(venue, request.client_id, {OrderStatus.FILLED})).status is OrderStatus.FILLED
    assert await position_in(venue) is None


async def test_take_profit_rests_untriggered_and_fires_when_the_mark_rises(venue: VenueHarness) -> None:
    if not venue.exchange.capabilities.native_stop_orders:
        pytest.skip("venue cannot rest take-profits (capability native_stop_orders)")
    await open_long(venue)
    rules = await venue.rules()
    mark = venue.mark()
    request = OrderRequest(venue.market, Side.SELL, OrderType.TAKE_PROFIT_MARKET, SIZE, venue.client_id("tp"),
                           trigger_price=rules.round_price(mark * Decimal("1.01")), reduce_only=True)
    await venue.exchange.place_order(request)
    resting = await order_state(venue, request.client_id, {OrderStatus.UNTRIGGERED})
    assert resting.status is OrderStatus.UNTRIGGERED and resting.trigger_price == request.trigger_price

    venue.move_mark(rules.round_price(mark * Decimal("1.02")))
    fill = await venue.wait_for(lambda e: isinstance(e, FillEvent) and e.fill.client_id == request.client_id)
    assert isinstance(fill, FillEvent) and fill.fill.side is Side.SELL and fill.fill.size == SIZE
    assert await position_in(venue) is None
