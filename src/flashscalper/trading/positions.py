"""The position manager: live P&L of every open position, and the exits that protect it.

*_ROE settings are percent of margin; +1.5 means P&L = 1.5 % of the margin.
Margin here is the position's initial margin at the bot's leverage: entry notional / leverage, so
ROE = unrealized P&L / (entry price × size / leverage) × 100 (see :mod:`flashscalper.trading.exits`).

Exits (hummingbot's PositionExecutor idea: the position object owns its exits):

* stop-loss and take-profit rest on the venue as reduce-only STOP_MARKET / TAKE_PROFIT_MARKET
  orders when ``capabilities.native_stop_orders``; otherwise they are enforced here on every price;
* a trailing stop (activation ROE, callback ROE) moves the stop, at most once per
  ``trail_min_interval_s`` and only by at least one tick;
* max holding time closes at market; ``flatten`` closes everything (emergency exit).

A position is never left unprotected: if its stop cannot be placed it is closed at market at once.
The venue is the authority: fills move the position, ``PositionUpdate`` corrects it.

Event handlers only decide; the venue calls they lead to (place the exits, move the stop, close,
cancel leftovers) are jobs on the position's market line in :class:`MarketWorkers`, run one at a
time per market in the order they were decided. A job looks at the position when its turn comes:
a position closed meanwhile gets no new exits, and the leftover-cancel job reads the exit slots
only then, so exits placed while the close was on its way are cancelled too.

The position record (:class:`ManagedPosition`) and the exit settings (:class:`ExitConfig`) live in
:mod:`flashscalper.trading.position_state` and are re-exported here.
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

from flashscalper.clock import Clock
from flashscalper.domain import ZERO, Fill, Market, OrderRequest, OrderType, Position, Side
from flashscalper.exchanges.base import Exchange
from flashscalper.trading import exits
from flashscalper.trading.bus import EventBus, PositionReport, TradeClosed
from flashscalper.trading.executor import Executor
from flashscalper.trading.exits import ClosedTrade, ExitReason, TrailingStop
from flashscalper.trading.orders import Purpose, TrackedOrder
from flashscalper.trading.position_state import HUNDRED, ExitConfig, ManagedPosition, alive
from flashscalper.trading.risk import RiskEngine
from flashscalper.trading.workers import MarketWorkers

__all__ = ["HUNDRED", "ExitConfig", "ManagedPosition", "PositionManager"]

log = logging.getLogger(__name__)


class PositionManager:
    """Tracks positions from fills and venue updates, computes P&L/ROE, and runs every exit."""

    def __init__(self, exchange: Exchange, executor: Executor, risk: RiskEngine, clock: Clock, bus: EventBus,
                 config: ExitConfig | None = None, *, workers: MarketWorkers | None = None) -> None:
        self.exchange = exchange
        self.workers = workers or MarketWorkers()
        self.executor = executor
        self.risk = risk
        self.clock = clock
        self.bus = bus
        self.config = config or ExitConfig()
        self.markets: dict[str, Market] = {}
        self.leverage: dict[str, Decimal] = {}
        self.positions: dict[str, ManagedPosition] = {}
        self.closed: list[ClosedTrade] = []
        self._signals: dict[str, dict[str, object]] = {}
        # exits of ours found resting on the venue for a position about to be adopted (reconciliation)
        self.pending_exits: dict[str, list[TrackedOrder]] = {}
        self._seen_fills: dict[str, None] = {}  # insertion-ordered set, bounded

    # ---- queries ---------------------------------------------------------------------------------

    def get(self, market: str) -> ManagedPosition | None:
        return self.positions.get(market)

    def open_count(self) -> int:
        return len(self.positions)

    def margin_in_use(self) -> Decimal:
        return sum((p.margin for p in self.positions.values()), ZERO)

    def note_entry_signal(self, market: str, signal: dict[str, object]) -> None:
        """Remember the signal snapshot of an entry, for the closed-trade record."""
        self._signals[market] = signal

    # ---- fills and venue updates -----------------------------------------------------------------

    async def on_fill(self, fill: Fill, tracked: TrackedOrder | None) -> None:
        market = self.markets.get(fill.market)
        if market is None or fill.id in self._seen_fills:
            return  # not ours to manage, or delivered twice (stream and reconciliation)
        self._seen_fills[fill.id] = None
        if len(self._seen_fills) > 10_000:
            del self._seen_fills[next(iter(self._seen_fills))]
        pos = self.positions.get(fill.market)
        if pos is None:
            self._open(market, fill.side, fill.size, fill.price, fill.ts, fee=fill.fee)
            self._schedule_protect(self.positions[fill.market])
            return
        pos.fees += fill.fee
        if fill.side is pos.side:  # adding: new average entry, exits follow the new size
            pos.add(fill.price, fill.size)
            if tracked is None or tracked.is_done:  # re-place exits once the entry order is complete
                self._schedule_protect(pos, refresh=True)
            return
        closed = pos.reduce(fill.price, fill.size)
        pos.fill_reason = pos.exit_reason(fill, tracked)
        if pos.size == 0:
            self._finalize(pos)
            flip = fill.size - closed
            if flip > 0:  # the fill reversed the position: the remainder opens a new one
                self._open(market, fill.side, flip, fill.price, fill.ts)
                self._schedule_protect(self.positions[fill.market])
        elif not self.exchange.capabilities.close_position_orders:
            self._schedule_protect(pos, refresh=True)

    def _open(self, market: Market, side: Side, size: Decimal, price: Decimal, ts: int, *,
              fee: Decimal = ZERO, adopted: bool = False, leverage: Decimal | None = None) -> ManagedPosition:
        c = self.config
        trail = TrailingStop(c.trailing_activation_roe, c.trailing_callback_roe)
        pos = ManagedPosition(
            market=market, side=side, size=size, entry_price=price,
            leverage=leverage or self.leverage.get(market.symbol, Decimal(1)), opened_at=ts, trailing=trail,
            adopted=adopted, signal=self._signals.pop(market.symbol, {}), mark=price, max_size=size, fees=fee,
        )
        self.positions[market.symbol] = pos
        return pos

    def on_liquidation_notice(self, market: str) -> None:
        """The venue cancelled one of our orders for a liquidation: what closes next is a liquidation."""
        pos = self.positions.get(market)
        if pos is not None:
            pos.liquidated = True

    async def on_position_update(self, venue: Position) -> None:
        """Venue authority: correct size/entry, adopt unknown positions, close vanished ones."""
        market = self.markets.get(venue.market)
        if market is None:
            return
        pos = self.positions.get(venue.market)
        if venue.liquidation_price is not None and pos is not None:
            pos.liquidation_price = venue.liquidation_price
        await self.sync(venue, market, pos, reason="position update")

    async def sync(self, venue: Position, market: Market, pos: ManagedPosition | None, *, reason: str,
                   default_exit: ExitReason = ExitReason.EXTERNAL) -> str:
        """Make our view match the venue's position; returns what was done ('' if nothing)."""
        if pos is None:
            if venue.size == 0:
                return ""
            side = Side.BUY if venue.size > 0 else Side.SELL
            adopted = self._open(market, side, abs(venue.size), venue.entry_price, self.clock.time_ms(),
                                 adopted=True, leverage=self.leverage.get(market.symbol) or venue.leverage)
            adopted.liquidation_price = venue.liquidation_price
            for tracked in self.pending_exits.pop(market.symbol, []):
                adopted.adopt_exit(tracked)
            log.warning("%s: adopting a %s position of %s the bot did not open (%s)", market.symbol, side,
                        abs(venue.size), reason)
            self._schedule_protect(adopted)
            return "ADOPT_POSITION"
        if venue.size == pos.signed_size:
            if venue.entry_price > 0:
                pos.entry_price = venue.entry_price
            return ""
        if venue.size == 0 or (venue.size > 0) != (pos.side is Side.BUY):
            # gone (or flipped) without the fills that explain it
            pos.fill_reason = pos.fill_reason or (ExitReason.LIQUIDATION if pos.liquidated else default_exit)
            if pos.exit_size == 0 and pos.mark:  # no fill said where it went: book it at the mark
                pos.reduce(pos.mark, pos.size)
            pos.size = ZERO
            self._finalize(pos)
            if venue.size != 0:
                await self.sync(venue, market, None, reason=reason)
            return "POSITION_GONE"
        log.warning("%s: size mismatch, ours %s venue %s (%s); the venue wins", market.symbol, pos.signed_size,
                    venue.size, reason)
        pos.size = abs(venue.size)
        pos.max_size = max(pos.max_size, pos.size)
        if venue.entry_price > 0:
            pos.entry_price = venue.entry_price
        self._schedule_protect(pos, refresh=True)
        return "FIX_SIZE"

    # ---- protection ------------------------------------------------------------------------------

    def is_live(self, pos: ManagedPosition) -> bool:
        """The position is still the open one of its market (not closed or replaced meanwhile)."""
        return pos.size > 0 and self.positions.get(pos.symbol) is pos

    def _schedule_protect(self, pos: ManagedPosition, *, refresh: bool = False) -> None:
        async def job() -> None:
            if self.is_live(pos):  # closed before its turn came: nothing to protect
                await self.protect(pos, refresh=refresh)

        self.workers.submit(pos.symbol, "protect" + (" (refresh)" if refresh else ""), job)

    async def protect(self, pos: ManagedPosition, *, refresh: bool = False) -> None:
        """Attach stop-loss and take-profit. ``refresh`` re-places them after a size/entry change.

        Runs the venue calls itself: call it from the position's market line (or with the workers
        held, as reconciliation does), never beside another job of the same market."""
        if pos.close_reason is not None:
            return  # already closing: a market exit is on its way
        sl, tp = self.config.exit_prices(pos)
        if pos.trail_moved and pos.stop_price is not None:
            sl = pos.stop_price  # keep a trailed stop where it is
        if not self.exchange.capabilities.native_stop_orders:
            pos.stop_price, pos.take_profit_price = sl, tp
            return
        caps = self.exchange.capabilities
        unchanged = pos.stop_price == sl and pos.take_profit_price == tp
        if refresh and caps.close_position_orders and unchanged and alive(pos.stop) and alive(pos.take_profit):
            return  # close-position exits follow the size by themselves
        if refresh or not alive(pos.stop):
            placed = await self._place_exit(pos, Purpose.STOP, sl)
            if placed is None:
                log.error("%s: stop-loss could not be placed; closing at market", pos.symbol)
                await self.close(pos.symbol, ExitReason.PROTECTION_FAILED)
                return
            await self._replace(pos, "stop", placed)
            pos.stop_price = sl
        if not self.is_live(pos) or pos.close_reason is not None:
            return  # closed while the stop was on its way: the leftover cancel takes the stop
        if refresh or not alive(pos.take_profit):
            placed = await self._place_exit(pos, Purpose.TAKE_PROFIT, tp)
            if placed is not None:  # a missing take-profit is not a danger; the stop protects
                await self._replace(pos, "take_profit", placed)
                pos.take_profit_price = tp

    async def _place_exit(self, pos: ManagedPosition, purpose: Purpose, trigger: Decimal) -> TrackedOrder | None:
        caps = self.exchange.capabilities
        kind = OrderType.STOP_MARKET if purpose is Purpose.STOP else OrderType.TAKE_PROFIT_MARKET
        whole = caps.close_position_orders
        request = OrderRequest(
            pos.symbol, pos.side.opposite, kind, ZERO if whole else pos.size, self.executor.ids.next(),
            trigger_price=trigger, reduce_only=True, close_position=whole,
        )
        tracked = await self.executor.submit(request, purpose)
        if tracked.order is None or tracked.is_done:
            log.warning("%s: %s at %s not placed: %s", pos.symbol, purpose, trigger, tracked.note)
            return None
        return tracked

    async def _replace(self, pos: ManagedPosition, slot: str, new: TrackedOrder) -> None:
        old = getattr(pos, slot)
        setattr(pos, slot, new)
        if old is not None and old is not new and alive(old):
            await self.executor.cancel(old)  # the new exit is already resting: no unprotected gap

    # ---- prices, trailing, time ------------------------------------------------------------------

    async def on_price(self, market: str, price: Decimal, ts: int) -> None:
        """New mark (or mid): P&L, local SL/TP, trailing, time limit, report."""
        pos = self.positions.get(market)
        if pos is None or price <= 0:
            return
        pos.mark = price
        self._check_exits(pos, ts)
        if market in self.positions and ts - pos.last_report_ms >= self.config.report_interval_ms:
            pos.last_report_ms = ts
            self.bus.publish(self.report(pos, ts))

    def _check_exits(self, pos: ManagedPosition, ts: int) -> None:
        """Decide (no venue call here): closes and stop moves go to the market's line."""
        if pos.close_pending or (pos.closing is not None and not pos.closing.is_done):
            return
        c = self.config
        if pos.close_reason is not None:
            if ts - pos.last_close_ms >= 1000:  # an earlier close left something: retry, at most 1/s
                self.request_close(pos.symbol, pos.close_reason)
            return
        if c.max_holding_seconds and ts - pos.opened_at >= c.max_holding_seconds * 1000:
            self.request_close(pos.symbol, ExitReason.TIME)
            return
        if not self.exchange.capabilities.native_stop_orders:
            if pos.stop_price is not None and exits.stop_hit(pos.side, pos.stop_price, pos.mark):
                self.request_close(pos.symbol, ExitReason.TRAIL if pos.trail_moved else ExitReason.SL)
                return
            if pos.take_profit_price is not None and exits.take_profit_hit(pos.side, pos.take_profit_price,
                                                                            pos.mark):
                self.request_close(pos.symbol, ExitReason.TP)
                return
        if c.trailing_activation_roe > 0:
            self._trail(pos, ts)

    def _trail(self, pos: ManagedPosition, ts: int) -> None:
        level = pos.trailing.update(pos.roe)
        if level is None:
            return
        candidate = exits.stop_price(pos.market, pos.side, pos.entry_price, level, pos.leverage)
        current = pos.trail_target if pos.trail_target is not None else pos.stop_price
        if not exits.improves(pos.side, current, candidate, pos.market.tick_size):
            return
        if pos.trail_moved and ts - pos.last_trail_ms < self.config.trail_min_interval_s * 1000:
            return  # throttled: do not hammer the venue's rate limits
        pos.last_trail_ms = ts
        if not self.exchange.capabilities.native_stop_orders:  # enforced here: nothing to send
            pos.trail_moved = True
            pos.stop_price = candidate
            log.info("%s: trailing stop moved to %s (ROE %s)", pos.symbol, candidate,
                     pos.roe.quantize(Decimal("0.01")))
            return
        if pos.trail_target is None:  # one queued move at a time; later decisions only raise its target
            self.workers.submit(pos.symbol, "move stop", lambda: self._move_stop(pos))
        pos.trail_target = candidate

    async def _move_stop(self, pos: ManagedPosition) -> None:
        target, pos.trail_target = pos.trail_target, None
        if target is None or not self.is_live(pos) or pos.close_reason is not None:
            return
        if not exits.improves(pos.side, pos.stop_price, target, pos.market.tick_size):
            return  # a refresh meanwhile put the stop at least as tight
        placed = await self._place_exit(pos, Purpose.STOP, target)
        if placed is None:
            return  # the previous stop still protects
        pos.trail_moved = True
        await self._replace(pos, "stop", placed)
        pos.stop_price = target
        log.info("%s: trailing stop moved to %s (ROE %s)", pos.symbol, target, pos.roe.quantize(Decimal("0.01")))

    async def on_timer(self, ts: int) -> None:
        for pos in list(self.positions.values()):
            self._check_exits(pos, ts)

    # ---- closing ---------------------------------------------------------------------------------

    def request_close(self, market: str, reason: ExitReason) -> bool:
        """Decide to close at market: from now on no exit is placed or moved for the position, and a
        close job joins the market's line. False when there is nothing to close or a close is queued."""
        pos = self.positions.get(market)
        if pos is None or pos.size == 0 or pos.close_pending:
            return False
        if pos.closing is not None and not pos.closing.is_done:
            return False
        pos.close_reason = reason
        pos.last_close_ms = self.clock.time_ms()
        pos.close_pending = True

        async def job() -> None:
            try:
                if self.positions.get(market) is pos:
                    await self.close(market, reason)
            finally:
                pos.close_pending = False

        self.workers.submit(market, f"close ({reason})", job)
        return True

    async def close_now(self, market: str, reason: ExitReason) -> TrackedOrder | None:
        """Close in the market's line and wait for the venue's answer (a person's or the bot's command)."""
        return await self.workers.call(market, f"close ({reason})", lambda: self.close(market, reason))

    async def close(self, market: str, reason: ExitReason) -> TrackedOrder | None:
        """Close a position at market, reduce-only (allowed in every risk state). Runs the venue call
        itself; from outside the market's line use :meth:`close_now` or :meth:`request_close`."""
        pos = self.positions.get(market)
        if pos is None or pos.size == 0:
            return None
        if pos.closing is not None and not pos.closing.is_done:
            return pos.closing
        pos.close_reason = reason
        pos.last_close_ms = self.clock.time_ms()
        pos.closing = await self.executor.close_market(market, pos.side.opposite, pos.size, reason.value)
        if pos.closing.is_done and pos.closing.filled_size == 0:
            log.error("%s: close (%s) failed: %s", market, reason, pos.closing.note)
        return pos.closing

    async def flatten(self, reason: ExitReason = ExitReason.EMERGENCY) -> None:
        """Close every position at market (callers cancel orders and halt risk first). Each close
        waits its turn in its market's line; the markets close concurrently in background mode."""
        markets = list(self.positions)
        now = self.clock.time_ms()
        for market in markets:  # at once: queued protects and stop moves of these positions stand down
            pos = self.positions[market]
            if pos.close_reason is None:
                pos.close_reason, pos.last_close_ms = reason, now
        if not self.workers.background:
            for market in markets:
                await self.close_now(market, reason)
            return
        outcomes = await asyncio.gather(*(self.close_now(m, reason) for m in markets), return_exceptions=True)
        for market, outcome in zip(markets, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                log.error("%s: flatten could not close: %s", market, outcome)

    def _finalize(self, pos: ManagedPosition) -> None:
        """The position is flat: record the trade, tell risk and the bus, and queue the cancel of its
        leftover exits (read when the job runs, so an exit placed meanwhile is cancelled too)."""
        self.positions.pop(pos.symbol, None)
        if self.exchange.capabilities.native_stop_orders:
            self.workers.submit(pos.symbol, "cancel leftover exits", lambda: self._cancel_leftovers(pos))
        now = self.clock.time_ms()
        trade = pos.closed_trade(now)
        self.closed.append(trade)
        log.info("%s %s closed by %s: pnl %s fees %s", trade.market, trade.side, trade.reason, trade.pnl,
                 trade.fees)
        self.risk.on_trade_closed(trade.net_pnl, now)
        self.bus.publish(TradeClosed(trade, now))

    async def _cancel_leftovers(self, pos: ManagedPosition) -> None:
        leftovers = [t for t in (pos.stop, pos.take_profit) if t is not None and alive(t)]
        if self.workers.background and len(leftovers) > 1:
            # one round trip, not two: the next entry of this market waits in line behind them
            await asyncio.gather(*(self.executor.cancel(t) for t in leftovers))
            return
        for leftover in leftovers:  # virtual time: one after the other, as the venue's queue expects
            await self.executor.cancel(leftover)

    def report(self, pos: ManagedPosition, ts: int) -> PositionReport:
        """The position's live state for the bus."""
        return pos.report(ts)
