"""Pre-trade validation: every rule refuses with a message naming the value, the rule and a valid value."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flashscalper.domain import Market, OrderRequest, OrderType, Side, TimeInForce
from flashscalper.errors import InvalidOrder
from flashscalper.exchanges.paradex.validation import validate_order

D = Decimal
BTC = Market(
    symbol="BTC-USD-PERP", base="BTC", quote="USD", tick_size=D("0.1"), step_size=D("0.001"),
    min_notional=D(100), max_order_size=D(10), position_limit=D(20),
)


def limit(side: Side = Side.BUY, size: str = "0.01", price: str = "65000.0", **kw: object) -> OrderRequest:
    return OrderRequest("BTC-USD-PERP", side, OrderType.LIMIT, D(size), "c1", price=D(price), **kw)


def rejected(request: OrderRequest, **kw: object) -> InvalidOrder:
    with pytest.raises(InvalidOrder) as info:
        validate_order(request, BTC, **kw)
    return info.value


def test_a_well_formed_limit_order_passes():
    validate_order(limit(), BTC)


def test_price_off_tick_names_the_tick_and_the_nearest_price():
    err = rejected(limit(price="65000.03"))
    assert err.rule == "tick"
    assert str(err) == "price 65000.03 is not a multiple of the BTC-USD-PERP tick 0.1; nearest valid: 65000.0"


def test_trigger_off_tick():
    req = OrderRequest("BTC-USD-PERP", Side.SELL, OrderType.STOP_MARKET, D("0.01"), "c", trigger_price=D("60000.06"))
    err = rejected(req)
    assert err.rule == "tick" and "trigger price 60000.06" in str(err) and "nearest valid: 60000.1" in str(err)


def test_size_off_step():
    err = rejected(limit(size="0.0105"))
    assert err.rule == "step"
    assert "size 0.0105" in str(err) and "increment 0.001" in str(err) and "nearest valid: 0.010" in str(err)


def test_size_below_one_step_suggests_one_step():
    err = rejected(limit(size="0.0004"))
    assert err.rule == "step" and str(err).endswith("nearest valid: 0.001")


def test_zero_size_is_refused_unless_closing_the_whole_position():
    assert rejected(limit(size="0")).rule == "size"
    close = OrderRequest("BTC-USD-PERP", Side.SELL, OrderType.STOP_MARKET, D(0), "c", trigger_price=D(60000),
                         close_position=True)
    validate_order(close, BTC)


def test_min_notional_uses_the_limit_price():
    err = rejected(limit(size="0.001", price="65000.0"))
    assert err.rule == "min_notional"
    assert "notional 65.0000" in str(err) and "minimum 100" in str(err) and "nearest valid: size 0.002" in str(err)


def test_min_notional_of_a_market_order_uses_the_mark_and_is_skipped_without_one():
    market = OrderRequest("BTC-USD-PERP", Side.BUY, OrderType.MARKET, D("0.001"), "c")
    validate_order(market, BTC)  # no mark: the venue decides
    err = rejected(market, mark_price=D(50000))
    assert err.rule == "min_notional" and "× 50000" in str(err)


def test_reduce_only_close_of_the_whole_position_may_be_below_min_notional():
    close = limit(side=Side.SELL, size="0.001", reduce_only=True)
    validate_order(close, BTC, position_size=D("0.001"))
    partial = limit(side=Side.SELL, size="0.001", reduce_only=True)
    assert rejected(partial, position_size=D("0.5")).rule == "min_notional"


def test_max_order_size():
    err = rejected(limit(size="10.5", price="10.0"))
    assert err.rule == "max_order_size" and "max order size 10" in str(err) and "nearest valid: 10" in str(err)


def test_position_limit_counts_the_current_position():
    err = rejected(limit(size="6", price="100.0"), position_size=D(15))
    assert err.rule == "position_limit"
    assert "position to 21" in str(err) and "limit 20" in str(err) and str(err).endswith("nearest valid: size 5")
    validate_order(limit(side=Side.SELL, size="6", price="100.0"), BTC, position_size=D(15))  # reduces


def test_reduce_only_must_reduce_a_known_position():
    err = rejected(limit(side=Side.BUY, reduce_only=True), position_size=D("0.5"))
    assert err.rule == "reduce_only" and "would not reduce" in str(err) and "SELL" in str(err)
    assert rejected(limit(side=Side.SELL, reduce_only=True), position_size=D(0)).rule == "reduce_only"


def test_limit_types_need_a_price():
    req = OrderRequest("BTC-USD-PERP", Side.BUY, OrderType.STOP_LIMIT, D("0.01"), "c", trigger_price=D(60000))
    err = rejected(req)
    assert err.rule == "price" and "STOP_LIMIT" in str(err) and "missing" in str(err)


def test_stop_types_need_a_trigger_and_plain_orders_refuse_one():
    stop = OrderRequest("BTC-USD-PERP", Side.SELL, OrderType.TAKE_PROFIT_MARKET, D("0.01"), "c")
    assert rejected(stop).rule == "trigger"
    assert rejected(limit(trigger_price=D(1))).rule == "trigger"


def test_time_in_force_rules():
    assert rejected(limit(tif=TimeInForce.FOK)).rule == "tif"
    post_only_market = OrderRequest("BTC-USD-PERP", Side.BUY, OrderType.MARKET, D(1), "c",
                                    tif=TimeInForce.POST_ONLY)
    assert rejected(post_only_market).rule == "tif"


def test_wrong_market_and_close_position_on_plain_order():
    other = OrderRequest("ETH-USD-PERP", Side.BUY, OrderType.MARKET, D(1), "c")
    assert rejected(other).rule == "market"
    assert rejected(limit(close_position=True)).rule == "type"
