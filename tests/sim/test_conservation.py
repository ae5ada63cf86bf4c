"""Property: whatever orders, price moves, funding and liquidations happen, no USDC appears or vanishes.

Sum over every account (insurance fund included) of collateral + unrealized P&L equals net deposits,
exactly, and every market's positions sum to zero.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashscalper.clock import ManualClock
from flashscalper.domain import OrderRequest, OrderType, Side, TimeInForce
from flashscalper.sim.engine import OrderValidationError, SimExchange
from flashscalper.sim.orders import SelfTradePrevention

MARKETS = ("BTC-USD-PERP", "ETH-USD-PERP")
ACCOUNTS = ("a", "b", "c", "d")

order_op = st.tuples(
    st.just("order"),
    st.sampled_from(ACCOUNTS),
    st.sampled_from(MARKETS),
    st.sampled_from(Side),
    st.sampled_from([OrderType.LIMIT, OrderType.LIMIT, OrderType.MARKET, OrderType.STOP_MARKET,
                     OrderType.TAKE_PROFIT_LIMIT]),
    st.sampled_from(TimeInForce),
    st.integers(min_value=1, max_value=40),  # size in units of 0.01 BTC / 0.1 ETH
    st.integers(min_value=-30, max_value=30),  # price offset from mark in bps
    st.sampled_from([False, False, False, True]),  # reduce-only
    st.sampled_from(SelfTradePrevention),
)
cross_op = st.tuples(
    st.just("cross"),
    st.sampled_from(ACCOUNTS),  # maker
    st.sampled_from(ACCOUNTS),  # taker
    st.sampled_from(MARKETS),
    st.sampled_from(Side),  # maker side
    st.integers(min_value=1, max_value=40),
    st.integers(min_value=-20, max_value=20),
)
mark_op = st.tuples(st.just("mark"), st.sampled_from(MARKETS), st.integers(min_value=-1500, max_value=1500))
cancel_op = st.tuples(st.just("cancel"), st.sampled_from(ACCOUNTS), st.integers(min_value=0, max_value=5))
time_op = st.tuples(st.just("time"), st.integers(min_value=600_000, max_value=7_200_000))
liquidate_op = st.tuples(st.just("liquidate"), st.sampled_from(ACCOUNTS))
fund_op = st.tuples(st.just("fund"), st.sampled_from(ACCOUNTS), st.integers(min_value=-500, max_value=5_000))
operations = st.lists(st.one_of(cross_op, cross_op, order_op, order_op, mark_op, mark_op, cancel_op, time_op, fund_op,
                                liquidate_op),
                      min_size=10, max_size=60)
collaterals = st.lists(st.integers(min_value=1_000, max_value=60_000), min_size=4, max_size=4)
leverages = st.lists(st.integers(min_value=5, max_value=50), min_size=4, max_size=4)


def _units(market: str, units: int) -> Decimal:
    return (Decimal("0.01") if market.startswith("BTC") else Decimal("0.1")) * units


def _apply(ex: SimExchange, clock: ManualClock, op: tuple) -> None:  # type: ignore[type-arg]
    kind = op[0]
    if kind == "cross":  # a resting order and a market order that meets it (the usual way positions open)
        _, maker, taker, market, side, units, bps = op
        mark = ex.mark_price(market)
        price = ex.specs[market].market.round_price(mark * (1 + Decimal(bps) / 10_000), side)
        try:
            ex.submit_order(maker, OrderRequest(market, side, OrderType.LIMIT, _units(market, units), "",
                                                price=price))
            taken = _units(market, max(1, units // 2))  # leave some resting so the book keeps a mid
            ex.submit_order(taker, OrderRequest(market, side.opposite, OrderType.MARKET, taken, ""))
        except OrderValidationError:
            pass
    elif kind == "order":
        _, account, market, side, type_, tif, units, bps, reduce_only, stp = op
        spec = ex.specs[market].market
        mark = ex.mark_price(market)
        price = spec.round_price(mark * (1 + Decimal(bps) / 10_000), side)
        if not type_.has_limit_price and tif is not TimeInForce.GTC:
            tif = TimeInForce.GTC
        if type_ is OrderType.TAKE_PROFIT_LIMIT and tif is TimeInForce.POST_ONLY:
            tif = TimeInForce.GTC
        req = OrderRequest(market, side, type_, _units(market, units), "",
                           price=price if type_.has_limit_price else None,
                           trigger_price=price if type_.is_conditional else None, tif=tif, reduce_only=reduce_only)
        try:
            ex.submit_order(account, req, stp=stp)
        except OrderValidationError:
            pass
    elif kind == "mark":
        _, market, bps = op
        ex.set_mark_price(market, ex.mark_price(market) * (1 + Decimal(bps) / 10_000))
    elif kind == "cancel":
        _, account, index = op
        open_orders = ex.open_orders(account)
        if open_orders:
            ex.cancel_order(account, open_orders[index % len(open_orders)].id)
    elif kind == "time":
        clock.advance(op[1])
        ex.tick()
    elif kind == "liquidate":
        ex.force_liquidate(op[1])
    else:
        _, account, amount = op
        ex.fund_account(account, Decimal(amount))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(collateral=collaterals, leverage=leverages, ops=operations, fees=st.booleans())
def test_usdc_plus_unrealized_pnl_is_conserved(
        collateral: list[int], leverage: list[int], ops: list[tuple], fees: bool) -> None:  # type: ignore[type-arg]
    clock = ManualClock()
    fee_args = {"maker_fee": Decimal("-0.00002"), "taker_fee": Decimal("0.0005")} if fees else {}
    ex = SimExchange(clock, **fee_args)  # type: ignore[arg-type]
    for account, amount, lev in zip(ACCOUNTS, collateral, leverage, strict=True):
        ex.create_account(account, Decimal(amount), leverage=Decimal(lev))
    for op in ops:
        _apply(ex, clock, op)
        assert ex.total_equity() == ex.deposits
        for market in MARKETS:
            assert sum(Decimal(p.size) for a in ex.accounts() for p in ex.positions(a) if p.market == market) == 0
