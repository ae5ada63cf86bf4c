"""Aster reference data and orders: exchangeInfo → Market, order JSON ↔ Order, order params ↔ OrderRequest."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from urllib.parse import parse_qsl

import pytest

from flashscalper.clock import ManualClock
from flashscalper.domain import Market, Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from flashscalper.errors import InvalidOrder, MalformedMessage
from flashscalper.exchanges.aster.auth import HmacSigner, split_signature, verify_hmac
from flashscalper.exchanges.aster.errors import AsterApiError
from flashscalper.exchanges.aster.mapping import (
    SymbolRules,
    exchange_info_to_json,
    markets_from_exchange_info,
    order_from_json,
    order_request_from_params,
    order_request_to_params,
    order_to_json,
    symbol_rules_from_json,
    symbol_rules_to_json,
)


def live_btc_symbol() -> dict:
    """Shaped like ccxt's captured live sample: minNotional, orderTypes, numbers as strings."""
    return {
        "symbol": "BTCUSDT", "pair": "BTCUSDT", "contractType": "PERPETUAL", "status": "TRADING",
        "maintMarginPercent": "2.5000", "requiredMarginPercent": "5.0000", "baseAsset": "BTC",
        "quoteAsset": "USDT", "marginAsset": "USDT", "pricePrecision": 1, "quantityPrecision": 3,
        "triggerProtect": "0.0500",
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "1", "maxPrice": "1000000", "tickSize": "0.1"},
            {"filterType": "LOT_SIZE", "stepSize": "0.001", "maxQty": "1000", "minQty": "0.001"},
            {"filterType": "MARKET_LOT_SIZE", "stepSize": "0.001", "maxQty": "120", "minQty": "0.001"},
            {"filterType": "MAX_NUM_ORDERS", "limit": "200"},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 100},
            {"filterType": "MIN_NOTIONAL", "minNotional": "5"},
            {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500", "multiplierDown": "0.9500",
             "multiplierDecimal": "4"},
        ],
        "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX", "HIDDEN"],
    }  # fmt: skip


def test_live_shaped_symbol_becomes_a_market_with_its_precision_rules():
    market = markets_from_exchange_info({"symbols": [live_btc_symbol()]})["BTCUSDT"]
    assert (market.base, market.quote) == ("BTC", "USDT")
    assert market.tick_size == D("0.1") and market.step_size == D("0.001")
    assert market.min_notional == D(5)
    assert market.max_order_size == D(120)  # the tighter MARKET_LOT_SIZE cap
    assert market.max_open_orders == 200
    assert market.imf_base == D("0.05") and market.max_leverage == D(20)
    assert market.maintenance_fraction == D("0.025")
    assert market.round_price(D("60000.17"), Side.BUY) == D("60000.1")


def test_docs_shaped_symbol_with_notional_key_and_disabled_tick_falls_back_on_precision():
    sym = live_btc_symbol()
    sym["filters"][0]["tickSize"] = "0"
    sym["filters"][5] = {"filterType": "MIN_NOTIONAL", "notional": "10"}
    sym["OrderType"] = sym.pop("orderTypes")
    rules = symbol_rules_from_json(sym)
    assert rules.tick_size == D("0.1") and rules.min_notional == D(10)
    assert "STOP_MARKET" in rules.order_types


def test_symbols_not_trading_are_left_out_unless_asked_for():
    halted = {**live_btc_symbol(), "symbol": "OLDUSDT", "status": "SETTLING"}
    info = {"symbols": [live_btc_symbol(), halted]}
    assert list(markets_from_exchange_info(info)) == ["BTCUSDT"]
    assert set(markets_from_exchange_info(info, tradable_only=False)) == {"BTCUSDT", "OLDUSDT"}


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda s: s.pop("baseAsset"), "baseAsset"),
        (lambda s: s["filters"].pop(0), "filters[PRICE_FILTER]"),
        (lambda s: s["filters"][1].update(stepSize="abc"), "stepSize"),
    ],
)
def test_malformed_symbol_names_the_field(mutate, field):
    sym = live_btc_symbol()
    mutate(sym)
    with pytest.raises(MalformedMessage, match=field.replace("[", r"\[").replace("]", r"\]")):
        symbol_rules_from_json(sym)


def test_simulator_exchange_info_reads_back_as_the_same_rules_and_market():
    market = Market("ETHUSDT", "ETH", "USDT", D("0.01"), D("0.001"), min_notional=D(5), max_order_size=D(500),
                    max_open_orders=150, imf_base=D("0.04"), mmf_factor=D("0.5"))  # fmt: skip
    rules = SymbolRules.from_market(market)
    served = exchange_info_to_json([rules], server_time=1_700_000_000_000)
    assert served["assets"][0]["asset"] == "USDT"
    assert symbol_rules_from_json(served["symbols"][0]) == rules
    back = markets_from_exchange_info(served)["ETHUSDT"]
    assert replace(back, max_leverage=market.max_leverage) == market
    assert back.max_leverage == D(25)
    assert symbol_rules_to_json(rules)["quantityPrecision"] == 3


# ---- orders --------------------------------------------------------------------------------------


def order_json(**over) -> dict:
    base = {
        "orderId": 22542179, "symbol": "BTCUSDT", "status": "NEW", "clientOrderId": "fs-1", "price": "60000",
        "avgPrice": "0.00000", "origQty": "0.010", "executedQty": "0", "cumQty": "0", "cumQuote": "0",
        "timeInForce": "GTC", "type": "LIMIT", "origType": "LIMIT", "side": "BUY", "positionSide": "BOTH",
        "reduceOnly": False, "closePosition": False, "stopPrice": "0", "workingType": "CONTRACT_PRICE",
        "priceProtect": False, "time": 1700000000000, "updateTime": 1700000000100,
    }  # fmt: skip
    return {**base, **over}


def test_a_resting_limit_order_is_open_with_its_prices():
    order = order_from_json(order_json())
    assert order.id == "22542179" and order.client_id == "fs-1"
    assert order.status is OrderStatus.OPEN and order.type is OrderType.LIMIT
    assert order.price == D(60000) and order.trigger_price is None and order.avg_fill_price is None
    assert order.size == D("0.010") and order.created_at == 1700000000000 and order.updated_at == 1700000000100


@pytest.mark.parametrize(
    ("over", "status", "otype", "tif"),
    [
        ({"status": "PARTIALLY_FILLED", "executedQty": "0.004", "avgPrice": "60000"}, OrderStatus.OPEN,
         OrderType.LIMIT, TimeInForce.GTC),
        ({"timeInForce": "GTX"}, OrderStatus.OPEN, OrderType.LIMIT, TimeInForce.POST_ONLY),
        ({"timeInForce": "HIDDEN"}, OrderStatus.OPEN, OrderType.LIMIT, TimeInForce.GTC),
        ({"type": "MARKET", "origType": "MARKET", "price": "0"}, OrderStatus.NEW, OrderType.MARKET, TimeInForce.GTC),
        ({"type": "STOP_MARKET", "origType": "STOP_MARKET", "stopPrice": "59000"}, OrderStatus.UNTRIGGERED,
         OrderType.STOP_MARKET, TimeInForce.GTC),
        ({"type": "TAKE_PROFIT", "origType": "TAKE_PROFIT", "stopPrice": "61000"}, OrderStatus.UNTRIGGERED,
         OrderType.TAKE_PROFIT_LIMIT, TimeInForce.GTC),
        ({"type": "LIMIT", "origType": "STOP", "stopPrice": "59000"}, OrderStatus.OPEN, OrderType.STOP_LIMIT,
         TimeInForce.GTC),  # triggered stop-limit now resting
        ({"status": "FILLED", "executedQty": "0.010"}, OrderStatus.FILLED, OrderType.LIMIT, TimeInForce.GTC),
        ({"status": "CANCELED"}, OrderStatus.CANCELED, OrderType.LIMIT, TimeInForce.GTC),
        ({"status": "REJECTED"}, OrderStatus.REJECTED, OrderType.LIMIT, TimeInForce.GTC),
        ({"status": "EXPIRED", "timeInForce": "IOC"}, OrderStatus.EXPIRED, OrderType.LIMIT, TimeInForce.IOC),
        ({"status": "EXPIRED", "timeInForce": "FOK"}, OrderStatus.EXPIRED, OrderType.LIMIT, TimeInForce.FOK),
    ],
)  # fmt: skip
def test_order_statuses_types_and_time_in_force_map_onto_the_domain(over, status, otype, tif):
    order = order_from_json(order_json(**over))
    assert (order.status, order.type, order.tif) == (status, otype, tif)


def test_reduce_only_may_come_as_a_string():
    assert order_from_json(order_json(reduceOnly="true")).reduce_only is True


@pytest.mark.parametrize(("drop", "field"), [("origQty", "origQty"), ("side", "side"), ("orderId", "orderId")])
def test_malformed_order_names_the_missing_field(drop, field):
    raw = order_json()
    del raw[drop]
    with pytest.raises(MalformedMessage, match=f"'{field}'"):
        order_from_json(raw)


def test_unknown_status_or_side_is_malformed():
    with pytest.raises(MalformedMessage, match="'status'"):
        order_from_json(order_json(status="PENDING"))
    with pytest.raises(MalformedMessage, match="'side'"):
        order_from_json(order_json(side="LONG"))


SERVED_ORDERS = [
    Order("1", "a", "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.010"), OrderStatus.OPEN, price=D(60000),
          tif=TimeInForce.POST_ONLY, created_at=5, updated_at=6),
    Order("2", "b", "BTCUSDT", Side.SELL, OrderType.LIMIT, D(1), OrderStatus.OPEN, price=D("60000.5"),
          filled_size=D("0.4"), avg_fill_price=D("60000.5"), created_at=5, updated_at=7),
    Order("3", "c", "ETHUSDT", Side.SELL, OrderType.STOP_MARKET, D(2), OrderStatus.UNTRIGGERED,
          trigger_price=D(1900), reduce_only=True, created_at=5, updated_at=5),
    Order("4", "d", "ETHUSDT", Side.BUY, OrderType.TAKE_PROFIT_LIMIT, D(2), OrderStatus.OPEN, price=D(1800),
          trigger_price=D(1810), created_at=5, updated_at=9),
    Order("5", "e", "ETHUSDT", Side.BUY, OrderType.MARKET, D(2), OrderStatus.FILLED, filled_size=D(2),
          avg_fill_price=D("1850.25"), created_at=5, updated_at=9),
    Order("6", "f", "ETHUSDT", Side.BUY, OrderType.LIMIT, D(2), OrderStatus.EXPIRED, price=D(1800),
          tif=TimeInForce.IOC, created_at=5, updated_at=9),
]  # fmt: skip


@pytest.mark.parametrize("order", SERVED_ORDERS, ids=lambda o: f"{o.type}-{o.status}")
def test_orders_served_by_the_simulator_read_back_identically(order):
    assert order_from_json(order_to_json(order)) == order


def test_a_partially_filled_served_order_says_so_on_the_wire():
    wire = order_to_json(SERVED_ORDERS[1])
    assert wire["status"] == "PARTIALLY_FILLED" and wire["cumQuote"] == "24000.20"


# ---- order params --------------------------------------------------------------------------------

REQUESTS = [
    OrderRequest("BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.010"), "fs-entry-1", price=D(60000),
                 tif=TimeInForce.POST_ONLY),
    OrderRequest("BTCUSDT", Side.SELL, OrderType.MARKET, D("0.010"), "fs-exit-1", reduce_only=True),
    OrderRequest("BTCUSDT", Side.SELL, OrderType.STOP_MARKET, D(0), "fs-sl-1", trigger_price=D(59000),
                 reduce_only=True, close_position=True),
    OrderRequest("BTCUSDT", Side.SELL, OrderType.TAKE_PROFIT_LIMIT, D("0.010"), "fs-tp-1", price=D(61000),
                 trigger_price=D(60990), reduce_only=True),
    OrderRequest("ETHUSDT", Side.BUY, OrderType.STOP_LIMIT, D("1.5"), "a.b:c/d_e", price=D("1900.01"),
                 trigger_price=D(1900), tif=TimeInForce.IOC),
]  # fmt: skip


def test_post_only_limit_entry_becomes_gtx_params():
    assert order_request_to_params(REQUESTS[0]) == {
        "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTX", "quantity": "0.010",
        "price": "60000", "newClientOrderId": "fs-entry-1",
    }  # fmt: skip


def test_close_position_stop_sends_no_quantity_and_no_reduce_only():
    params = order_request_to_params(REQUESTS[2])
    assert params["type"] == "STOP_MARKET" and params["closePosition"] == "true" and params["stopPrice"] == "59000"
    assert "quantity" not in params and "reduceOnly" not in params


@pytest.mark.parametrize("req", REQUESTS, ids=lambda r: r.client_id)
def test_client_signs_order_params_and_simulator_reads_back_the_same_request(req):
    signer = HmacSigner("key", "secret", clock=ManualClock(), params_in_body=True)
    signed = signer.sign("POST", "/fapi/v1/order", order_request_to_params(req))
    payload, signature = split_signature(signed.query, signed.body)
    assert verify_hmac("secret", payload, signature)
    assert order_request_from_params(dict(parse_qsl(payload))) == req


@pytest.mark.parametrize(
    ("req", "rule"),
    [
        (replace(REQUESTS[0], client_id="has space"), "client_id"),
        (replace(REQUESTS[0], client_id="x" * 37), "client_id"),
        (replace(REQUESTS[1], tif=TimeInForce.POST_ONLY), "tif"),
        (replace(REQUESTS[0], close_position=True), "close_position"),
        (replace(REQUESTS[0], price=None), "price"),
        (replace(REQUESTS[3], trigger_price=None), "trigger_price"),
    ],
)
def test_requests_aster_would_refuse_are_stopped_before_signing(req, rule):
    with pytest.raises(InvalidOrder) as exc:
        order_request_to_params(req)
    assert exc.value.rule == rule


LIMIT = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "1", "price": "10"}


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({k: v for k, v in LIMIT.items() if k != "quantity"}, -1102),
        ({k: v for k, v in LIMIT.items() if k != "symbol"}, -1102),
        ({k: v for k, v in LIMIT.items() if k != "timeInForce"}, -1102),
        ({k: v for k, v in LIMIT.items() if k != "price"}, -1102),
        ({**LIMIT, "quantity": "1e5"}, -1102),
        ({**LIMIT, "reduceOnly": "yes"}, -1102),
        ({**LIMIT, "side": "LONG"}, -1117),
        ({**LIMIT, "type": "TRAILING_STOP_MARKET"}, -1116),
        ({**LIMIT, "timeInForce": "DAY"}, -1115),
        ({**LIMIT, "quantity": "0"}, -4003),
        ({**LIMIT, "newClientOrderId": "bad id!"}, -4015),
        ({**LIMIT, "positionSide": "LONG"}, -4061),
        ({**LIMIT, "type": "MARKET", "timeInForce": "GTC"}, -1106),  # price on a market order
        ({"symbol": "BTCUSDT", "side": "SELL", "type": "STOP_MARKET", "quantity": "1"}, -1102),  # no stopPrice
        ({"symbol": "BTCUSDT", "side": "SELL", "type": "STOP_MARKET", "stopPrice": "9", "closePosition": "true",
          "quantity": "1"}, -4137),
        ({"symbol": "BTCUSDT", "side": "SELL", "type": "STOP_MARKET", "stopPrice": "9", "closePosition": "true",
          "reduceOnly": "true"}, -4138),
        ({**LIMIT, "closePosition": "true"}, -1106),
    ],
)  # fmt: skip
def test_simulator_answers_bad_order_params_with_the_aster_code(params, code):
    with pytest.raises(AsterApiError) as exc:
        order_request_from_params(params)
    assert exc.value.code == code and exc.value.body()["code"] == code


def test_an_order_without_client_id_is_accepted_with_an_empty_one_for_the_simulator_to_assign():
    params = {k: v for k, v in LIMIT.items()}
    assert order_request_from_params(params).client_id == ""
