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
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from flashscalper.clock import Clock
from flashscalper.domain import ZERO, Fill, Market, OrderRequest, OrderType, Position, Side
from flashscalper.exchanges.base import Exchange
from flashscalper.trading import exits
from flashscalper.trading.bus import EventBus, PositionReport, TradeClosed
from flashscalper.trading.executor import Executor
from flashscalper.trading.exits import ClosedTrade, ExitReason, TrailingStop
from flashscalper.trading.orders import Purpose, TrackedOrder
from flashscalper.trading.risk import RiskEngine
from flashscalper.trading.workers import MarketWorkers

log = logging.getLogger(__name__)

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class ExitConfig:
    """Exit rules. ROE values are percent of margin; a trailing activation of 0 disables trailing,
    ``max_holding_seconds`` 0 disables the time limit."""

    take_profit_roe: Decimal = Decimal("1.5")
    stop_loss_roe: Decimal = Decimal("-0.5")
    trailing_activation_roe: Decimal = Decimal("1.0")
    trailing_callback_roe: Decimal = Decimal("0.4")
    max_holding_seconds: int = 300
    trail_min_interval_s: float = 1.0
    report_interval_ms: int = 250


@dataclass(slots=True)
class ManagedPosition:
    """One open position as the bot manages it. ``size`` is absolute; ``side`` gives the direction."""

    market: Market
    side: Side
    size: Decimal
    entry_price: Decimal
    leverage: Decimal
    opened_at: int
    trailing: TrailingStop
    adopted: bool = False
    signal: dict[str, object] = field(default_factory=dict)
    mark: Decimal = ZERO
    max_size: Decimal = ZERO
    fees: Decimal = ZERO
    realized: Decimal = ZERO
    exit_value: Decimal = ZERO
    exit_size: Decimal = ZERO
    stop: TrackedOrder | None = None
    take_profit: TrackedOrder | None = None
    stop_price: Decimal | None = None
    take_profit_price: Decimal | None = None
    trail_moved: bool = False
    last_trail_ms: int = 0
    closing: TrackedOrder | None = None
    close_reason: ExitReason | None = None  # why we asked to close (market exits)
    fill_reason: ExitReason | None = None  # what the last reducing fill says
    liquidated: bool = False
    liquidation_price: Decimal | None = None
    last_report_ms: int = 0
    last_close_ms: int = 0
    close_pending: bool = False  # a close job is queued or running
    trail_target: Decimal | None = None  # the stop price a queued "move stop" job will place

    @property
    def symbol(self) -> str:
        return self.market.symbol

    @property
    def signed_size(self) -> Decimal:
        return self.size * self.side.sign

    @property
    def margin(self) -> Decimal:
        return self.entry_price * self.size / self.leverage

    @property
    def unrealized_pnl(self) -> Decimal:
        if not self.mark:
            return ZERO
        return (self.mark - self.entry_price) * self.signed_size

    @property
    def roe(self) -> Decimal:
        return self.unrealized_pnl / self.margin * HUNDRED if self.margin > 0 else ZERO


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
            total = pos.size + fill.size
            pos.entry_price = (pos.entry_price * pos.size + fill.price * fill.size) / total
            pos.size = total
            pos.max_size = max(pos.max_size, total)
            if tracked is None or tracked.is_done:  # re-place exits once the entry order is complete
                self._schedule_protect(pos, refresh=True)
            return
        closed = min(fill.size, pos.size)
        pos.realized += (fill.price - pos.entry_price) * closed * pos.side.sign
        pos.exit_value += fill.price * closed
        pos.exit_size += closed
        pos.size -= closed
        pos.fill_reason = self._attribute(pos, fill, tracked)
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

    def _attribute(self, pos: ManagedPosition, fill: Fill, tracked: TrackedOrder | None) -> ExitReason:
        if tracked is not None:
            if tracked.purpose is Purpose.STOP:
                return ExitReason.TRAIL if pos.trail_moved else ExitReason.SL
            if tracked.purpose is Purpose.TAKE_PROFIT:
                return ExitReason.TP
            if tracked.exit_reason:
                return ExitReason(tracked.exit_reason)
            return pos.close_reason or ExitReason.MANUAL
        if not fill.order_id or pos.liquidated:
            return ExitReason.LIQUIDATION  # the venue's liquidation engine trades without an order of ours
        return ExitReason.EXTERNAL

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
                trigger = tracked.request.trigger_price
                if tracked.purpose is Purpose.STOP and adopted.stop is None:
                    adopted.stop, adopted.stop_price = tracked, trigger
                elif tracked.purpose is Purpose.TAKE_PROFIT and adopted.take_profit is None:
                    adopted.take_profit, adopted.take_profit_price = tracked, trigger
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
            if pos.exit_size == 0 and pos.mark:
                pos.realized += (pos.mark - pos.entry_price) * pos.size * pos.side.sign
                pos.exit_value, pos.exit_size = pos.mark * pos.size, pos.size
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

    def _exit_prices(self, pos: ManagedPosition) -> tuple[Decimal, Decimal]:
        c = self.config
        sl = exits.stop_price(pos.market, pos.side, pos.entry_price, c.stop_loss_roe, pos.leverage)
        tp = exits.take_profit_price(pos.market, pos.side, pos.entry_price, c.take_profit_roe, pos.leverage)
        return sl, tp

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
        sl, tp = self._exit_prices(pos)
        if pos.trail_moved and pos.stop_price is not None:
            sl = pos.stop_price  # keep a trailed stop where it is
        if not self.exchange.capabilities.native_stop_orders:
            pos.stop_price, pos.take_profit_price = sl, tp
            return
        caps = self.exchange.capabilities
        unchanged = pos.stop_price == sl and pos.take_profit_price == tp
        if refresh and caps.close_position_orders and unchanged and _alive(pos.stop) and _alive(pos.take_profit):
            return  # close-position exits follow the size by themselves
        if refresh or not _alive(pos.stop):
            placed = await self._place_exit(pos, Purpose.STOP, sl)
            if placed is None:
                log.error("%s: stop-loss could not be placed; closing at market", pos.symbol)
                await self.close(pos.symbol, ExitReason.PROTECTION_FAILED)
                return
            await self._replace(pos, "stop", placed)
            pos.stop_price = sl
        if not self.is_live(pos) or pos.close_reason is not None:
            return  # closed while the stop was on its way: the leftover cancel takes the stop
        if refresh or not _alive(pos.take_profit):
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
        if old is not None and old is not new and _alive(old):
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
        reason = pos.fill_reason or pos.close_reason or ExitReason.EXTERNAL
        exit_price = pos.exit_value / pos.exit_size if pos.exit_size else pos.mark
        margin = pos.entry_price * pos.max_size / pos.leverage if pos.leverage else ZERO
        trade = ClosedTrade(
            market=pos.symbol, side=pos.side, size=pos.max_size, entry_price=pos.entry_price,
            exit_price=exit_price, pnl=pos.realized, fees=pos.fees, opened_at=pos.opened_at, closed_at=now,
            reason=reason, leverage=pos.leverage, roe=pos.realized / margin * HUNDRED if margin else ZERO,
            adopted=pos.adopted, signal=pos.signal,
        )
        self.closed.append(trade)
        log.info("%s %s closed by %s: pnl %s fees %s", trade.market, trade.side, reason, trade.pnl, trade.fees)
        self.risk.on_trade_closed(trade.net_pnl, now)
        self.bus.publish(TradeClosed(trade, now))

    async def _cancel_leftovers(self, pos: ManagedPosition) -> None:
        leftovers = [t for t in (pos.stop, pos.take_profit) if t is not None and _alive(t)]
        if self.workers.background and len(leftovers) > 1:
            # one round trip, not two: the next entry of this market waits in line behind them
            await asyncio.gather(*(self.executor.cancel(t) for t in leftovers))
            return
        for leftover in leftovers:  # virtual time: one after the other, as the venue's queue expects
            await self.executor.cancel(leftover)

    def report(self, pos: ManagedPosition, ts: int) -> PositionReport:
        liq = pos.liquidation_price
        distance = abs(pos.mark - liq) / pos.mark * HUNDRED if liq is not None and pos.mark else None
        return PositionReport(
            market=pos.symbol, side=pos.side, size=pos.size, entry_price=pos.entry_price, mark_price=pos.mark,
            unrealized_pnl=pos.unrealized_pnl, roe=pos.roe, margin=pos.margin, leverage=pos.leverage,
            stop_price=pos.stop_price, take_profit_price=pos.take_profit_price,
            trailing_active=pos.trailing.active, liquidation_price=liq, liquidation_distance_percent=distance,
            opened_at=pos.opened_at, ts=ts,
        )


def _alive(tracked: TrackedOrder | None) -> bool:
    return tracked is not None and not tracked.is_done
