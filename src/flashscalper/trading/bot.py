"""The bot loop: venue events in, strategy signals, risk-checked entries, managed exits, bus events out.

::

    bot = Bot(exchange, strategy, risk, settings=BotConfig.from_settings(...), clock=clock, bus=bus)
    await bot.start()              # connect, markets, leverage, subscribe, reconcile
    await bot.run(duration_s=60)   # live: consume exchange.events() until stop() / the duration

In virtual time (tests, backtests) drive it by hand instead of ``run``::

    clock.advance(250); market.step(250); await bot.process_pending()

The bot knows nothing about the venue beyond the :class:`Exchange` protocol and its capability
flags. One bad event is logged and skipped; it never stops the loop.

Handling an event never waits on the venue for work that need not be sequential: placing and
moving exits, closes and cancels are jobs on per-market serial lines (:mod:`.workers`), and so is
the entry, which its line sends at once. Under :meth:`Bot.run` the lines are background tasks and
the timer runs beside the loop; in virtual time every job runs before ``handle`` / ``on_timer`` /
``process_pending`` return, in submission order, so a backtest stays deterministic.
Reconciliation holds every line while it compares the bot with the venue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from flashscalper.clock import Clock
from flashscalper.domain import (
    Balance,
    BalanceUpdate,
    BookUpdate,
    ConnectionEvent,
    ConnectionState,
    Event,
    FillEvent,
    FundingPayment,
    MarkPrice,
    OrderUpdate,
    PositionUpdate,
    Quote,
    Side,
    Trade,
)
from flashscalper.errors import ConfigError, ExchangeError
from flashscalper.exchanges.base import Exchange
from flashscalper.strategy.base import Signal, Strategy
from flashscalper.trading.bot_config import BotConfig
from flashscalper.trading.bus import (
    ConnectionHealth,
    EquitySample,
    EventBus,
    FillReport,
    ReconcileAction,
    RiskStateChanged,
    SignalReport,
)
from flashscalper.trading.entry_filters import EntryAdvisor, EntryLearner, SetupAdjustment
from flashscalper.trading.executor import Executor
from flashscalper.trading.exits import ExitReason
from flashscalper.trading.orders import Purpose
from flashscalper.trading.positions import PositionManager
from flashscalper.trading.reconcile import Reconciler
from flashscalper.trading.risk import OrderIntent, RiskEngine
from flashscalper.trading.sizing import capped_leverage
from flashscalper.trading.stats import SessionStats
from flashscalper.trading.workers import MarketWorkers

__all__ = ["Bot", "BotConfig"]

log = logging.getLogger(__name__)

# how long stopping waits for queued venue work (a protective stop on its way) before giving up on it
SHUTDOWN_WAIT_S = 30.0


class Bot:
    """One trading bot on one venue. See the module docstring for the two ways to drive it."""

    def __init__(self, exchange: Exchange, strategy: Strategy, risk: RiskEngine, *, settings: BotConfig,
                 clock: Clock, bus: EventBus | None = None, learner: EntryLearner | None = None,
                 advisor: EntryAdvisor | None = None) -> None:
        self.exchange = exchange
        # Cheap synchronous callbacks that see every market event (the dashboard's charts use this).
        self.market_observers: list[Callable[[Quote | Trade | BookUpdate | MarkPrice], None]] = []
        self.learner = learner
        self.advisor = advisor
        self.strategy = strategy
        self.risk = risk
        self.settings = settings
        self.clock = clock
        self.bus = bus or EventBus()
        self.session = settings.session or _session_id(clock)
        self.executor = Executor(exchange, risk, clock, self.bus, settings.executor_config(self.session))
        self.workers = MarketWorkers(on_error=self._on_worker_error)
        self.positions = PositionManager(exchange, self.executor, risk, clock, self.bus, settings.exit_config(),
                                         workers=self.workers)
        self.reconciler = Reconciler(exchange, self.executor, self.positions, clock, self.bus)
        self.stats = SessionStats()
        self.stats.attach(self.bus)
        self.balance: Balance | None = None
        self.errors = 0
        self.events_handled = 0
        self._inbox: asyncio.Queue[Event] = asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None
        self._timer: asyncio.Task[None] | None = None
        self._running = False
        self._disconnected = False
        self._mark_seen: set[str] = set()
        self._last_timer_ms = 0
        self._last_equity_ms = 0
        self._last_reconcile_ms = 0
        risk.add_listener(lambda t: self.bus.publish(RiskStateChanged.of(t)))

    # ---- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> list[ReconcileAction]:
        """Connect, load markets, set leverage, subscribe, read the balance and reconcile."""
        await self.exchange.connect()
        venue_markets = await self.exchange.markets()
        missing = [m for m in self.settings.markets if m not in venue_markets]
        if missing:
            known = ", ".join(sorted(venue_markets)[:20])
            raise ConfigError(f"market(s) {', '.join(missing)} not listed by {self.exchange.name}; "
                              f"available: {known}")
        self.positions.markets = {m: venue_markets[m] for m in self.settings.markets}
        await self._apply_leverage()
        self.balance = await self.exchange.balance()
        self.risk.on_balance(self.balance)
        self._publish_equity(self.balance, force=True)
        await self.exchange.subscribe_market_data(list(self.settings.markets))
        if self._pump is None:
            self._pump = asyncio.create_task(self._pump_events(), name="flashscalper-events")
        actions = await self._reconcile("start")
        await self.workers.idle()  # the positions found are protected before start() returns
        return actions

    async def _apply_leverage(self) -> None:
        wanted = self.risk.limits.leverage
        for symbol, market in self.positions.markets.items():
            leverage, _ = capped_leverage(market, wanted)
            self.positions.leverage[symbol] = leverage
            try:
                await self.exchange.set_leverage(symbol, leverage)
            except ExchangeError as exc:
                log.warning("could not set %s leverage to %s: %s", symbol, leverage, exc)

    async def _pump_events(self) -> None:
        # the only consumer of exchange.events(); run() and process_pending() read the inbox
        try:
            async for event in self.exchange.events():
                self._inbox.put_nowait(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the venue's event stream ended with an error")

    async def run(self, duration_s: float | None = None) -> None:
        """Handle events until :meth:`stop` or until ``duration_s`` of clock time has passed."""
        if self._pump is None:
            await self.start()
        self._running = True
        await self.workers.set_background(True)
        deadline = None if duration_s is None else self.clock.monotonic() + duration_s
        interval = self.settings.timer_interval_s
        try:
            while self._running:
                if deadline is not None and self.clock.monotonic() >= deadline:
                    break
                try:
                    event = await asyncio.wait_for(self._inbox.get(), timeout=interval)
                except TimeoutError:
                    event = None
                if event is not None:
                    await self.handle(event)
                    while not self._inbox.empty():
                        if self.workers.pending():
                            await asyncio.sleep(0)  # let the lines put queued orders on the wire
                        await self.handle(self._inbox.get_nowait())
                if self.clock.time_ms() - self._last_timer_ms >= interval * 1000 and (
                        self._timer is None or self._timer.done()):
                    self._last_timer_ms = self.clock.time_ms()
                    self._timer = asyncio.create_task(self.on_timer(), name="flashscalper-timer")
        finally:
            self._running = False
            await self._quiesce()

    async def _quiesce(self) -> None:
        """Back to virtual-time mode: let the timer and every queued job finish (bounded)."""
        try:
            if self._timer is not None:
                await asyncio.wait_for(asyncio.shield(self._timer), SHUTDOWN_WAIT_S)
            await asyncio.wait_for(self.workers.set_background(False), SHUTDOWN_WAIT_S)
        except TimeoutError:
            log.error("venue work still pending after %.0f s; it goes on in the background", SHUTDOWN_WAIT_S)

    async def process_pending(self, max_rounds: int = 20) -> int:
        """Virtual-time driver: handle every queued event and run the timers once, without waiting.
        Returns how many events were handled."""
        handled = 0
        for round_no in range(max_rounds):
            for _ in range(3):  # let the pump move what the venue queued into the inbox
                await asyncio.sleep(0)
            batch = 0
            while not self._inbox.empty():
                await self.handle(self._inbox.get_nowait())
                batch += 1
            handled += batch
            if round_no == 0:
                await self.on_timer()
            busy = self.workers.pending() > 0  # only in background mode: inline jobs ran in handle()
            await self.workers.idle()
            if round_no and batch == 0 and not busy:
                break
        return handled

    def stop(self) -> None:
        """End :meth:`run` after the current event."""
        self._running = False

    async def close(self) -> None:
        """Stop, end the event pump and close the venue connection (open positions stay protected)."""
        self.stop()
        try:
            await asyncio.wait_for(self.workers.idle(), SHUTDOWN_WAIT_S)
        except TimeoutError:
            log.error("closing with venue work still queued: %d job(s) dropped", self.workers.pending())
        await self.workers.close()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pump
            self._pump = None
        await self.exchange.close()

    # ---- controls --------------------------------------------------------------------------------

    def occupied_slots(self) -> int:
        """Position slots in use: positions, working entries and entries whose fills are still arriving."""
        return len(self.executor.busy_markets(self.positions.positions))

    def pause_entries(self, reason: str = "entries paused by operator") -> None:
        self.risk.pause_entries(reason)

    def resume(self, reason: str = "resumed by operator") -> None:
        self.risk.resume(reason)

    async def set_safe_mode(self, on: bool) -> None:
        """Safe mode caps leverage, size and position count for new entries (see RiskLimits)."""
        self.risk.set_limits(replace(self.risk.configured_limits, safe_mode=on))
        await self._apply_leverage()

    async def flatten(self, reason: str = "emergency exit") -> None:
        """Emergency exit: HALT risk, cancel every order, close every position reduce-only at market."""
        self.risk.halt(reason)
        for symbol in list(self.executor.entries):
            self.executor.entries[symbol].done = True
            del self.executor.entries[symbol]
        await self.executor.cancel_all()
        await self.positions.flatten(ExitReason.EMERGENCY)

    async def close_position(self, market: str) -> None:
        """Close one position at market (a person's decision: reason MANUAL), in the market's line."""
        await self.positions.close_now(market, ExitReason.MANUAL)

    async def reconcile(self, why: str = "requested") -> list[ReconcileAction]:
        actions = await self._reconcile(why)
        if not self.workers.background:
            await self.workers.drain()
        return actions

    async def _reconcile(self, why: str) -> list[ReconcileAction]:
        # the venue is the authority: no line may be half-way through a protect while we compare
        async with self.workers.exclusive():
            actions = await self.reconciler.reconcile(why)
        self._last_reconcile_ms = self.clock.time_ms()
        return actions

    def _on_worker_error(self, market: str, what: str, exc: BaseException) -> None:
        self.errors += 1

    # ---- event handling --------------------------------------------------------------------------

    async def handle(self, event: Event) -> None:
        """Route one venue event. Exceptions are logged and counted, never raised."""
        self.events_handled += 1
        try:
            await self._route(event)
        except Exception:
            self.errors += 1
            log.exception("error handling %s; continuing", type(event).__name__)
        if not self.workers.background:
            await self.workers.drain()  # virtual time: the event's venue work is done when handle returns

    async def _route(self, event: Event) -> None:
        if isinstance(event, Quote | Trade | BookUpdate | MarkPrice):
            await self._on_market(event)
        elif isinstance(event, OrderUpdate):
            order = event.order
            tracked = await self.executor.on_order_update(order)
            if order.cancel_reason == "LIQUIDATION":
                self.positions.on_liquidation_notice(order.market)
            if tracked is None and order.client_id and self.executor.ids.is_ours(order.client_id):
                log.debug("update for an order of another session: %s", order.client_id)
        elif isinstance(event, FillEvent):
            fill = event.fill
            tracked = self.executor.on_fill(fill)
            self.bus.publish(FillReport(fill, tracked.purpose if tracked else "EXTERNAL", self.clock.time_ms()))
            await self.positions.on_fill(fill, tracked)
        elif isinstance(event, PositionUpdate):
            await self.positions.on_position_update(event.position)
        elif isinstance(event, BalanceUpdate):
            self.balance = event.balance
            self.risk.on_balance(event.balance)
            self._publish_equity(event.balance)
        elif isinstance(event, FundingPayment):
            pos = self.positions.get(event.market)
            if pos is not None:
                pos.fees -= event.amount  # funding paid counts as a cost of the trade
        elif isinstance(event, ConnectionEvent):
            await self._on_connection(event)

    async def _on_market(self, event: Quote | Trade | BookUpdate | MarkPrice) -> None:
        market = event.market
        if isinstance(event, Quote):
            self.executor.on_quote(event)
            if market not in self._mark_seen:
                await self.positions.on_price(market, event.mid, event.ts)
        elif isinstance(event, MarkPrice):
            self._mark_seen.add(market)
            await self.positions.on_price(market, event.mark, event.ts)
        signal = self.strategy.on_event(event)
        for observer in self.market_observers:
            try:
                observer(event)
            except Exception:  # a display must never break trading
                log.exception("market observer %r failed", observer)
        if signal is not None:
            await self._on_signal(signal)

    async def _on_signal(self, signal: Signal) -> None:
        market = self.positions.markets.get(signal.market)
        now = self.clock.time_ms()
        if market is None:
            return
        note = ""
        adjustment = self.learner.adjust(signal) if self.learner is not None else None
        confidence = signal.confidence
        if adjustment is not None:
            confidence = min(1.0, confidence * adjustment.confidence_multiplier)
        if confidence < self.settings.min_confidence:
            note = f"confidence {confidence:.2f} below {self.settings.min_confidence:.2f}"
            if adjustment is not None:
                note += f" after learning ({adjustment.explanation})"
        elif self.positions.get(signal.market) is not None:
            note = "already holding a position in this market"
        elif signal.market in self.executor.entries:
            note = "an entry is already working in this market"
        elif signal.market in self.executor.settling:
            note = "the last entry in this market filled; waiting for its fills"
        if note:
            self.bus.publish(SignalReport(signal, False, note, now))
            return
        price = self._reference_price(signal)
        if price is None:
            self.bus.publish(SignalReport(signal, False, "no price to size the entry with", now))
            return
        balance = self.balance
        intent = OrderIntent(
            market=market, side=signal.side, price=price,
            open_positions=self.occupied_slots(),
            margin_in_use=balance.initial_margin if balance else self.positions.margin_in_use(),
            equity=balance.equity if balance else Decimal(0),
            available_collateral=balance.available if balance else None,
        )
        size, filter_note = await self._filtered_size(signal, intent, adjustment)
        if size is not None and size <= 0:
            self.bus.publish(SignalReport(signal, False, filter_note, now))
            return
        if size is not None:
            intent = replace(intent, size=size)
        self.positions.note_entry_signal(signal.market, _signal_snapshot(signal))
        decision, plan = self.executor.open_entry(intent, context={"signal": signal})
        if plan is not None:
            # the critical path: the market's line sends it; let it reach the wire before we go on
            self.workers.submit(signal.market, "entry", lambda: self.executor.start_entry(plan))
            if self.workers.background:
                await asyncio.sleep(0)
        else:
            self.positions.note_entry_signal(signal.market, {})
        reason = f"{decision.reason}; {filter_note}" if filter_note else decision.reason
        self.bus.publish(SignalReport(signal, bool(decision), reason, now))

    async def _filtered_size(
        self, signal: Signal, intent: OrderIntent, adjustment: SetupAdjustment | None
    ) -> tuple[Decimal | None, str]:
        """The risk engine's size, shrunk (never grown) by learning and the advisor.

        Returns (None, "") when neither is configured, so that the executor sizes the entry as usual.
        A size of 0 means the entry is vetoed; the note says why.
        """
        if adjustment is None and self.advisor is None:
            return None, ""
        sizing = self.risk.size_entry(
            intent.market, intent.price, intent.available_collateral or Decimal(0), intent.open_positions,
            side=signal.side,
        )
        if sizing.rejected:
            return None, ""  # the executor's own risk check reports the refusal in its words
        size, notes = sizing.size, []
        if adjustment is not None and adjustment.size_multiplier < 1:
            size = size * adjustment.size_multiplier
            notes.append(f"learning: size ×{adjustment.size_multiplier} ({adjustment.explanation})")
        if self.advisor is not None:
            verdict = await self.advisor.advise(signal, size)
            if verdict.vetoed:
                return Decimal(0), f"vetoed by the advisor: {verdict.reason}"
            advised = verdict.apply(size)
            if advised < size:
                notes.append(f"advisor: size reduced ({verdict.reason})")
            size = min(size, advised)
        rounded = intent.market.round_size(size)
        if rounded <= 0:
            notes.append(f"the reduced size {size:f} is below one {intent.market.symbol} step")
        return rounded, "; ".join(notes)

    def _reference_price(self, signal: Signal) -> Decimal | None:
        quote = self.executor.quotes.get(signal.market)
        if quote is not None:
            return quote.ask if signal.side is Side.BUY else quote.bid
        return signal.price

    async def _on_connection(self, event: ConnectionEvent) -> None:
        self.bus.publish(ConnectionHealth(event.venue, event.state, event.detail, event.ts))
        if event.state is ConnectionState.DISCONNECTED:
            self._disconnected = True
            return
        if event.state is ConnectionState.RESYNCED or self._disconnected:
            self._disconnected = False
            await self._reconcile(f"reconnect ({event.state})")

    # ---- timers ----------------------------------------------------------------------------------

    async def on_timer(self) -> None:
        """Entry re-pricing, in-flight order resolution, time limits, periodic reconciliation.
        Under :meth:`run` it runs beside the event loop (one at a time); the exits it decides on
        go to the markets' lines."""
        now = self.clock.time_ms()
        self._last_timer_ms = now
        try:
            changed = await self.executor.on_timer()
            # an order resolved by query may have filled without our seeing the fills: resync
            unexplained = [t for t in changed if t.order is not None and t.order.filled_size > sum(
                (f.size for f in t.fills), Decimal(0)) and t.purpose in (Purpose.ENTRY, Purpose.EXIT)]
            interval = self.settings.reconcile_interval_s * 1000
            if unexplained:
                await self._reconcile("an order filled without fill events")
                self._last_reconcile_ms = now
            elif interval and now - self._last_reconcile_ms >= interval:
                await self._reconcile("periodic check")
                self._last_reconcile_ms = now
            await self.positions.on_timer(now)
            self._mark_equity(now)
        except Exception:
            self.errors += 1
            log.exception("timer failed; continuing")
        if not self.workers.background:
            await self.workers.drain()

    def _mark_equity(self, now: int) -> None:
        """Between the venue's balance updates, judge risk on equity marked to the latest prices, so
        an open loss counts towards the daily loss and drawdown limits before the position closes."""
        balance = self.balance
        if balance is None or not self.positions.positions:
            return
        unrealized = sum((p.unrealized_pnl for p in self.positions.positions.values()), Decimal(0))
        self.risk.on_equity(balance.wallet + unrealized, now, margin_in_use=balance.initial_margin)

    async def sample_equity(self) -> Balance:
        """Read the balance from the venue now and publish it (the final figure of a session)."""
        balance = await self.exchange.balance()
        self.balance = balance
        self.risk.on_balance(balance)
        self._publish_equity(balance, force=True)
        return balance

    def _publish_equity(self, balance: Balance, *, force: bool = False) -> None:
        now = self.clock.time_ms()
        if not force and now - self._last_equity_ms < self.settings.equity_sample_interval_s * 1000:
            return
        self._last_equity_ms = now
        utilisation = balance.initial_margin / balance.equity * 100 if balance.equity > 0 else None
        self.bus.publish(EquitySample(balance.equity, balance.wallet, balance.available, balance.initial_margin,
                                      utilisation, now))


def _session_id(clock: Clock) -> str:
    # base-36 of the start time in seconds: short, unique per run, sortable
    n = clock.time_ms() // 1000
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


def _signal_snapshot(signal: Signal) -> dict[str, object]:
    return {
        "strategy": signal.strategy, "setup": signal.setup, "side": signal.side.value,
        "confidence": signal.confidence, "reasons": list(signal.reasons), "features": dict(signal.features),
        "price": str(signal.price) if signal.price is not None else None, "ts": signal.ts,
    }
