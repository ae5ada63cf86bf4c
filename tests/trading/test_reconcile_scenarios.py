"""Reconciliation scenarios: restart after kill -9, liquidation seen live and after a gap, reconnects."""

from __future__ import annotations

from decimal import Decimal

from flashscalper.domain import ConnectionEvent, ConnectionState, OrderRequest, OrderType, Side
from flashscalper.trading.exits import ExitReason

from .scenario import ACCOUNT, BTC, ETH, exit_orders, make_scenario, started

D = Decimal


def _actions(s, name: str) -> list:  # type: ignore[no-untyped-def]
    return [e for e in s.of_kind("reconcile") if e.action == name]


async def test_restart_adopts_the_position_keeps_its_exits_and_cancels_orphans() -> None:
    first = await started(session="one")
    await first.enter(BTC, Side.BUY)
    # a resting entry of the old session that will belong to nothing after the restart
    orphan_id = first.bot.executor.ids.next()
    await first.venue.place_order(OrderRequest(ETH, Side.BUY, OrderType.LIMIT, D("0.1"), orphan_id,
                                               price=D(3000)))
    # someone else's order on the same account is not ours to touch
    await first.venue.place_order(OrderRequest(ETH, Side.BUY, OrderType.LIMIT, D("0.1"), "manual-1",
                                               price=D(2990)))
    exits_before = exit_orders(first.venue_orders(BTC))
    # kill -9: the first bot simply stops existing; a new bot starts on the same engine account
    await first.venue.close()
    second = make_scenario(session="two", clock=first.clock, engine=first.engine, market=first.market,
                           collateral=D(0))
    await second.bot.start()
    await second.settle()

    (adopt,) = _actions(second, "ADOPT_POSITION")
    assert adopt.market == BTC
    pos = second.bot.positions.get(BTC)
    assert pos is not None and pos.adopted and pos.signed_size == second.venue_position(BTC)
    # the old session's stop and take-profit are re-used, not duplicated
    assert exit_orders(second.venue_orders(BTC)) == exits_before
    assert pos.stop is not None and pos.stop.client_id == exits_before[OrderType.STOP_MARKET].client_id
    (cancelled,) = _actions(second, "CANCEL_ORPHAN")
    assert cancelled.detail["client_id"] == orphan_id
    assert [o.client_id for o in second.venue_orders(ETH)] == ["manual-1"]

    # the adopted position is managed: its stop closes it and the trade is recorded
    await second.drift(BTC, -0.004)
    assert second.venue_position(BTC) == 0 and second.venue_orders(BTC) == []
    (trade,) = second.bot.positions.closed
    assert trade.reason is ExitReason.SL and trade.adopted


async def test_restart_without_exits_on_the_venue_reprotects_the_position() -> None:
    first = await started(session="one")
    await first.enter(ETH, Side.SELL)
    first.engine.cancel_all(ACCOUNT)  # the exits are gone (cancelled by hand in the venue UI)
    await first.venue.close()
    second = make_scenario(session="two", clock=first.clock, engine=first.engine, market=first.market,
                           collateral=D(0))
    await second.bot.start()
    resting = exit_orders(second.venue_orders(ETH))
    assert set(resting) == {OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET}
    assert all(o.client_id.startswith("fs-two-") and o.side is Side.BUY for o in resting.values())
    venue_positions = {p.market: p.size for p in await second.venue.positions()}
    assert venue_positions == {m: p.signed_size for m, p in second.bot.positions.positions.items()}


async def test_liquidation_is_detected_live_and_recorded() -> None:
    s = await started()
    await s.enter(BTC, Side.BUY)
    s.engine.force_liquidate(ACCOUNT)
    await s.settle()
    assert s.venue_position(BTC) == 0 and s.venue_orders() == []
    (trade,) = s.bot.positions.closed
    assert trade.reason is ExitReason.LIQUIDATION


async def test_liquidation_during_a_disconnect_is_found_by_reconciliation() -> None:
    s = await started()
    await s.enter(ETH, Side.SELL)
    s.engine.force_liquidate(ACCOUNT)
    s.venue.drain()  # the stream was down: every event of the liquidation is lost
    await s.bot.handle(ConnectionEvent("local", ConnectionState.DISCONNECTED, s.clock.time_ms()))
    await s.bot.handle(ConnectionEvent("local", ConnectionState.CONNECTED, s.clock.time_ms()))
    await s.settle()
    (gone,) = _actions(s, "POSITION_GONE")
    assert gone.market == ETH and gone.detail["exit_reason"] == "LIQUIDATION"
    (trade,) = s.bot.positions.closed
    assert trade.reason is ExitReason.LIQUIDATION
    assert s.bot.errors == 0
    assert [e.state for e in s.of_kind("connection")] == [ConnectionState.DISCONNECTED, ConnectionState.CONNECTED]


async def test_position_closed_out_of_band_is_recorded_as_external() -> None:
    s = await started()
    await s.enter(BTC, Side.BUY)
    size = s.venue_position(BTC)
    s.engine.cancel_all(ACCOUNT)
    s.engine.submit_order(ACCOUNT, OrderRequest(BTC, Side.SELL, OrderType.MARKET, size, "ui-close"))
    s.venue.drain()  # we missed the events, then resynced
    await s.bot.handle(ConnectionEvent("local", ConnectionState.RESYNCED, s.clock.time_ms()))
    await s.settle()
    assert s.bot.positions.get(BTC) is None
    assert s.bot.positions.closed[-1].reason is ExitReason.EXTERNAL
    assert [a.detail.get("exit_reason") for a in _actions(s, "POSITION_GONE")] == ["EXTERNAL"]
    assert s.bot.errors == 0


async def test_reconcile_when_in_sync_says_so() -> None:
    s = await started()
    await s.enter(BTC, Side.BUY)
    actions = await s.bot.reconcile("check")
    assert [a.action for a in actions] == ["IN_SYNC"]
