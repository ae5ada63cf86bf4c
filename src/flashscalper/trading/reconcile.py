"""Reconciliation: on start and after every reconnect, make the bot's view match the venue's.

The venue is the authority (nautilus' rule). One pass, from one ``snapshot()``:

1. Orders we track that the venue no longer lists as open are queried and their final state adopted.
2. Positions: a venue position we do not track is adopted and protected (its resting exits with our
   prefix are re-used); a tracked position that is gone is closed as a trade, its reason taken from
   the venue's recent fills (a fill with no order behind it, or a LIQUIDATION cancel, means the
   venue liquidated us; else EXTERNAL, unless one of our exits filled); a size mismatch is fixed.
3. Open orders with our client-id prefix that belong to no live position or working entry are
   cancelled (orphans, e.g. from a previous run killed with -9). Foreign orders are left alone.

Every action is published on the bus as a :class:`~flashscalper.trading.bus.ReconcileAction`.
"""

from __future__ import annotations

import logging

from flashscalper.clock import Clock
from flashscalper.domain import ZERO, Order, OrderType, Position
from flashscalper.errors import ExchangeError, OrderNotFound
from flashscalper.exchanges.base import Exchange
from flashscalper.trading.bus import EventBus, ReconcileAction
from flashscalper.trading.executor import Executor
from flashscalper.trading.exits import ExitReason
from flashscalper.trading.orders import Purpose
from flashscalper.trading.positions import ManagedPosition, PositionManager

log = logging.getLogger(__name__)

_STOPS = (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)
_TAKE_PROFITS = (OrderType.TAKE_PROFIT_MARKET, OrderType.TAKE_PROFIT_LIMIT)


class Reconciler:
    """Brings executor and position manager in line with one venue snapshot."""

    def __init__(self, exchange: Exchange, executor: Executor, positions: PositionManager, clock: Clock,
                 bus: EventBus) -> None:
        self.exchange = exchange
        self.executor = executor
        self.positions = positions
        self.clock = clock
        self.bus = bus
        self.history: list[ReconcileAction] = []

    def _record(self, action: str, market: str, reason: str, **detail: str) -> ReconcileAction:
        event = ReconcileAction(action, market, reason, self.clock.time_ms(), detail)
        self.history.append(event)
        log.info("reconcile %s %s: %s", action, market or "-", reason)
        self.bus.publish(event)
        return event

    async def reconcile(self, why: str) -> list[ReconcileAction]:
        """One full pass; returns the actions taken (an IN_SYNC action when there were none)."""
        start = len(self.history)
        snap = await self.exchange.snapshot()
        open_by_cid = {o.client_id: o for o in snap.open_orders if o.client_id}
        await self._resolve_tracked(open_by_cid, why)
        venue_positions = {p.market: p for p in snap.positions if p.size != 0}
        await self._positions(venue_positions, snap.open_orders, why)
        await self._orphans(snap.open_orders, why)
        if len(self.history) == start:
            self._record("IN_SYNC", "", f"{why}: venue and bot agree "
                         f"({len(venue_positions)} position(s), {len(snap.open_orders)} open order(s))")
        return self.history[start:]

    async def _resolve_tracked(self, open_by_cid: dict[str, Order], why: str) -> None:
        now = self.clock.time_ms()
        for tracked in self.executor.tracker.open():
            venue = open_by_cid.get(tracked.client_id)
            if venue is not None:
                self.executor.tracker.apply(venue, now)
                continue
            try:
                final = await self.exchange.get_order(tracked.market, client_id=tracked.client_id)
            except OrderNotFound:
                continue  # the in-flight check counts not-founds and declares it lost
            except ExchangeError:
                continue
            self.executor.tracker.apply(final, now)
            self._record("ORDER_RESOLVED", tracked.market, f"{why}: {tracked.purpose} order "
                         f"{tracked.client_id} is {final.status} on the venue", client_id=tracked.client_id)
        for plan in list(self.executor.entries.values()):
            current = plan.current
            if current is not None and current.is_done:
                await self.executor.advance_entry(plan)

    async def _positions(self, venue: dict[str, Position], open_orders: list[Order], why: str) -> None:
        pm = self.positions
        for market, pos in list(pm.positions.items()):
            if market not in venue:
                await self._gone(pos, why)
        for market, vpos in venue.items():
            spec = pm.markets.get(market)
            if spec is None:
                self._record("IGNORED_POSITION", market, f"{why}: position in a market the bot does not trade")
                continue
            mine = pm.get(market)
            if mine is None:
                self._adopt_exits(market, vpos, open_orders)
            before = None if mine is None else mine.signed_size
            done = await pm.sync(vpos, spec, mine, reason=why)
            if done == "ADOPT_POSITION":
                self._record(done, market, f"{why}: the venue holds {vpos.size} {market} at {vpos.entry_price} "
                             "that this bot did not open; adopted and protected", size=str(vpos.size))
            elif done == "FIX_SIZE":
                self._record(done, market, f"{why}: size was {before}, venue says {vpos.size}",
                             size=str(vpos.size))
            elif done == "POSITION_GONE":
                self._record(done, market, f"{why}: the position flipped on the venue to {vpos.size}")
            else:
                current = pm.get(market)
                if current is not None:
                    await self._reprotect(current, why)

    def _adopt_exits(self, market: str, vpos: Position, open_orders: list[Order]) -> None:
        """Before adopting a position, take over exits of ours still resting for it (no gap)."""
        ids = self.executor.ids
        closing_side = "SELL" if vpos.size > 0 else "BUY"
        for order in open_orders:
            if (order.market != market or not ids.is_ours(order.client_id) or not order.reduce_only
                    or order.side != closing_side or order.client_id in self.executor.tracker):
                continue
            if order.type in _STOPS:
                self.executor.tracker.adopt(order, Purpose.STOP, self.clock.time_ms())
            elif order.type in _TAKE_PROFITS:
                self.executor.tracker.adopt(order, Purpose.TAKE_PROFIT, self.clock.time_ms())
        self.positions.pending_exits[market] = [
            t for t in self.executor.tracker.open()
            if t.market == market and t.purpose in (Purpose.STOP, Purpose.TAKE_PROFIT)
        ]

    async def _reprotect(self, pos: ManagedPosition, why: str) -> None:
        if not self.exchange.capabilities.native_stop_orders:
            return
        had_stop = pos.stop is not None and not pos.stop.is_done
        had_tp = pos.take_profit is not None and not pos.take_profit.is_done
        if had_stop and had_tp:
            return
        await self.positions.protect(pos)
        missing = ", ".join(n for n, ok in (("stop-loss", had_stop), ("take-profit", had_tp)) if not ok)
        self._record("REPROTECT", pos.symbol, f"{why}: {missing} missing on the venue; placed again")

    async def _gone(self, pos: ManagedPosition, why: str) -> None:
        """A tracked position vanished: explain it from the venue's fills, then close the record."""
        reason = ExitReason.EXTERNAL
        try:
            fills = await self.exchange.fills(pos.symbol, since_ms=pos.opened_at)
        except ExchangeError:
            fills = []
        for fill in fills:
            tracked = self.executor.tracker.get(fill.client_id) if fill.client_id else None
            if tracked is not None and fill not in tracked.fills and fill.side is pos.side.opposite:
                tracked.fills.append(fill)
                await self.positions.on_fill(fill, tracked)
                if self.positions.get(pos.symbol) is not pos:
                    self._record("POSITION_GONE", pos.symbol, f"{why}: closed on the venue by our "
                                 f"{tracked.purpose} order {fill.client_id} while we were not listening")
                    return
            elif not fill.order_id:
                reason = ExitReason.LIQUIDATION
        if pos.liquidated:
            reason = ExitReason.LIQUIDATION
        closed = await self.positions.sync(
            Position(pos.symbol, size=ZERO, entry_price=pos.entry_price), pos.market, pos,
            reason=why, default_exit=reason)
        if closed:
            self._record("POSITION_GONE", pos.symbol, f"{why}: the venue has no {pos.symbol} position any "
                         f"more; recorded as closed ({reason})", exit_reason=reason.value)

    async def _orphans(self, open_orders: list[Order], why: str) -> None:
        ids, pm = self.executor.ids, self.positions
        live: set[str] = set()
        for pos in pm.positions.values():
            live.update(t.client_id for t in (pos.stop, pos.take_profit, pos.closing) if t is not None)
        for plan in self.executor.entries.values():
            live.update(t.client_id for t in plan.orders)
        for order in open_orders:
            if not ids.is_ours(order.client_id) or order.client_id in live:
                continue
            try:
                await self.exchange.cancel_order(order.market, client_id=order.client_id)
            except ExchangeError as exc:
                self._record("CANCEL_FAILED", order.market, f"{why}: could not cancel orphan "
                             f"{order.client_id}: {exc}", client_id=order.client_id)
                continue
            tracked = self.executor.tracker.get(order.client_id)
            if tracked is not None:
                tracked.note = "cancelled by reconciliation: orphaned"
            self._record("CANCEL_ORPHAN", order.market, f"{why}: our {order.type} {order.side} "
                         f"{order.client_id} belongs to no live position or entry; cancelled",
                         client_id=order.client_id)
