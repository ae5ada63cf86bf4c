"""Bad orders fail with typed errors. Precision and notional are checked before anything is sent.

Insufficient margin is reported in one of two shapes, both typed and carrying the venue's reason:

* ``OrderRejected(reason)`` raised by ``place_order`` — aster-v1 and aster-v3 (the REST answer is
  ``-2019``, reason ``MARGIN_NOT_SUFFICIENT``);
* an acknowledgement, then an ``OrderUpdate`` with status REJECTED and ``cancel_reason`` —
  paradex (``NOT_ENOUGH_MARGIN``, the venue accepts the request and rejects it in its risk check) and
  local (the engine's answer is the REJECTED order itself, ``NOT_ENOUGH_MARGIN``).

The scenario accepts either shape; either way nothing rests and no position opens.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from flashscalper.domain import OrderRequest, OrderStatus, OrderType, OrderUpdate, Side
from flashscalper.errors import FlashScalperError, InvalidOrder, OrderNotFound, OrderRejected
from tests.conformance.conftest import VenueHarness
from tests.conformance.test_orders import SIZE


async def assert_never_reached_the_venue(venue: VenueHarness, client_id: str) -> None:
    with pytest.raises(OrderNotFound):
        await venue.exchange.get_order(venue.market, client_id=client_id)
    assert await venue.exchange.open_orders(venue.market) == []


async def test_price_off_the_tick_is_refused_before_sending(venue: VenueHarness) -> None:
    rules = await venue.rules()
    quote = await venue.touch()
    off_tick = rules.round_price(quote.bid * Decimal("0.99"), Side.BUY) + rules.tick_size / 2
    request = OrderRequest(venue.market, Side.BUY, OrderType.LIMIT, SIZE, venue.client_id("t"), price=off_tick)
    with pytest.raises(InvalidOrder):
        await venue.exchange.place_order(request)
    await assert_never_reached_the_venue(venue, request.client_id)


async def test_size_below_min_notional_is_refused_before_sending(venue: VenueHarness) -> None:
    rules = await venue.rules()
    quote = await venue.touch()
    price = rules.round_price(quote.bid * Decimal("0.99"), Side.BUY)
    tiny = rules.step_size  # one step of BTC is far below the minimum notional
    assert tiny * price < rules.min_notional
    request = OrderRequest(venue.market, Side.BUY, OrderType.LIMIT, tiny, venue.client_id("n"), price=price)
    with pytest.raises(InvalidOrder):
        await venue.exchange.place_order(request)
    await assert_never_reached_the_venue(venue, request.client_id)


async def test_unknown_market_is_an_error(venue: VenueHarness) -> None:
    request = OrderRequest("NOPE-NOT-A-MARKET", Side.BUY, OrderType.LIMIT, SIZE, venue.client_id("u"),
                           price=Decimal(100))
    with pytest.raises(FlashScalperError):
        await venue.exchange.place_order(request)
    with pytest.raises(FlashScalperError):
        await venue.exchange.subscribe_market_data(["NOPE-NOT-A-MARKET"])


async def test_order_beyond_the_margin_is_rejected_with_a_reason(venue: VenueHarness) -> None:
    rules = await venue.rules()
    quote = await venue.touch()
    balance = await venue.exchange.balance()
    price = rules.round_price(quote.bid * Decimal("0.99"), Side.BUY)  # resting: needs margin, fills nothing
    # thirty times the equity in notional: beyond any leverage the account is set to
    size = rules.round_size(balance.equity * 30 / price)
    if rules.max_order_size is not None:
        assert size <= rules.max_order_size, "the scenario needs an order the size rules allow"
    request = OrderRequest(venue.market, Side.BUY, OrderType.LIMIT, size, venue.client_id("g"), price=price)
    mark = len(venue.events)
    try:
        await venue.exchange.place_order(request)
    except OrderRejected as exc:
        assert exc.reason  # the venue's code, e.g. NOT_ENOUGH_MARGIN / -2019
    else:
        update = await venue.wait_for(
            lambda e: isinstance(e, OrderUpdate) and e.order.client_id == request.client_id
            and e.order.status is OrderStatus.REJECTED, after=mark)
        assert isinstance(update, OrderUpdate) and update.order.cancel_reason
    assert await venue.exchange.open_orders(venue.market) == []
    assert await venue.exchange.positions() == []
