"""Aster account data, market streams and user-stream events ↔ domain types."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from flashscalper.domain import (
    Balance,
    BookLevel,
    BookUpdate,
    ConnectionEvent,
    ConnectionState,
    Fill,
    FillEvent,
    FundingPayment,
    Liquidity,
    MarkPrice,
    Order,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    PositionUpdate,
    Quote,
    Side,
    Trade,
)
from flashscalper.errors import MalformedMessage
from flashscalper.exchanges.aster.mapping import (
    DepthDiff,
    WalletChange,
    account_snapshot_from_json,
    account_to_json,
    account_update_to_json,
    balance_from_account,
    balance_from_balances,
    balance_to_json,
    book_from_depth,
    book_to_depth_snapshot,
    depth_diff_from_stream,
    depth_update_to_json,
    events_from_user_stream,
    fill_from_user_trade,
    fill_to_user_trade,
    mark_price_from_json,
    mark_price_to_json,
    order_to_json,
    order_trade_update_to_json,
    position_from_risk,
    position_to_risk,
    quote_from_book_ticker,
    quote_to_book_ticker,
    trade_from_agg_trade,
    trade_from_rest,
    trade_to_agg_trade,
    unwrap_stream,
    wallet_changes_from_account_update,
)

# ---- REST account data ---------------------------------------------------------------------------


def test_user_trade_rows_become_fills_with_maker_taker_fee_and_pnl():
    row = {"symbol": "BTCUSDT", "id": 698759, "orderId": 25851813, "side": "SELL", "positionSide": "BOTH",
           "price": "60100.5", "qty": "0.004", "quoteQty": "240.402", "realizedPnl": "0.402",
           "commission": "0.0240402", "commissionAsset": "USDT", "time": 1700000001000, "buyer": False,
           "maker": True}  # fmt: skip
    fill = fill_from_user_trade(row)
    assert fill == Fill("698759", "25851813", "", "BTCUSDT", Side.SELL, D("60100.5"), D("0.004"), Liquidity.MAKER,
                        fee=D("0.0240402"), realized_pnl=D("0.402"), ts=1700000001000)  # fmt: skip
    del row["maker"], row["buyer"]  # absent in some live rows
    assert fill_from_user_trade(row).liquidity is Liquidity.TAKER


def test_served_user_trades_read_back_identically():
    fill = Fill("7", "3", "", "ETHUSDT", Side.BUY, D("1850.25"), D("1.5"), Liquidity.TAKER, fee=D("0.97"),
                realized_pnl=D("-2.5"), ts=123)  # fmt: skip
    assert fill_from_user_trade(fill_to_user_trade(fill)) == fill


def test_position_risk_row_is_a_signed_position_and_zero_liquidation_price_means_none():
    row = {"symbol": "BTCUSDT", "positionAmt": "-0.010", "entryPrice": "60000.0", "markPrice": "59900.0",
           "unRealizedProfit": "1.00000000", "liquidationPrice": "0", "leverage": "10",
           "maxNotionalValue": "25000000", "marginType": "cross", "isolatedMargin": "0.00000000",
           "isAutoAddMargin": "false", "positionSide": "BOTH", "updateTime": 1700000002000}  # fmt: skip
    pos = position_from_risk(row)
    assert pos.size == D("-0.010") and pos.side is Side.SELL and pos.leverage == D(10)
    assert pos.liquidation_price is None and pos.notional == D("599.000")
    served = Position("ETHUSDT", D("2"), D(1800), mark_price=D(1810), unrealized_pnl=D(20), leverage=D(5),
                      liquidation_price=D(1500), updated_at=9)  # fmt: skip
    assert position_from_risk(position_to_risk(served)) == served


def test_position_risk_with_a_garbage_amount_names_the_field():
    with pytest.raises(MalformedMessage, match="'positionAmt'"):
        position_from_risk({"symbol": "BTCUSDT", "positionAmt": "NaN", "entryPrice": "0"})


def test_balance_rows_pick_the_asset_and_add_unrealized_pnl_to_equity():
    rows = [
        {"accountAlias": "SgsR", "asset": "BNB", "balance": "1", "crossUnPnl": "0", "availableBalance": "1"},
        {"accountAlias": "SgsR", "asset": "USDT", "balance": "1000.5", "crossWalletBalance": "1000.5",
         "crossUnPnl": "-12.25", "availableBalance": "900", "maxWithdrawAmount": "900", "updateTime": 77},
    ]  # fmt: skip
    assert balance_from_balances(rows) == Balance("USDT", D("1000.5"), D("988.25"), D(900), updated_at=77)
    assert balance_from_balances(rows, "USDC") == Balance("USDC", D(0), D(0), D(0))
    served = Balance("USDT", D(500), D(520), D(400), updated_at=3)
    assert balance_from_balances([balance_to_json(served)]) == served
    with pytest.raises(MalformedMessage, match="JSON array"):
        balance_from_balances({"asset": "USDT"})


def test_account_snapshot_keeps_non_flat_positions_and_open_orders():
    balance = Balance("USDT", D(1000), D(1010), D(800), initial_margin=D(150), maintenance_margin=D(40),
                      updated_at=11)  # fmt: skip
    long_btc = Position("BTCUSDT", D("0.01"), D(60000), unrealized_pnl=D(10), leverage=D(10), updated_at=11)
    flat_eth = Position("ETHUSDT", D(0), D(0), updated_at=11)
    resting = Order("9", "c9", "BTCUSDT", Side.SELL, OrderType.LIMIT, D("0.01"), OrderStatus.OPEN, price=D(61000))
    account = account_to_json(balance, [long_btc, flat_eth])
    snap = account_snapshot_from_json(account, [order_to_json(resting)], ts=12)
    assert snap.balance == balance == balance_from_account(account)
    assert snap.positions == [long_btc]
    assert snap.open_orders == [resting] and snap.ts == 12
    del account["totalMarginBalance"]
    with pytest.raises(MalformedMessage, match="'totalMarginBalance'"):
        balance_from_account(account)


# ---- market streams ------------------------------------------------------------------------------


def test_book_ticker_stream_and_rest_both_become_quotes():
    event = {"e": "bookTicker", "u": 400900217, "E": 1568014460893, "T": 1568014460891, "s": "BNBUSDT",
             "b": "25.35190000", "B": "31.21000000", "a": "25.36520000", "A": "40.66000000"}  # fmt: skip
    quote = quote_from_book_ticker(event)
    assert quote == Quote("BNBUSDT", D("25.3519"), D("31.21"), D("25.3652"), D("40.66"), 1568014460891, 400900217)
    rest = {"symbol": "BNBUSDT", "bidPrice": "25.35", "bidQty": "1", "askPrice": "25.36", "askQty": "2", "time": 5}
    assert quote_from_book_ticker(rest).mid == D("25.355")
    served = Quote("BTCUSDT", D(60000), D(1), D("60000.1"), D(2), ts=10, seq_no=99)
    assert quote_from_book_ticker(quote_to_book_ticker(served, update_id=99)) == served


def test_depth_snapshot_and_partial_depth_give_a_best_first_book():
    snapshot = {"lastUpdateId": 1027024, "E": 1589436922972, "T": 1589436922959,
                "bids": [["4.00000000", "431.00000000"], ["4.10000000", "1"]],
                "asks": [["4.00000300", "12.00000000"], ["4.00000200", "5"]]}  # fmt: skip
    book = book_from_depth(snapshot, "BNBUSDT")
    assert [lv.price for lv in book.bids] == [D("4.1"), D(4)]
    assert [lv.price for lv in book.asks] == [D("4.000002"), D("4.000003")]
    assert book.seq_no == 1027024 and book.is_snapshot and book.ts == 1589436922959
    with pytest.raises(MalformedMessage, match="symbol"):
        book_from_depth(snapshot)
    partial = {"e": "depthUpdate", "E": 10, "T": 9, "s": "BTCUSDT", "U": 5, "u": 8, "pu": 4,
               "b": [["60000", "1"]], "a": [["60000.1", "2"]]}  # fmt: skip
    assert book_from_depth(partial) == BookUpdate("BTCUSDT", (BookLevel(D(60000), D(1)),),
                                                  (BookLevel(D("60000.1"), D(2)),), 9, 8, True)  # fmt: skip
    served = BookUpdate("BTCUSDT", (BookLevel(D(2), D(1)), BookLevel(D(1), D(3))), (BookLevel(D(3), D(1)),), 7, 42,
                        True)  # fmt: skip
    assert book_from_depth(book_to_depth_snapshot(served, last_update_id=42), "BTCUSDT") == served


def test_diff_depth_keeps_update_ids_for_chaining_and_zero_sizes_for_deletes():
    event = {"e": "depthUpdate", "E": 1700000000123, "T": 1700000000120, "s": "BTCUSDT",
             "U": 156391349814, "u": 156391349814, "pu": 156391348236,
             "b": [["60000.0", "0"]], "a": [["60000.1", "3.5"]]}  # fmt: skip
    diff = depth_diff_from_stream(event)
    assert (diff.first_id, diff.final_id, diff.prev_final_id) == (156391349814, 156391349814, 156391348236)
    assert diff.bids == (BookLevel(D(60000), D(0)),) and diff.ts == 1700000000120
    assert depth_diff_from_stream(depth_update_to_json(diff)) == diff
    event["b"] = [["60000.0"]]
    with pytest.raises(MalformedMessage, match="'b'"):
        depth_diff_from_stream(event)
    assert isinstance(diff, DepthDiff)


def test_agg_trades_say_which_side_took_liquidity():
    event = {"e": "aggTrade", "E": 123456789, "s": "BTCUSDT", "a": 5933014, "p": "0.001", "q": "100",
             "f": 100, "l": 105, "T": 123456785, "m": True}  # fmt: skip
    assert trade_from_agg_trade(event) == Trade("BTCUSDT", "5933014", D("0.001"), D(100), Side.SELL, 123456785)
    assert trade_from_agg_trade({**event, "m": False}).taker_side is Side.BUY
    rest = {"id": 28457, "price": "4.00000100", "qty": "12.00000000", "quoteQty": "48.00", "time": 1499865549590,
            "isBuyerMaker": False}  # fmt: skip
    assert trade_from_rest("BTCUSDT", rest).taker_side is Side.BUY
    served = Trade("ETHUSDT", "77", D("1850.5"), D("0.3"), Side.SELL, 99)
    assert trade_from_agg_trade(trade_to_agg_trade(served, first_trade_id=1, last_trade_id=2)) == served


def test_mark_price_stream_and_premium_index_carry_index_and_funding():
    event = {"e": "markPriceUpdate", "E": 1562305380000, "s": "BTCUSDT", "p": "11794.15000000",
             "i": "11784.62659091", "P": "11784.25641265", "r": "0.00038167", "T": 1562306400000}  # fmt: skip
    assert mark_price_from_json(event) == MarkPrice("BTCUSDT", D("11794.15"), 1562305380000, D("11784.62659091"),
                                                    D("0.00038167"))  # fmt: skip
    rest = {"symbol": "BTCUSDT", "markPrice": "11793.63104562", "indexPrice": "11781.80495970",
            "lastFundingRate": "0.00038246", "nextFundingTime": 1597392000000, "time": 1597370495002}  # fmt: skip
    assert mark_price_from_json(rest).funding_rate == D("0.00038246")
    served = MarkPrice("ETHUSDT", D(1850), 5, D("1849.5"), D("-0.0001"))
    assert mark_price_from_json(mark_price_to_json(served, next_funding_time=28_800_000)) == served


def test_combined_stream_messages_are_unwrapped():
    inner = {"e": "aggTrade", "s": "BTCUSDT"}
    assert unwrap_stream({"stream": "btcusdt@aggTrade", "data": inner}) == ("btcusdt@aggTrade", inner)
    assert unwrap_stream(inner) == (None, inner)
    with pytest.raises(MalformedMessage):
        unwrap_stream(["not", "an", "object"])


# ---- user data stream ----------------------------------------------------------------------------


def trade_update(**over) -> dict:
    o = {
        "s": "BTCUSDT",
        "c": "fs-entry-1",
        "S": "BUY",
        "o": "LIMIT",
        "f": "GTX",
        "q": "0.010",
        "p": "60000",
        "ap": "60000",
        "sp": "0",
        "x": "TRADE",
        "X": "PARTIALLY_FILLED",
        "i": 8886774,
        "l": "0.004",
        "z": "0.004",
        "L": "60000",
        "N": "USDT",
        "n": "0.024",
        "T": 1700000003000,
        "t": 555,
        "b": "0",
        "a": "0",
        "m": True,
        "R": False,
        "wt": "CONTRACT_PRICE",
        "ot": "LIMIT",
        "ps": "BOTH",
        "cp": False,
        "rp": "0",
    }
    o.update(over)  # fmt: skip
    return {"e": "ORDER_TRADE_UPDATE", "E": 1700000003005, "T": 1700000003000, "o": o}


def test_a_partial_fill_update_yields_the_fill_before_the_order_state():
    fill_event, order_event = events_from_user_stream(trade_update())
    assert isinstance(fill_event, FillEvent) and isinstance(order_event, OrderUpdate)
    assert fill_event.fill == Fill("555", "8886774", "fs-entry-1", "BTCUSDT", Side.BUY, D(60000), D("0.004"),
                                   Liquidity.MAKER, fee=D("0.024"), ts=1700000003000)  # fmt: skip
    order = order_event.order
    assert order.status is OrderStatus.OPEN and order.filled_size == D("0.004") and order.seq_no == 1700000003005


def test_a_new_order_update_carries_no_fill_and_a_triggered_stop_keeps_its_original_type():
    (only,) = events_from_user_stream(trade_update(x="NEW", X="NEW", l="0", z="0", ap="0", L="0"))
    assert isinstance(only, OrderUpdate) and only.order.created_at == 1700000003000
    (triggered,) = events_from_user_stream(trade_update(x="NEW", X="NEW", o="MARKET", ot="STOP_MARKET",
                                                        sp="59000", l="0", z="0"))  # fmt: skip
    assert triggered.order.type is OrderType.STOP_MARKET and triggered.order.status is OrderStatus.NEW
    (resting,) = events_from_user_stream(trade_update(x="NEW", X="NEW", o="STOP_MARKET", ot="STOP_MARKET",
                                                      sp="59000", l="0", z="0"))  # fmt: skip
    assert resting.order.status is OrderStatus.UNTRIGGERED and resting.order.trigger_price == D(59000)


def test_simulator_order_updates_read_back_as_the_same_fill_and_order():
    order = Order("42", "fs-x", "ETHUSDT", Side.SELL, OrderType.TAKE_PROFIT_LIMIT, D(2), OrderStatus.FILLED,
                  price=D(1900), trigger_price=D(1890), reduce_only=True, filled_size=D(2),
                  avg_fill_price=D(1900), updated_at=50, seq_no=51)  # fmt: skip
    fill = Fill("900", "42", "fs-x", "ETHUSDT", Side.SELL, D(1900), D("0.5"), Liquidity.TAKER, fee=D("0.33"),
                realized_pnl=D("12.5"), ts=50)  # fmt: skip
    wire = order_trade_update_to_json(order, execution_type="TRADE", event_time=51, fill=fill)
    assert wire["o"]["o"] == "LIMIT" and wire["o"]["ot"] == "TAKE_PROFIT"  # triggered: child type shows
    assert events_from_user_stream(wire) == [FillEvent(fill), OrderUpdate(order)]


def test_account_update_from_an_order_moves_positions_but_invents_no_available_balance():
    msg = account_update_to_json(
        "ORDER",
        [WalletChange("USDT", D("1000.5"), D("1000.5"), D("-0.024"))],
        [Position("BTCUSDT", D("0.004"), D(60000), unrealized_pnl=D("0.1"), realized_pnl=D(0))],
        event_time=77,
    )
    events = events_from_user_stream(msg)
    assert events == [PositionUpdate(Position("BTCUSDT", D("0.004"), D(60000), unrealized_pnl=D("0.1"),
                                              updated_at=77, seq_no=77))]  # fmt: skip
    assert wallet_changes_from_account_update(msg) == [WalletChange("USDT", D("1000.5"), D("1000.5"), D("-0.024"))]


def test_funding_fee_account_update_becomes_a_funding_payment():
    cross = {
        "e": "ACCOUNT_UPDATE",
        "E": 1564745798939,
        "T": 1564745798938,
        "a": {"m": "FUNDING_FEE", "B": [{"a": "USDT", "wb": "122624.12", "cw": "100.12", "bc": "-1.5"}]},
    }
    assert events_from_user_stream(cross) == [FundingPayment("", D("-1.5"), 1564745798939, "1564745798939")]
    isolated = {
        **cross,
        "a": {
            **cross["a"],
            "P": [
                {
                    "s": "BTCUSDT",
                    "pa": "0.1",
                    "ep": "60000",
                    "cr": "0",
                    "up": "5",
                    "mt": "isolated",
                    "iw": "600",
                    "ps": "BOTH",
                }
            ],
        },
    }
    position_event, funding = events_from_user_stream(isolated)
    assert isinstance(position_event, PositionUpdate) and funding.market == "BTCUSDT"


def test_listen_key_expiry_and_other_events():
    (expired,) = events_from_user_stream({"e": "listenKeyExpired", "E": 1576653824250})
    assert expired == ConnectionEvent("aster", ConnectionState.DISCONNECTED, 1576653824250, "listenKeyExpired")
    assert events_from_user_stream({"e": "MARGIN_CALL", "E": 1, "cw": "3", "p": []}) == []
    assert events_from_user_stream({"e": "ACCOUNT_CONFIG_UPDATE", "E": 1, "T": 1, "ac": {"s": "X", "l": 5}}) == []


@pytest.mark.parametrize(
    ("msg", "field"),
    [
        ({"E": 1}, "'e'"),
        ({"e": "ORDER_TRADE_UPDATE", "E": 1}, "'o'"),
        (trade_update(X="WEIRD"), "'X'"),
        (trade_update(q=None), "'q'"),
        ({"e": "ACCOUNT_UPDATE", "E": 1, "a": {"m": "ORDER", "P": [{"s": "BTCUSDT", "pa": "1"}]}}, "'ep'"),
    ],
)
def test_malformed_user_events_name_the_field(msg, field):
    with pytest.raises(MalformedMessage, match=field):
        events_from_user_stream(msg)
