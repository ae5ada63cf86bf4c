"""Stops and take-profits (mark and last triggers, close-position), and reduce-only never growing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flashscalper.domain import OrderStatus, OrderType, Side, TriggerSource
from flashscalper.sim.engine import OrderValidationError, SimExchange
from tests.sim.helpers import BTC, conditional, limit, market

D = Decimal


def _open_long(ex: SimExchange, account: str = "alice", size: str = "0.2") -> None:
    limit(ex, "carol", Side.SELL, size, "95000")
    assert market(ex, account, Side.BUY, size).status is OrderStatus.FILLED


def test_stop_market_waits_untriggered_then_fires_on_mark(ex: SimExchange) -> None:
    _open_long(ex)
    stop = conditional(ex, "alice", Side.SELL, OrderType.STOP_MARKET, "0.2", "94000", reduce_only=True)
    assert stop.status is OrderStatus.UNTRIGGERED and stop in ex.open_orders("alice")
    limit(ex, "bob", Side.BUY, "0.5", "93900")
    ex.set_mark_price(BTC, D("94100"))
    assert ex.get_order(stop.id).status is OrderStatus.UNTRIGGERED
    ex.set_mark_price(BTC, D("94000"))
    fired = ex.get_order(stop.id)
    assert fired.status is OrderStatus.FILLED and fired.avg_fill_price == D("93900")
    assert ex.position("alice", BTC).size == 0


def test_stop_limit_rests_after_trigger(ex: SimExchange) -> None:
    order = conditional(ex, "alice", Side.BUY, OrderType.STOP_LIMIT, "0.1", "96000", price="96100")
    ex.set_mark_price(BTC, D("96000"))
    rested = ex.get_order(order.id)
    assert rested.status is OrderStatus.OPEN and ex.book_snapshot(BTC).bids[0].price == D("96100")


def test_take_profit_triggers_in_the_profitable_direction(ex: SimExchange) -> None:
    _open_long(ex)
    tp = conditional(ex, "alice", Side.SELL, OrderType.TAKE_PROFIT_LIMIT, "0.2", "96000", price="96000",
                     reduce_only=True)
    ex.set_mark_price(BTC, D("94000"))  # a stop would fire here, a take-profit must not
    assert ex.get_order(tp.id).status is OrderStatus.UNTRIGGERED
    ex.set_mark_price(BTC, D("96000"))
    assert ex.get_order(tp.id).status is OrderStatus.OPEN
    market(ex, "bob", Side.BUY, "0.2")
    assert ex.get_order(tp.id).status is OrderStatus.FILLED
    assert ex.position("alice", BTC).realized_pnl == D("0.2") * (D("96000") - D("95000"))


def test_last_price_trigger_fires_on_a_trade_not_on_mark(ex: SimExchange) -> None:
    stop = conditional(ex, "alice", Side.BUY, OrderType.STOP_MARKET, "0.1", "95500",
                       trigger_source=TriggerSource.LAST)
    ex.set_mark_price(BTC, D("95600"))
    assert ex.get_order(stop.id).status is OrderStatus.UNTRIGGERED
    limit(ex, "carol", Side.SELL, "0.1", "95500")
    limit(ex, "carol", Side.SELL, "0.1", "95600")
    market(ex, "bob", Side.BUY, "0.1")  # trades at 95500 -> last price reaches the trigger
    fired = ex.get_order(stop.id)
    assert fired.status is OrderStatus.FILLED and fired.avg_fill_price == D("95600")


def test_close_position_orders_size_at_trigger_and_cancel_the_other_leg(ex: SimExchange) -> None:
    _open_long(ex, size="0.3")
    sl = conditional(ex, "alice", Side.SELL, OrderType.STOP_MARKET, "0", "94000", close_position=True)
    tp = conditional(ex, "alice", Side.SELL, OrderType.TAKE_PROFIT_MARKET, "0", "97000", close_position=True)
    limit(ex, "bob", Side.BUY, "1", "96990")
    ex.set_mark_price(BTC, D("97000"))
    assert ex.get_order(tp.id).filled_size == D("0.3")
    assert ex.position("alice", BTC).size == 0
    other = ex.get_order(sl.id)
    assert other.status is OrderStatus.CANCELED and other.cancel_reason == "OCO"


def test_close_position_with_no_position_is_cancelled_at_trigger(ex: SimExchange) -> None:
    sl = conditional(ex, "alice", Side.SELL, OrderType.STOP_MARKET, "0", "94000", close_position=True)
    ex.set_mark_price(BTC, D("94000"))
    assert ex.get_order(sl.id).cancel_reason == "NO_POSITION"


def test_reduce_only_taker_is_capped_at_the_position(ex: SimExchange) -> None:
    _open_long(ex, size="0.2")
    limit(ex, "bob", Side.BUY, "1", "94990")
    # two reduce-only sells that together exceed the position: the second is trimmed by the first
    first = market(ex, "alice", Side.SELL, "0.15", reduce_only=True)
    second = market(ex, "alice", Side.SELL, "0.1", reduce_only=True)
    assert first.filled_size == D("0.15")
    assert second.status is OrderStatus.REJECTED and second.cancel_reason == "REDUCE_ONLY_WOULD_INCREASE"
    assert ex.position("alice", BTC).size == D("0.05")


def test_resting_reduce_only_is_cancelled_when_the_position_shrinks_below_it(ex: SimExchange) -> None:
    _open_long(ex, size="0.2")
    ro = limit(ex, "alice", Side.SELL, "0.2", "97000", reduce_only=True)
    small = limit(ex, "alice", Side.SELL, "0.05", "97500", reduce_only=True)
    limit(ex, "bob", Side.BUY, "0.1", "94990")
    market(ex, "alice", Side.SELL, "0.1")  # ordinary sell shrinks the long to 0.1
    assert ex.get_order(ro.id).cancel_reason == "REDUCE_ONLY_EXCEEDS_POSITION"
    assert ex.get_order(small.id).status is OrderStatus.OPEN


def test_reduce_only_maker_never_flips_the_position(ex: SimExchange) -> None:
    _open_long(ex, size="0.1")
    ro = limit(ex, "alice", Side.SELL, "0.1", "95100", reduce_only=True)
    limit(ex, "bob", Side.BUY, "0.1", "94990")
    market(ex, "alice", Side.SELL, "0.05")
    # the resting reduce-only order (0.1) is now larger than the 0.05 long and was cancelled
    assert ex.get_order(ro.id).status is OrderStatus.CANCELED
    market(ex, "bob", Side.BUY, "0.2")
    assert ex.position("alice", BTC).size == D("0.05")


def test_reduce_only_below_min_notional_is_accepted(ex: SimExchange) -> None:
    _open_long(ex, size="0.0002")
    limit(ex, "bob", Side.BUY, "0.0002", "94990")
    # 0.0001 BTC = 9.5 USD is below the 10 USD minimum: refused as an opening order, fine as reduce-only
    with pytest.raises(OrderValidationError):
        market(ex, "alice", Side.SELL, "0.0001")
    closing = market(ex, "alice", Side.SELL, "0.0001", reduce_only=True)
    assert closing.status is OrderStatus.FILLED
