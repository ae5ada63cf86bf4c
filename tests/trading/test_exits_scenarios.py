"""Every exit path on a live simulated venue: each ends flat, with the right reduce-only orders and reason."""

from __future__ import annotations

from decimal import Decimal

from flashscalper.domain import OrderType, Side
from flashscalper.trading import exits
from flashscalper.trading.exits import ExitReason
from flashscalper.trading.risk import RiskState

from .scenario import ACCOUNT, BTC, ETH, exit_orders, started

D = Decimal


async def test_stop_and_take_profit_rest_on_venue_right_after_entry() -> None:
    s = await started()
    await s.enter(BTC, Side.BUY)
    pos = s.bot.positions.get(BTC)
    assert pos is not None and s.venue_position(BTC) == pos.size > 0

    resting = exit_orders(s.venue_orders(BTC))
    stop, take = resting[OrderType.STOP_MARKET], resting[OrderType.TAKE_PROFIT_MARKET]
    assert stop.side is Side.SELL and take.side is Side.SELL
    assert stop.reduce_only and take.reduce_only
    # prices follow the ROE convention: -0.5 % and +1.5 % of margin at 10x
    entry, lev = pos.entry_price, pos.leverage
    assert exits.roe_percent(Side.BUY, entry, stop.trigger_price, lev) >= D("-0.5")
    assert exits.roe_percent(Side.BUY, entry, stop.trigger_price - s.bot.positions.markets[BTC].tick_size,
                             lev) < D("-0.5")
    assert exits.roe_percent(Side.BUY, entry, take.trigger_price, lev) >= D("1.5")
    assert stop.client_id.startswith(f"fs-{s.bot.session}-")


async def test_stop_loss_closes_the_position_and_cancels_the_take_profit() -> None:
    s = await started()
    await s.enter(BTC, Side.BUY)
    await s.jump(BTC, -0.01)
    await s.step()
    assert s.venue_position(BTC) == 0 and s.bot.positions.get(BTC) is None
    assert s.venue_orders(BTC) == []
    (trade,) = s.bot.positions.closed
    assert trade.reason is ExitReason.SL and trade.pnl < 0 and trade.side is Side.BUY
    assert [e.trade for e in s.of_kind("trade_closed")] == [trade]
    # the venue's fill came from our reduce-only stop
    fills = [f.fill for f in s.of_kind("fill") if f.fill.side is Side.SELL]
    assert fills and all(s.bot.executor.tracker.get(f.client_id).request.reduce_only for f in fills)


async def test_take_profit_on_a_short() -> None:
    s = await started()
    await s.enter(ETH, Side.SELL)
    await s.drift(ETH, -0.004)
    assert s.venue_position(ETH) == 0 and s.venue_orders(ETH) == []
    (trade,) = s.bot.positions.closed
    assert trade.reason is ExitReason.TP and trade.pnl > 0 and trade.side is Side.SELL


async def test_trailing_stop_moves_on_the_venue_and_locks_in_profit() -> None:
    s = await started(take_profit_roe=D(50), trailing_activation_roe=D(3), trailing_callback_roe=D(1),
                      trail_min_interval_s=0.0)
    await s.enter(BTC, Side.BUY)
    first_stop = exit_orders(s.venue_orders(BTC))[OrderType.STOP_MARKET]
    await s.jump(BTC, 0.005)  # +0.5 % at 10x: ROE about +5, past the activation
    moved = exit_orders(s.venue_orders(BTC))[OrderType.STOP_MARKET]
    pos = s.bot.positions.get(BTC)
    assert pos is not None and pos.trailing.active and pos.trail_moved
    assert moved.client_id != first_stop.client_id and moved.trigger_price > pos.entry_price
    assert len([o for o in s.venue_orders(BTC) if o.type is OrderType.STOP_MARKET]) == 1  # old one cancelled

    await s.drift(BTC, -0.004)
    assert s.venue_position(BTC) == 0 and s.venue_orders(BTC) == []
    (trade,) = s.bot.positions.closed
    assert trade.reason is ExitReason.TRAIL and trade.pnl > 0


async def test_trailing_stop_is_throttled_and_moves_only_by_whole_ticks() -> None:
    s = await started(take_profit_roe=D(50), trailing_activation_roe=D(1), trailing_callback_roe=D(1),
                      trail_min_interval_s=60.0)
    await s.enter(BTC, Side.BUY)
    await s.jump(BTC, 0.003)
    stops_after_first_move = {o.client_id for o in s.engine.order_history(ACCOUNT, BTC)
                              if o.type is OrderType.STOP_MARKET}
    for _ in range(5):  # more favourable moves inside the throttle interval change nothing on the venue
        await s.jump(BTC, 0.001)
    stops_now = {o.client_id for o in s.engine.order_history(ACCOUNT, BTC) if o.type is OrderType.STOP_MARKET}
    assert stops_now == stops_after_first_move


async def test_max_holding_time_closes_at_market() -> None:
    s = await started(max_holding_seconds=5)
    await s.enter(ETH, Side.BUY)
    await s.step(1000, 6)
    assert s.venue_position(ETH) == 0 and s.venue_orders(ETH) == []
    (trade,) = s.bot.positions.closed
    assert trade.reason is ExitReason.TIME and 5000 <= trade.duration_ms <= 7000
    closes = [o for o in s.engine.order_history(ACCOUNT, ETH) if o.type is OrderType.MARKET and o.reduce_only]
    assert len(closes) == 1 and closes[0].side is Side.SELL


async def test_emergency_flatten_cancels_everything_and_halts() -> None:
    s = await started()
    await s.enter(BTC, Side.BUY)
    await s.enter(ETH, Side.SELL)
    await s.bot.flatten()
    await s.settle()
    assert s.venue_position(BTC) == 0 and s.venue_position(ETH) == 0
    assert s.venue_orders() == []
    assert {t.reason for t in s.bot.positions.closed} == {ExitReason.EMERGENCY}
    assert s.bot.risk.state is RiskState.HALTED
    closes = [o for o in s.engine.order_history(ACCOUNT) if o.type is OrderType.MARKET and o.reduce_only]
    assert {(o.market, o.side) for o in closes} == {(BTC, Side.SELL), (ETH, Side.BUY)}
    # and no new entry while halted
    s.strategy.go(BTC, Side.BUY)  # type: ignore[attr-defined]
    await s.step(250, 3)
    assert s.venue_position(BTC) == 0
    refused = [e for e in s.of_kind("signal") if not e.acted]
    assert refused and "HALTED" in refused[-1].note


async def test_manual_close_is_recorded_as_manual() -> None:
    s = await started()
    await s.enter(BTC, Side.SELL)
    await s.bot.close_position(BTC)
    await s.settle()
    assert s.venue_position(BTC) == 0 and s.venue_orders(BTC) == []
    assert s.bot.positions.closed[-1].reason is ExitReason.MANUAL
