"""Executor scenarios: sizing, risk gating, rejects in words, idempotent retries, in-flight resolution,
maker entries that re-price and fall back, and venues without some capabilities."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from flashscalper.domain import OrderRequest, OrderStatus, OrderType, Side, TimeInForce, is_multiple
from flashscalper.errors import ExchangeUnavailable, OrderRejected
from flashscalper.exchanges.local import LocalExchange
from flashscalper.sim import events as sim_events
from flashscalper.trading.executor import EntryMode
from flashscalper.trading.exits import ExitReason
from flashscalper.trading.orders import Purpose
from flashscalper.trading.risk import RiskState

from .scenario import ACCOUNT, BTC, ETH, SOL, exit_orders, started

D = Decimal


async def test_entry_size_follows_risk_sizing_and_market_step() -> None:
    s = await started(leverage=D(5), position_size_percent=D(10))
    balance = await s.venue.balance()
    quote = s.bot.executor.quotes[ETH]
    await s.enter(ETH, Side.BUY)
    spec = s.bot.positions.markets[ETH]
    size = s.venue_position(ETH)
    # 10 % of free collateral as margin at 5x, at the ask, rounded down to the step
    budget = balance.available * D(10) / 100 * 5 / quote.ask
    assert is_multiple(size, spec.step_size) and size <= budget
    assert budget - size < budget / 1000  # the free collateral moves a little with the mark meanwhile
    assert size <= spec.max_order_size


async def test_daily_loss_limit_halts_entries_but_exits_still_work() -> None:
    s = await started(daily_loss_limit_percent=D("0.1"), position_size_percent=D(40), max_positions=3)
    await s.enter(ETH, Side.BUY)
    await s.enter(BTC, Side.BUY)
    await s.drift(BTC, -0.004)  # the BTC stop fires; the loss is far beyond 0.1 % of equity
    assert s.bot.positions.closed[-1].reason is ExitReason.SL
    assert s.bot.risk.state is RiskState.HALTED
    assert any(e.to_state is RiskState.HALTED and "daily loss" in e.reason for e in s.of_kind("risk_state"))

    s.strategy.go(SOL, Side.BUY)  # type: ignore[attr-defined]
    await s.step(250, 3)
    assert s.venue_position(SOL) == 0
    assert "HALTED" in [e for e in s.of_kind("signal") if e.signal.market == SOL][-1].note

    await s.bot.close_position(ETH)  # reduce-only is allowed while halted
    await s.settle()
    assert s.venue_position(ETH) == 0 and s.venue_orders() == []


async def test_venue_reject_is_resolved_with_a_clear_reason() -> None:
    s = await started()
    s.engine.set_leverage(ACCOUNT, BTC, D(1))  # the venue now wants 10x the margin the bot sized for
    s.strategy.go(BTC, Side.BUY)  # type: ignore[attr-defined]
    await s.step(250, 2)
    assert s.venue_position(BTC) == 0 and BTC not in s.bot.executor.entries
    (report,) = [e for e in s.of_kind("order") if e.purpose == "ENTRY" and e.order.status is OrderStatus.REJECTED]
    assert "not enough free margin" in report.note and "NOT_ENOUGH_MARGIN" in report.note


class LossyVenue(LocalExchange):
    """A venue whose answers get lost on the way back: ``lose_acks`` orders reach the engine but the
    caller gets a timeout and no private events for them; ``black_hole`` orders never arrive."""

    lose_acks = 0
    black_hole = False

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._muted = False
        self.sent: list[str] = []

    def _on_private(self, event: sim_events.SimEvent) -> None:
        if not self._muted:
            super()._on_private(event)

    async def place_order(self, request: OrderRequest) -> object:  # type: ignore[override]
        self.sent.append(request.client_id)
        if self.black_hole:
            raise ExchangeUnavailable("connection reset")
        if self.lose_acks:
            self.lose_acks -= 1
            self._muted = True
            try:
                await super().place_order(request)
            finally:
                self._muted = False
            raise ExchangeUnavailable("read timeout")
        return await super().place_order(request)


async def test_retry_after_a_lost_ack_finds_the_order_instead_of_resending() -> None:
    s = await started(venue_cls=LossyVenue, send_attempts=3)
    venue: LossyVenue = s.venue  # type: ignore[assignment]
    venue.lose_acks = 1
    tracked = await s.bot.executor.submit(
        OrderRequest(ETH, Side.BUY, OrderType.LIMIT, D("0.1"), s.bot.executor.ids.next(), price=D(3000)),
        Purpose.ENTRY)
    assert venue.sent == [tracked.client_id]  # looked up by client id, not sent twice
    assert tracked.status is OrderStatus.OPEN
    assert [o.client_id for o in s.venue_orders(ETH)] == [tracked.client_id]


async def test_never_acked_entry_is_resolved_by_query_and_protected() -> None:
    s = await started(venue_cls=LossyVenue, send_attempts=1, ack_timeout_s=2.0)
    venue: LossyVenue = s.venue  # type: ignore[assignment]
    venue.lose_acks = 1
    s.strategy.go(BTC, Side.BUY)  # type: ignore[attr-defined]
    await s.step()
    (entry,) = [t for t in s.bot.executor.tracker.all() if t.purpose is Purpose.ENTRY]
    assert entry.order is None and s.venue_position(BTC) > 0  # it filled, but we heard nothing
    await s.step(1000, 3)
    assert entry.status is OrderStatus.FILLED and "resolved by query" in entry.note
    pos = s.bot.positions.get(BTC)
    assert pos is not None and pos.size == s.venue_position(BTC)
    assert set(exit_orders(s.venue_orders(BTC))) == {OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET}


async def test_order_that_never_reached_the_venue_is_marked_lost() -> None:
    s = await started(venue_cls=LossyVenue, send_attempts=2, ack_timeout_s=1.0, lost_after=3)
    venue: LossyVenue = s.venue  # type: ignore[assignment]
    venue.black_hole = True
    tracked = await s.bot.executor.submit(
        OrderRequest(ETH, Side.BUY, OrderType.LIMIT, D("0.1"), s.bot.executor.ids.next(), price=D(3000)),
        Purpose.ENTRY)
    assert venue.sent == [tracked.client_id] * 2 and not tracked.is_done
    venue.black_hole = False
    await s.step(1000, 4)
    assert tracked.lost and tracked.not_found == 3 and "lost" in tracked.note
    assert any(e.order.client_id == tracked.client_id and "lost" in e.note for e in s.of_kind("order"))


async def test_maker_entry_reprices_then_falls_back_to_market() -> None:
    s = await started(entry_mode=EntryMode.MAKER, entry_timeout_s=1.0, max_reprices=1)
    s.strategy.go(SOL, Side.BUY)  # type: ignore[attr-defined]
    for _ in range(40):
        await s.step()
        if s.bot.positions.get(SOL) is not None and SOL not in s.bot.executor.entries:
            break
    requests = [t.request for t in s.bot.executor.tracker.all() if t.purpose is Purpose.ENTRY]
    assert requests[0].type is OrderType.LIMIT and requests[0].tif is TimeInForce.POST_ONLY
    # on this seeded market nobody hits our bid in time: one re-price, then the market fallback
    assert [(r.type, r.tif) for r in requests] == [(OrderType.LIMIT, TimeInForce.POST_ONLY)] * 2 + [
        (OrderType.MARKET, TimeInForce.GTC)]
    cancelled = [t for t in s.bot.executor.tracker.all() if t.purpose is Purpose.ENTRY][:2]
    assert all(t.status is OrderStatus.CANCELED for t in cancelled)
    assert s.venue_position(SOL) > 0
    assert len({r.client_id for r in requests}) == len(requests)


class NoStopsVenue(LocalExchange):
    """A venue that cannot rest stop orders: the position manager must enforce exits itself."""

    capabilities = replace(LocalExchange.capabilities, native_stop_orders=False)


async def test_without_native_stops_exits_are_enforced_locally() -> None:
    s = await started(venue_cls=NoStopsVenue)
    await s.enter(BTC, Side.BUY)
    assert exit_orders(s.venue_orders(BTC)) == {}
    assert s.bot.positions.get(BTC).stop_price is not None  # type: ignore[union-attr]
    await s.drift(BTC, -0.004)
    assert s.venue_position(BTC) == 0
    assert s.bot.positions.closed[-1].reason is ExitReason.SL


class StopRefusingVenue(LocalExchange):
    """A venue that rejects every stop order (e.g. conditional orders disabled in maintenance)."""

    async def place_order(self, request: OrderRequest) -> object:  # type: ignore[override]
        if request.type is OrderType.STOP_MARKET:
            raise OrderRejected("conditional orders are disabled", reason="VALIDATION_ERROR")
        return await super().place_order(request)


async def test_a_position_whose_stop_cannot_be_placed_is_closed_at_once() -> None:
    s = await started(venue_cls=StopRefusingVenue)
    s.strategy.go(BTC, Side.BUY)  # type: ignore[attr-defined]
    await s.step(250, 8)
    assert s.venue_position(BTC) == 0 and s.venue_orders(BTC) == []
    assert s.bot.positions.closed[-1].reason is ExitReason.PROTECTION_FAILED
