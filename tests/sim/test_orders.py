"""Order types, time in force, priority, partial fills, self-trade prevention and cancels."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flashscalper.domain import Liquidity, OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from flashscalper.sim.engine import SimExchange
from flashscalper.sim.events import BookDeltaEvent, FillEvent, OrderEvent
from flashscalper.sim.orders import SelfTradePrevention, SimOrderNotFound
from tests.sim.helpers import BTC, limit, market

D = Decimal


def test_limit_order_rests_and_is_visible_in_book_and_open_orders(ex: SimExchange) -> None:
    order = limit(ex, "alice", Side.BUY, "0.1", "94990")
    assert order.status is OrderStatus.OPEN
    assert ex.open_orders("alice") == [order]
    snap = ex.book_snapshot(BTC)
    assert [(lvl.price, lvl.size) for lvl in snap.bids] == [(D("94990"), D("0.1"))]
    assert ex.bbo(BTC) is None  # no ask yet


def test_price_time_priority_fills_best_price_then_oldest(ex: SimExchange) -> None:
    first = limit(ex, "alice", Side.SELL, "0.1", "95010")
    second = limit(ex, "carol", Side.SELL, "0.1", "95010")
    better = limit(ex, "carol", Side.SELL, "0.1", "95005")
    taker = market(ex, "bob", Side.BUY, "0.15")
    assert taker.status is OrderStatus.FILLED
    assert taker.avg_fill_price == (D("95005") * D("0.1") + D("95010") * D("0.05")) / D("0.15")
    assert ex.get_order(better.id).status is OrderStatus.FILLED
    assert ex.get_order(first.id).filled_size == D("0.05")  # older order at 95010 went first
    assert ex.get_order(second.id).filled_size == 0


def test_partial_fill_leaves_the_rest_resting_and_reports_each_fill(ex: SimExchange) -> None:
    events: list[object] = []
    ex.subscribe(events.append)
    maker = limit(ex, "alice", Side.SELL, "0.3", "95010")
    market(ex, "bob", Side.BUY, "0.1")
    market(ex, "bob", Side.BUY, "0.1")
    resting = ex.get_order(maker.id)
    assert resting.status is OrderStatus.OPEN and resting.remaining_size == D("0.1")
    fills = [e for e in events if isinstance(e, FillEvent) and e.account == "alice"]
    assert [f.fill.size for f in fills] == [D("0.1"), D("0.1")]
    assert all(f.fill.liquidity is Liquidity.MAKER and f.fill.order_id == maker.id for f in fills)
    assert [f.remaining_size for f in fills] == [D("0.2"), D("0.1")]
    assert ex.position("alice", BTC).size == D("-0.2")


def test_market_order_walks_book_and_slippage_guard_expires_the_rest(ex: SimExchange) -> None:
    limit(ex, "alice", Side.SELL, "0.1", "95100")
    limit(ex, "alice", Side.SELL, "0.1", "99000")  # 4.2% away: inside the 5% guard
    limit(ex, "alice", Side.SELL, "0.1", "99800")  # 5.05% away: beyond it
    order = market(ex, "bob", Side.BUY, "0.5")
    assert order.status is OrderStatus.EXPIRED and order.cancel_reason == "EXPIRED"
    assert order.filled_size == D("0.2")
    assert ex.book_snapshot(BTC).asks[0].price == D("99800")


def test_ioc_fills_what_crosses_and_expires_the_rest(ex: SimExchange) -> None:
    limit(ex, "alice", Side.SELL, "0.1", "95010")
    order = limit(ex, "bob", Side.BUY, "0.3", "95020", tif=TimeInForce.IOC)
    assert (order.status, order.filled_size, order.cancel_reason) == (OrderStatus.EXPIRED, D("0.1"), "EXPIRED")
    assert ex.open_orders("bob") == []


def test_fok_all_or_nothing(ex: SimExchange) -> None:
    limit(ex, "alice", Side.SELL, "0.1", "95010")
    killed = limit(ex, "bob", Side.BUY, "0.2", "95010", tif=TimeInForce.FOK)
    assert killed.status is OrderStatus.EXPIRED and killed.filled_size == 0
    limit(ex, "carol", Side.SELL, "0.1", "95010")
    filled = limit(ex, "bob", Side.BUY, "0.2", "95010", tif=TimeInForce.FOK)
    assert filled.status is OrderStatus.FILLED


def test_post_only_that_would_cross_is_rejected(ex: SimExchange) -> None:
    limit(ex, "alice", Side.SELL, "0.1", "95010")
    crossing = limit(ex, "bob", Side.BUY, "0.1", "95010", tif=TimeInForce.POST_ONLY)
    assert crossing.status is OrderStatus.REJECTED
    assert crossing.cancel_reason == "POST_ONLY_WOULD_CROSS"
    resting = limit(ex, "bob", Side.BUY, "0.1", "95009.9", tif=TimeInForce.POST_ONLY)
    assert resting.status is OrderStatus.OPEN


def test_self_trade_expire_taker_default_keeps_maker(ex: SimExchange) -> None:
    maker = limit(ex, "alice", Side.SELL, "0.1", "95010")
    taker = limit(ex, "alice", Side.BUY, "0.1", "95010")
    assert taker.status is OrderStatus.EXPIRED and taker.cancel_reason == "SELF_TRADE"
    assert ex.get_order(maker.id).status is OrderStatus.OPEN
    assert ex.position("alice", BTC).size == 0


def test_self_trade_expire_maker_cancels_own_order_and_trades_through(ex: SimExchange) -> None:
    own = limit(ex, "alice", Side.SELL, "0.1", "95010")
    other = limit(ex, "bob", Side.SELL, "0.1", "95020")
    taker = limit(ex, "alice", Side.BUY, "0.1", "95020", stp=SelfTradePrevention.EXPIRE_MAKER)
    assert taker.status is OrderStatus.FILLED and taker.avg_fill_price == D("95020")
    assert ex.get_order(own.id).cancel_reason == "SELF_TRADE"
    assert ex.get_order(other.id).status is OrderStatus.FILLED


def test_self_trade_expire_both(ex: SimExchange) -> None:
    own = limit(ex, "alice", Side.SELL, "0.1", "95010")
    taker = limit(ex, "alice", Side.BUY, "0.1", "95010", stp=SelfTradePrevention.EXPIRE_BOTH)
    assert taker.cancel_reason == "SELF_TRADE" and ex.get_order(own.id).cancel_reason == "SELF_TRADE"
    assert ex.open_orders("alice") == []


def test_cancel_by_id_and_client_id_and_all(ex: SimExchange) -> None:
    a = limit(ex, "alice", Side.BUY, "0.1", "94000")
    limit(ex, "alice", Side.BUY, "0.1", "94001", client_id="mine")
    limit(ex, "alice", Side.BUY, "0.1", "94002")
    assert ex.cancel_order("alice", a.id).cancel_reason == "USER_CANCELED"
    assert ex.cancel_order_by_client_id("alice", "mine").status is OrderStatus.CANCELED
    assert len(ex.cancel_all("alice", BTC)) == 1
    assert ex.open_orders("alice") == [] and ex.book_snapshot(BTC).bids == ()
    with pytest.raises(SimOrderNotFound) as closed:
        ex.cancel_order("alice", a.id)
    assert closed.value.code == "ORDER_IS_CLOSED"
    with pytest.raises(SimOrderNotFound) as unknown:
        ex.cancel_order("alice", "42")
    assert unknown.value.code == "ORDER_ID_NOT_FOUND"
    # a client id is free again once its order is closed
    assert limit(ex, "alice", Side.BUY, "0.1", "94001", client_id="mine").status is OrderStatus.OPEN


def test_modify_keeps_id_and_priority_only_when_shrinking(ex: SimExchange) -> None:
    first = limit(ex, "alice", Side.SELL, "0.2", "95010")
    limit(ex, "carol", Side.SELL, "0.1", "95010")
    shrunk = ex.modify_order("alice", first.id, size=D("0.1"))
    assert shrunk.id == first.id and shrunk.size == D("0.1")
    market(ex, "bob", Side.BUY, "0.1")
    assert ex.get_order(first.id).status is OrderStatus.FILLED  # kept its place
    moved = limit(ex, "alice", Side.SELL, "0.1", "95020")
    repriced = ex.modify_order("alice", moved.id, price=D("95010"))
    assert repriced.price == D("95010") and repriced.status is OrderStatus.OPEN
    market(ex, "bob", Side.BUY, "0.1")
    assert ex.get_order(moved.id).filled_size == 0  # carol's older order at 95010 went first


def test_events_are_ordered_with_per_account_seq_and_contiguous_book_seq(ex: SimExchange) -> None:
    events: list[object] = []
    ex.subscribe(events.append)
    limit(ex, "alice", Side.SELL, "0.1", "95010")
    limit(ex, "alice", Side.SELL, "0.1", "95020")
    market(ex, "bob", Side.BUY, "0.15")
    for account in ("alice", "bob"):
        seqs = [e.seq_no for e in events if getattr(e, "account", None) == account]  # type: ignore[attr-defined]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    deltas = [e for e in events if isinstance(e, BookDeltaEvent)]
    assert [d.seq_no for d in deltas] == [1, 2, 3]
    last = deltas[-1].changes
    assert {(c.price, c.size) for c in last} == {(D("95010"), D("0")), (D("95020"), D("0.05"))}
    statuses = [e.order.status for e in events if isinstance(e, OrderEvent) and e.account == "bob"]
    assert statuses[0] is OrderStatus.NEW and statuses[-1] is OrderStatus.FILLED


def test_two_orders_same_request_shape_get_distinct_ids(ex: SimExchange) -> None:
    req = OrderRequest(BTC, Side.BUY, OrderType.LIMIT, D("0.1"), "", price=D("94000"))
    assert ex.submit_order("alice", req).id != ex.submit_order("alice", req).id
