"""Every way an order is refused: synchronous 400-style errors and CLOSED orders with a venue reason."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from flashscalper.clock import ManualClock
from flashscalper.domain import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from flashscalper.sim.engine import OrderValidationError, SimExchange
from flashscalper.sim.markets import default_markets
from tests.sim.helpers import BTC, limit, market

D = Decimal


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (OrderRequest("DOGE-USD-PERP", Side.BUY, OrderType.LIMIT, D("1"), "x", price=D("1")), "MARKET_NOT_FOUND"),
        (OrderRequest(BTC, Side.BUY, OrderType.LIMIT, D("0.000015"), "x", price=D("95000")), "INVALID_ORDER_SIZE"),
        (OrderRequest(BTC, Side.BUY, OrderType.LIMIT, D("0"), "x", price=D("95000")), "INVALID_ORDER_SIZE"),
        (OrderRequest(BTC, Side.BUY, OrderType.LIMIT, D("101"), "x", price=D("95000")), "INVALID_ORDER_SIZE"),
        (OrderRequest(BTC, Side.BUY, OrderType.LIMIT, D("0.0001"), "x", price=D("95000")), "INVALID_ORDER_SIZE"),
        (OrderRequest(BTC, Side.BUY, OrderType.LIMIT, D("0.1"), "x", price=D("95000.05")), "VALIDATION_ERROR"),
        (OrderRequest(BTC, Side.BUY, OrderType.LIMIT, D("0.1"), "x"), "VALIDATION_ERROR"),
        (OrderRequest(BTC, Side.BUY, OrderType.STOP_MARKET, D("0.1"), "x"), "VALIDATION_ERROR"),
        (OrderRequest(BTC, Side.BUY, OrderType.MARKET, D("0.1"), "x", tif=TimeInForce.POST_ONLY), "VALIDATION_ERROR"),
        (OrderRequest(BTC, Side.BUY, OrderType.MARKET, D("0.1"), "x" * 65), "VALIDATION_ERROR"),
    ],
    ids=["unknown-market", "off-step", "zero", "above-max", "below-min-notional", "off-tick", "no-price",
         "no-trigger", "post-only-market", "long-client-id"],
)
def test_bad_requests_raise_with_paradex_codes(ex: SimExchange, request_: OrderRequest, code: str) -> None:
    with pytest.raises(OrderValidationError) as err:
        ex.submit_order("alice", request_)
    assert err.value.code == code and err.value.status == 400
    assert ex.open_orders("alice") == []


def test_duplicate_client_id_among_open_orders(ex: SimExchange) -> None:
    limit(ex, "alice", Side.BUY, "0.1", "94000", client_id="dup")
    with pytest.raises(OrderValidationError) as err:
        limit(ex, "alice", Side.BUY, "0.1", "94001", client_id="dup")
    assert err.value.code == "DUPLICATED_CLIENT_ID"
    limit(ex, "bob", Side.BUY, "0.1", "94001", client_id="dup")  # another account may reuse it


def test_unknown_account_is_refused(ex: SimExchange) -> None:
    with pytest.raises(OrderValidationError) as err:
        limit(ex, "mallory", Side.BUY, "0.1", "94000")
    assert err.value.code == "ACCOUNT_NOT_FOUND"


def test_not_enough_margin_is_a_rejected_order(ex: SimExchange) -> None:
    ex.create_account("small", D(1000))  # 10x default leverage: about 0.105 BTC of exposure at 95k
    ok = limit(ex, "small", Side.BUY, "0.1", "94000")
    assert ok.status is OrderStatus.OPEN
    refused = limit(ex, "small", Side.BUY, "0.01", "94000")
    assert refused.status is OrderStatus.REJECTED and refused.cancel_reason == "NOT_ENOUGH_MARGIN"
    # an order on the other side does not add exposure, so it still fits
    assert limit(ex, "small", Side.SELL, "0.1", "96000").status is OrderStatus.OPEN
    summary = ex.account_summary("small")
    assert summary.initial_margin_requirement == D("0.1") * D("95000") / 10
    assert summary.free_collateral == D(1000) - summary.initial_margin_requirement


def test_higher_leverage_frees_margin(ex: SimExchange) -> None:
    ex.create_account("small", D(1000))
    ex.set_leverage("small", BTC, D(50))
    assert limit(ex, "small", Side.BUY, "0.5", "94000").status is OrderStatus.OPEN
    with pytest.raises(OrderValidationError):
        ex.set_leverage("small", BTC, D(51))


def test_position_limit(clock: ManualClock) -> None:
    specs = default_markets()
    btc = specs[BTC]
    specs[BTC] = replace(btc, market=replace(btc.market, position_limit=D("0.5")))
    ex = SimExchange(clock, specs)
    ex.create_account("whale", D(10_000_000))
    assert limit(ex, "whale", Side.BUY, "0.4", "94000").status is OrderStatus.OPEN
    refused = limit(ex, "whale", Side.BUY, "0.2", "94000")
    assert refused.status is OrderStatus.REJECTED and refused.cancel_reason == "ORDER_EXCEEDS_POSITION_LIMIT"


def test_open_orders_limit_per_market(clock: ManualClock) -> None:
    specs = default_markets()
    btc = specs[BTC]
    specs[BTC] = replace(btc, market=replace(btc.market, max_open_orders=2))
    ex = SimExchange(clock, specs)
    ex.create_account("alice", D(1_000_000))
    limit(ex, "alice", Side.BUY, "0.1", "94000")
    limit(ex, "alice", Side.BUY, "0.1", "94001")
    refused = limit(ex, "alice", Side.BUY, "0.1", "94002")
    assert refused.status is OrderStatus.REJECTED and refused.cancel_reason == "MAX_OPEN_ORDERS_EXCEEDED"
    # an IOC never rests, so it does not count against the limit
    assert limit(ex, "alice", Side.BUY, "0.1", "94002", tif=TimeInForce.IOC).cancel_reason == "EXPIRED"


def test_reduce_only_without_position_is_rejected(ex: SimExchange) -> None:
    order = market(ex, "alice", Side.SELL, "0.1", reduce_only=True)
    assert order.status is OrderStatus.REJECTED and order.cancel_reason == "REDUCE_ONLY_WOULD_INCREASE"


def test_rejection_reasons_map_to_domain_statuses(ex: SimExchange) -> None:
    limit(ex, "alice", Side.SELL, "0.1", "95010")
    assert limit(ex, "bob", Side.BUY, "0.1", "95010", tif=TimeInForce.POST_ONLY).status is OrderStatus.REJECTED
    assert limit(ex, "alice", Side.BUY, "0.1", "95010").status is OrderStatus.EXPIRED  # self trade
    assert limit(ex, "bob", Side.BUY, "0.5", "95010", tif=TimeInForce.IOC).status is OrderStatus.EXPIRED
    resting = limit(ex, "bob", Side.BUY, "0.1", "90000")
    assert ex.cancel_order("bob", resting.id).status is OrderStatus.CANCELED
