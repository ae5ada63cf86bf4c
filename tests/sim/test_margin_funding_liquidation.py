"""Cross margin, P&L, fees, funding that nets to zero, and liquidation against the insurance fund."""

from __future__ import annotations

from decimal import Decimal

from flashscalper.clock import ManualClock
from flashscalper.domain import OrderStatus, Side
from flashscalper.sim.engine import INSURANCE_ACCOUNT, SimExchange
from flashscalper.sim.events import LiquidationEvent, TradeEvent
from tests.sim.helpers import BTC, limit, market

D = Decimal


def test_pnl_realized_on_close_and_unrealized_at_mark(ex: SimExchange) -> None:
    limit(ex, "carol", Side.SELL, "0.2", "95000")
    market(ex, "alice", Side.BUY, "0.2")
    ex.set_mark_price(BTC, D("96000"))
    pos = ex.position("alice", BTC)
    assert pos.entry_price == D("95000") and pos.unrealized_pnl == D("200")
    assert ex.account_summary("alice").account_value == D("100200")
    limit(ex, "bob", Side.BUY, "0.1", "96500")
    market(ex, "alice", Side.SELL, "0.1")
    pos = ex.position("alice", BTC)
    assert pos.realized_pnl == D("150") and pos.size == D("0.1") and pos.entry_price == D("95000")
    assert ex.account_summary("alice").total_collateral == D("100150")


def test_fees_go_to_the_insurance_fund(clock: ManualClock) -> None:
    ex = SimExchange(clock, maker_fee=D("0.0001"), taker_fee=D("0.0005"))
    ex.create_account("maker", D(100_000))
    ex.create_account("taker", D(100_000))
    limit(ex, "maker", Side.SELL, "1", "95000")
    market(ex, "taker", Side.BUY, "1")
    assert ex.account_summary("maker").total_collateral == D(100_000) - D("9.5")
    assert ex.account_summary("taker").total_collateral == D(100_000) - D("47.5")
    assert ex.account_summary(INSURANCE_ACCOUNT).total_collateral == D("57")
    assert ex.fills("taker")[0].fill.fee == D("47.5")


def test_funding_is_paid_by_longs_when_book_trades_above_mark_and_nets_to_zero(
        ex: SimExchange, clock: ManualClock) -> None:
    limit(ex, "carol", Side.SELL, "0.3", "95000")
    market(ex, "alice", Side.BUY, "0.2")
    market(ex, "bob", Side.BUY, "0.1")
    # book mid 95950 vs mark 95000: +1% premium, clamped to 0.5% per 8h period, 1h interval -> 0.0625%
    limit(ex, "carol", Side.SELL, "0.1", "96000")
    limit(ex, "bob", Side.BUY, "0.1", "95900")
    before = {a: ex.account_summary(a).total_collateral for a in ("alice", "bob", "carol")}
    clock.advance(3_600_000)
    ex.tick()
    row = ex.funding_history(BTC)[-1]
    assert row.rate == D("0.000625")
    paid = {a: ex.account_summary(a).total_collateral - before[a] for a in before}
    assert paid["alice"] == -D("0.2") * D("95000") * D("0.000625")
    assert paid["carol"] > 0 and paid["bob"] < 0
    assert sum(paid.values()) == 0
    assert [p.payment.amount for p in ex.funding_payments("alice", BTC)] == [paid["alice"]]


def test_funding_catches_up_on_missed_intervals(ex: SimExchange, clock: ManualClock) -> None:
    clock.advance(5 * 3_600_000)
    ex.tick()
    assert len(ex.funding_history(BTC)) == 5


def test_liquidation_when_account_value_falls_below_maintenance(ex: SimExchange) -> None:
    events: list[object] = []
    ex.subscribe(events.append)
    ex.create_account("degen", D(2_000))
    ex.set_leverage("degen", BTC, D(50))
    limit(ex, "carol", Side.SELL, "1", "95000")
    market(ex, "degen", Side.BUY, "1")
    resting = limit(ex, "degen", Side.BUY, "0.001", "90000")
    mm = ex.account_summary("degen").maintenance_margin_requirement
    assert mm == D("950")  # 1% of 95k notional (imf_base 2% x mmf 0.5)
    liq_price = ex.position("degen", BTC).liquidation_price
    assert liq_price is not None and D("93900") < liq_price < D("94000")
    ex.set_mark_price(BTC, D("94000"))  # value 1000 > maintenance 940: still fine
    assert ex.position("degen", BTC).size == D("1")
    ex.set_mark_price(BTC, D("93800"))  # value 800 < 938
    assert ex.position("degen", BTC).size == 0
    assert ex.get_order(resting.id).cancel_reason == "LIQUIDATION"
    assert ex.position(INSURANCE_ACCOUNT, BTC).size == D("1")
    assert ex.account_summary("degen").total_collateral == D("800")
    liq = [e for e in events if isinstance(e, LiquidationEvent)]
    assert [(e.account, e.size, e.price) for e in liq] == [("degen", D("1"), D("93800"))]
    trades = [e for e in events if isinstance(e, TradeEvent) and e.trade_type == "LIQUIDATION"]
    assert len(trades) == 1 and ex.fills("degen")[-1].trade_type == "LIQUIDATION"
    assert ex.total_equity() == ex.deposits


def test_force_liquidate_and_fund_account_admin_hooks(ex: SimExchange) -> None:
    limit(ex, "carol", Side.SELL, "0.1", "95000")
    market(ex, "alice", Side.BUY, "0.1")
    ex.force_liquidate("alice")
    assert ex.position("alice", BTC).size == 0 and ex.liquidations("alice")
    ex.fund_account("alice", D(500))
    assert ex.account_summary("alice").total_collateral == D(100_500)
    assert ex.total_equity() == ex.deposits


def test_losing_more_than_collateral_blocks_new_risk(ex: SimExchange) -> None:
    ex.create_account("thin", D(1_000))
    limit(ex, "carol", Side.SELL, "0.1", "95000")
    assert market(ex, "thin", Side.BUY, "0.1").status is OrderStatus.FILLED
    ex.set_mark_price(BTC, D("94500"))  # -50: free collateral now below the 950 needed
    refused = limit(ex, "thin", Side.BUY, "0.001", "90000")
    assert refused.cancel_reason == "NOT_ENOUGH_MARGIN"
