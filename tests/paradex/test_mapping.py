"""Paradex JSON → domain and OrderRequest → body, with the shapes of protocol/paradex.md §2."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flashscalper.domain import Liquidity, OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from flashscalper.errors import MalformedMessage
from flashscalper.exchanges.paradex import mapping as m

D = Decimal


def venue_order(**over: object) -> dict:
    order = {
        "id": "1681462103821101699438490000",
        "account": "0x129f",
        "market": "BTC-USD-PERP",
        "side": "BUY",
        "type": "LIMIT",
        "size": "0.5",
        "remaining_size": "0.5",
        "price": "65000.1",
        "avg_fill_price": "",
        "status": "OPEN",
        "cancel_reason": "",
        "client_id": "fs-1",
        "instruction": "GTC",
        "flags": [],
        "stp": "EXPIRE_TAKER",
        "trigger_price": "0",
        "timestamp": 1_700_000_000_000,
        "created_at": 1_700_000_000_010,
        "last_updated_at": 1_700_000_000_020,
        "seq_no": 42,
    }
    order.update(over)
    return order


BTC_MARKET = {
    "symbol": "BTC-USD-PERP",
    "base_currency": "BTC",
    "quote_currency": "USD",
    "settlement_currency": "USDC",
    "asset_kind": "PERP",
    "order_size_increment": "0.001",
    "price_tick_size": "0.1",
    "min_notional": "100",
    "max_order_size": "100",
    "position_limit": "500",
    "max_open_orders": 100,
    "funding_period_hours": 8,
    "delta1_cross_margin_params": {"imf_base": "0.02", "imf_factor": "0", "imf_shift": "0", "mmf_factor": "0.5"},
}


# ---- orders: every status and cancel reason ----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason", "remaining", "expected"),
    [
        ("NEW", "", "0.5", OrderStatus.NEW),
        ("UNTRIGGERED", "", "0.5", OrderStatus.UNTRIGGERED),
        ("OPEN", "", "0.2", OrderStatus.OPEN),
        ("CLOSED", "", "0", OrderStatus.FILLED),
        ("CLOSED", "", "0.2", OrderStatus.CANCELED),
        ("CLOSED", "USER_CANCELED", "0.5", OrderStatus.CANCELED),
        ("CLOSED", "NOT_ENOUGH_MARGIN", "0.5", OrderStatus.REJECTED),
        ("CLOSED", "ORDER_EXCEEDS_POSITION_LIMIT", "0.5", OrderStatus.REJECTED),
        ("CLOSED", "POST_ONLY_WOULD_CROSS", "0.5", OrderStatus.REJECTED),
        ("CLOSED", "EXPIRED", "0.5", OrderStatus.EXPIRED),
        ("CLOSED", "MMP_TRIGGERED", "0.5", OrderStatus.CANCELED),
        ("CLOSED", "SOME_FUTURE_REASON", "0.1", OrderStatus.CANCELED),
    ],
)
def test_order_status_from_status_reason_and_remaining(status, reason, remaining, expected):
    order = m.order_from(venue_order(status=status, cancel_reason=reason, remaining_size=remaining))
    assert order.status is expected
    assert order.cancel_reason == reason
    assert order.filled_size == D("0.5") - D(remaining)


def test_open_limit_order_maps_every_field():
    order = m.order_from(venue_order(remaining_size="0.3", avg_fill_price="64999.9", instruction="POST_ONLY"))
    assert order.id == "1681462103821101699438490000"
    assert order.client_id == "fs-1"
    assert (order.market, order.side, order.type) == ("BTC-USD-PERP", Side.BUY, OrderType.LIMIT)
    assert order.size == D("0.5") and order.filled_size == D("0.2") and order.remaining_size == D("0.3")
    assert order.price == D("65000.1") and order.trigger_price is None
    assert order.avg_fill_price == D("64999.9")
    assert order.tif is TimeInForce.POST_ONLY
    assert not order.reduce_only
    assert (order.created_at, order.updated_at, order.seq_no) == (1_700_000_000_010, 1_700_000_000_020, 42)


def test_market_order_price_zero_means_no_price_and_empty_instruction_is_gtc():
    order = m.order_from(venue_order(type="MARKET", price="0", instruction="", side="SELL"))
    assert order.type is OrderType.MARKET and order.price is None
    assert order.tif is TimeInForce.GTC and order.side is Side.SELL


@pytest.mark.parametrize(
    ("venue_type", "domain_type"),
    [
        ("STOP_LOSS_MARKET", OrderType.STOP_MARKET),
        ("STOP_LOSS_LIMIT", OrderType.STOP_LIMIT),
        ("TAKE_PROFIT_MARKET", OrderType.TAKE_PROFIT_MARKET),
        ("TAKE_PROFIT_LIMIT", OrderType.TAKE_PROFIT_LIMIT),
    ],
)
def test_tpsl_orders_are_reduce_only_stops_with_trigger(venue_type, domain_type):
    order = m.order_from(venue_order(type=venue_type, status="UNTRIGGERED", trigger_price="60000", size="0",
                                     remaining_size="0"))
    assert order.type is domain_type
    assert order.reduce_only
    assert order.trigger_price == D(60000)
    assert order.status is OrderStatus.UNTRIGGERED


def test_reduce_only_flag_and_ioc_instruction():
    order = m.order_from(venue_order(flags=["REDUCE_ONLY", "INTERACTIVE"], instruction="IOC"))
    assert order.reduce_only and order.tif is TimeInForce.IOC


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"size": None}, "size"),
        ({"remaining_size": "abc"}, "remaining_size"),
        ({"price": 65000.1}, "price"),  # floats are refused: they already lost precision
        ({"status": "PENDING"}, "PENDING"),
        ({"type": "ICEBERG"}, "type"),
        ({"side": "LONG"}, "side"),
        ({"instruction": "FOK"}, "instruction"),
        ({"flags": "REDUCE_ONLY"}, "flags"),
        ({"market": 7}, "market"),
        ({"created_at": "yesterday"}, "created_at"),
    ],
)
def test_malformed_order_fields_are_named(override, field):
    with pytest.raises(MalformedMessage, match=field):
        m.order_from(venue_order(**override))


def test_missing_order_field_is_named():
    raw = venue_order()
    del raw["market"]
    with pytest.raises(MalformedMessage, match=r"order\[1681462103821101699438490000\]\.market"):
        m.order_from(raw)
    with pytest.raises(MalformedMessage, match="JSON object"):
        m.order_from(["not", "an", "object"])


# ---- market ---------------------------------------------------------------------------------------


def test_market_rules_come_from_the_markets_endpoint():
    market = m.market_from(BTC_MARKET)
    assert market.symbol == "BTC-USD-PERP" and (market.base, market.quote) == ("BTC", "USD")
    assert market.tick_size == D("0.1") and market.step_size == D("0.001")
    assert market.min_notional == D(100) and market.max_order_size == D(100)
    assert market.position_limit == D(500) and market.max_open_orders == 100
    assert market.imf_base == D("0.02") and market.mmf_factor == D("0.5")
    assert market.max_leverage == D(50)
    assert market.funding_period_hours == 8


def test_market_without_margin_params_or_with_bad_tick_is_malformed():
    broken = dict(BTC_MARKET)
    del broken["delta1_cross_margin_params"]
    with pytest.raises(MalformedMessage, match="delta1_cross_margin_params"):
        m.market_from(broken)
    with pytest.raises(MalformedMessage, match="price_tick_size"):
        m.market_from(dict(BTC_MARKET, price_tick_size="0.1x"))
    with pytest.raises(MalformedMessage, match="funding_period_hours"):
        m.market_from(dict(BTC_MARKET, funding_period_hours=0.5))


# ---- account, positions, fills ------------------------------------------------------------------


def test_short_position_has_negative_size_and_empty_liquidation_price_is_none():
    pos = m.position_from({
        "market": "ETH-USD-PERP", "status": "OPEN", "side": "SHORT", "size": "-2.5",
        "average_entry_price": "3000.5", "unrealized_pnl": "-12.3", "realized_positional_pnl": "4",
        "liquidation_price": "", "leverage": "10", "last_updated_at": 5, "seq_no": 9,
    })
    assert pos.size == D("-2.5") and pos.side is Side.SELL
    assert pos.entry_price == D("3000.5") and pos.unrealized_pnl == D("-12.3") and pos.realized_pnl == D(4)
    assert pos.liquidation_price is None and pos.leverage == D(10)


def test_unsigned_short_size_is_signed_by_side():
    pos = m.position_from({"market": "ETH-USD-PERP", "side": "SHORT", "size": "1", "average_entry_price": "1"})
    assert pos.size == D(-1)


def test_fill_maps_liquidity_fee_and_pnl():
    fill = m.fill_from({
        "id": "f1", "order_id": "o1", "client_id": "c1", "market": "BTC-USD-PERP", "side": "SELL",
        "liquidity": "MAKER", "price": "65000", "size": "0.01", "remaining_size": "0", "fee": "0.0195",
        "fee_currency": "USDC", "realized_pnl": "1.5", "created_at": 1_700_000_000_000,
    })
    assert (fill.id, fill.order_id, fill.client_id) == ("f1", "o1", "c1")
    assert fill.side is Side.SELL and fill.liquidity is Liquidity.MAKER
    assert fill.price * fill.size == D("650.00") and fill.fee == D("0.0195") and fill.realized_pnl == D("1.5")
    with pytest.raises(MalformedMessage, match="liquidity"):
        m.fill_from({"id": "f1", "order_id": "o1", "market": "X", "side": "BUY", "liquidity": "BOTH",
                     "price": "1", "size": "1", "created_at": 1})


def test_balance_combines_account_summary_and_token_balances():
    tokens = m.token_balances_from({"results": [{"token": "USDC", "size": "10000.5", "last_updated_at": 1}]})
    balance = m.balance_from({
        "account": "0x1", "account_value": "10050.25", "total_collateral": "10050.25", "free_collateral": "9000",
        "initial_margin_requirement": "1050.25", "maintenance_margin_requirement": "525", "settlement_asset": "USDC",
        "status": "ACTIVE", "seq_no": 3, "updated_at": 77,
    }, tokens)
    assert balance.asset == "USDC" and balance.wallet == D("10000.5")
    assert balance.equity == D("10050.25") and balance.available == D(9000)
    assert balance.initial_margin == D("1050.25") and balance.maintenance_margin == D(525)
    assert balance.updated_at == 77
    with pytest.raises(MalformedMessage, match=r"account\.free_collateral"):
        m.balance_from({"account_value": "1"}, tokens)


def test_funding_payment_is_signed():
    pay = m.funding_payment_from({"id": "p1", "market": "BTC-USD-PERP", "payment": "-0.42", "index": "1",
                                  "created_at": 10})
    assert pay.amount == D("-0.42") and pay.id == "p1" and pay.ts == 10


# ---- market data ----------------------------------------------------------------------------------


def test_bbo_orderbook_trade_and_summary():
    quote = m.quote_from({"market": "BTC-USD-PERP", "bid": "64999.9", "bid_size": "1.2", "ask": "65000.1",
                          "ask_size": "0.4", "last_updated_at": 1000, "seq_no": 5})
    assert quote.mid == D(65000) and quote.seq_no == 5
    book = m.book_from({"market": "BTC-USD-PERP", "seq_no": 8, "last_updated_at": 1001,
                        "bids": [["64999.9", "1.2"], ["64999.8", "3"]], "asks": [["65000.1", "0.4"]]})
    assert book.is_snapshot and book.bids[1].price == D("64999.8") and book.asks[0].size == D("0.4")
    with pytest.raises(MalformedMessage, match=r"bids\[0\]"):
        m.book_from({"market": "X", "last_updated_at": 1, "bids": [["1"]], "asks": []})
    trade = m.trade_from({"id": "123", "market": "BTC-USD-PERP", "side": "SELL", "size": "0.1", "price": "65000",
                          "created_at": 9, "trade_type": "FILL"})
    assert trade.taker_side is Side.SELL and trade.price == D(65000)
    mark = m.mark_price_from({"symbol": "BTC-USD-PERP", "mark_price": "65001.5", "underlying_price": "65000",
                              "funding_rate": "0.0001", "created_at": 11})
    assert mark.mark == D("65001.5") and mark.index == D(65000) and mark.funding_rate == D("0.0001")
    with pytest.raises(MalformedMessage, match=r"bbo.*ask_size"):
        m.quote_from({"market": "X", "bid": "1", "bid_size": "1", "ask": "2", "last_updated_at": 1})


# ---- request direction ----------------------------------------------------------------------------


def test_limit_request_body_has_the_section5_shape():
    req = OrderRequest("BTC-USD-PERP", Side.BUY, OrderType.LIMIT, D("0.010"), "cid-1", price=D("6.5E+4"),
                       tif=TimeInForce.POST_ONLY)
    body = m.order_body(req, signature='["1","2"]', signature_timestamp_ms=1_700_000_000_123)
    assert body == {
        "market": "BTC-USD-PERP", "side": "BUY", "type": "LIMIT", "size": "0.010", "price": "65000",
        "instruction": "POST_ONLY", "client_id": "cid-1", "signature": '["1","2"]',
        "signature_timestamp": 1_700_000_000_123,
    }
    assert m.signed_price(req) == D(65000)


def test_market_request_omits_price_and_signs_zero():
    req = OrderRequest("BTC-USD-PERP", Side.SELL, OrderType.MARKET, D("1"), "c", price=D(1), reduce_only=True)
    body = m.order_body(req, signature="s", signature_timestamp_ms=1, recv_window_ms=5000, stp="EXPIRE_MAKER")
    assert "price" not in body and body["flags"] == ["REDUCE_ONLY"]
    assert body["recv_window"] == 5000 and body["stp"] == "EXPIRE_MAKER"
    assert m.signed_price(req) == 0


def test_close_position_stop_becomes_stop_loss_with_size_zero_and_reduce_only():
    req = OrderRequest("BTC-USD-PERP", Side.SELL, OrderType.STOP_MARKET, D(0), "c", trigger_price=D("60000.0"),
                       close_position=True)
    body = m.order_body(req, signature="s", signature_timestamp_ms=1)
    assert body["type"] == "STOP_LOSS_MARKET" and body["size"] == "0" and body["trigger_price"] == "60000.0"
    assert body["flags"] == ["REDUCE_ONLY"]
    tp = OrderRequest("BTC-USD-PERP", Side.SELL, OrderType.TAKE_PROFIT_LIMIT, D(1), "c", price=D(70000),
                      trigger_price=D(69999))
    assert m.order_body(tp, signature="s", signature_timestamp_ms=1)["flags"] == ["REDUCE_ONLY"]
    plain_stop = OrderRequest("BTC-USD-PERP", Side.BUY, OrderType.STOP_MARKET, D(1), "c", trigger_price=D(1))
    assert m.venue_order_type(plain_stop) == "STOP_MARKET" and "flags" not in m.order_body(
        plain_stop, signature="s", signature_timestamp_ms=1)


def test_system_config_and_onboarding():
    cfg = m.system_config_from({"starknet_chain_id": "PRIVATE_SN_PARACLEAR_MAINNET", "l1_chain_id": "1",
                                "paraclear_account_hash": "0x1", "paraclear_account_proxy_hash": "0x2",
                                "paraclear_decimals": 8})
    assert cfg.starknet_chain_id == "PRIVATE_SN_PARACLEAR_MAINNET" and cfg.decimals == 8
    with pytest.raises(MalformedMessage, match="starknet_chain_id"):
        m.system_config_from({"l1_chain_id": "1"})
    assert m.onboarding_from({"address": "0x1", "exists": True}).exists
    with pytest.raises(MalformedMessage, match="exists"):
        m.onboarding_from({"address": "0x1", "exists": "yes"})
