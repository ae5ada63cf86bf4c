"""The executor: turns intents into venue orders, idempotently, and keeps track of them.

* Every order carries a client id ``<prefix>-<session>-<n>`` and is tracked until the venue says
  it is done (:mod:`flashscalper.trading.orders`).
* Entries pass :meth:`RiskEngine.check` first; reduce-only exits are never blocked by risk state.
* Sending is idempotent: on ``ExchangeUnavailable`` / timeouts we first ask the venue for the
  client id, and only resend (same client id) when it has no record. ``RateLimited`` waits
  ``retry_after``. Rejections (``OrderRejected``, ``InvalidOrder``, or an order that comes back
  REJECTED) get a human-readable note.
* Entries go in as MARKET, or as POST_ONLY LIMIT at the touch that is re-priced after a timeout a
  bounded number of times and then (optionally) falls back to MARKET for the remainder.
* An order we have not heard about for ``ack_timeout_s`` is queried by client id; after
  ``lost_after`` "not found" answers it is marked lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from flashscalper.clock import Clock
from flashscalper.domain import (
    ZERO,
    Fill,
    Market,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Quote,
    Side,
    TimeInForce,
)
from flashscalper.errors import (
    ExchangeUnavailable,
    InvalidOrder,
    OrderNotFound,
    OrderRejected,
    RateLimited,
)
from flashscalper.exchanges.base import Exchange
from flashscalper.trading.bus import EventBus, OrderReport
from flashscalper.trading.orders import ClientIds, OrderTracker, Purpose, TrackedOrder
from flashscalper.trading.risk import Decision, OrderIntent, RiskEngine

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

# Venue reject codes → what happened and what to do, in words fit for the stream.
REJECT_REASONS: dict[str, str] = {
    "NOT_ENOUGH_MARGIN": "not enough free margin for this order (lower position size or leverage, or add collateral)",
    "ORDER_EXCEEDS_POSITION_LIMIT": "the order would exceed the market's position limit",
    "POST_ONLY_WOULD_CROSS": "the post-only price would have crossed the book (the market moved)",
    "REDUCE_ONLY_WOULD_INCREASE": "reduce-only order would increase the position (it is already closed or smaller)",
    "REDUCE_ONLY_EXCEEDS_POSITION": "reduce-only order is larger than the remaining position",
    "MAX_OPEN_ORDERS_EXCEEDED": "too many open orders on this market",
    "DUPLICATED_CLIENT_ID": "the venue already has an order with this client id",
    "EXPIRED": "nothing (more) could fill within the venue's price/slippage limits",
    "SELF_TRADE": "the order would have traded with our own resting order",
    "INVALID_ORDER_SIZE": "the size breaks the market's step or size limits",
    "VALIDATION_ERROR": "the venue refused the order's fields",
    "PRICE_OUT_OF_BAND": "the price is too far from the mark price",
    "NO_POSITION": "the close-position order triggered while flat",
    "LIQUIDATION": "cancelled by the venue's liquidation engine",
    "OCO": "the other exit of the pair triggered first",
    "USER_CANCELED": "cancelled",
}


def describe_reject(code: str, detail: str = "") -> str:
    """A clear sentence for a venue reject code (unknown codes are shown as they are)."""
    text = REJECT_REASONS.get(code, f"venue reason {code}" if code else "venue gave no reason")
    return f"{text} [{code}]" + (f": {detail}" if detail and detail != code else "") if code else text


class EntryMode(StrEnum):
    MARKET = "MARKET"
    MAKER = "MAKER"  # POST_ONLY limit at the touch, re-priced, then MARKET fallback


@dataclass(frozen=True, slots=True)
class ExecutorConfig:
    """How orders are sent. Times are seconds (of the injected clock)."""

    client_id_prefix: str = "fs"
    session: str = "0"
    entry_mode: EntryMode = EntryMode.MARKET
    entry_timeout_s: float = 5.0  # a POST_ONLY entry waits this long before re-pricing
    max_reprices: int = 2
    market_fallback: bool = True
    send_attempts: int = 3
    retry_backoff_s: float = 0.2
    ack_timeout_s: float = 5.0  # no ack / update for this long → query by client id
    lost_after: int = 3  # "not found" answers before an order is declared lost


SETTLE_TIMEOUT_MS = 10_000


@dataclass(slots=True)
class EntryPlan:
    """One approved entry, possibly worked through several orders (re-prices, market fallback)."""

    market: Market
    side: Side
    size: Decimal
    context: dict[str, object] = field(default_factory=dict)
    orders: list[TrackedOrder] = field(default_factory=list)
    done: bool = False
    note: str = ""

    @property
    def current(self) -> TrackedOrder | None:
        return self.orders[-1] if self.orders else None

    @property
    def filled(self) -> Decimal:
        return sum((o.filled_size for o in self.orders), ZERO)

    @property
    def remaining(self) -> Decimal:
        return max(self.size - self.filled, ZERO)


class Executor:
    """Places, tracks, re-prices and resolves our orders on one venue. See the module docstring."""

    def __init__(
        self,
        exchange: Exchange,
        risk: RiskEngine,
        clock: Clock,
        bus: EventBus,
        config: ExecutorConfig | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.exchange = exchange
        self.risk = risk
        self.clock = clock
        self.bus = bus
        self.config = config or ExecutorConfig()
        self.ids = ClientIds(self.config.client_id_prefix, self.config.session)
        self.tracker = OrderTracker()
        self.entries: dict[str, EntryPlan] = {}  # market → working entry
        # market → when an entry the venue reports filled ended, while its fills may still be on their way
        self.settling: dict[str, int] = {}
        self.quotes: dict[str, Quote] = {}
        self._sleep = sleep

    # ---- sending ---------------------------------------------------------------------------------

    async def submit(self, request: OrderRequest, purpose: Purpose, *, exit_reason: str = "") -> TrackedOrder:
        """Send one order idempotently and return its tracking record (check ``is_done`` / ``note``)."""
        tracked = self.tracker.track(request, purpose, self.clock.time_ms())
        tracked.exit_reason = exit_reason
        await self._deliver(tracked)
        return tracked

    async def _deliver(self, tracked: TrackedOrder) -> None:
        # tracked before the first byte leaves: a stream update that overtakes the REST answer finds it
        request = tracked.request
        try:
            order = await self._send(request)
        except OrderRejected as exc:
            self._reject(tracked, describe_reject(exc.reason, str(exc)))
        except InvalidOrder as exc:
            self._reject(tracked, f"failed the pre-trade check ({exc.rule}): {exc}")
        except ExchangeUnavailable as exc:
            # unknown outcome: stays in flight and is resolved by query (never resent blindly)
            tracked.note = f"no answer from the venue ({exc}); will query by client id"
            log.warning("order %s: %s", request.client_id, tracked.note)
        else:
            if order is not None:
                self._on_ack(tracked, order)

    async def _send(self, request: OrderRequest) -> Order | None:
        attempts = max(self.config.send_attempts, 1)
        last: Exception | None = None
        for attempt in range(attempts):
            if attempt:
                found = await self._lookup(request)
                if found is not None:
                    return found  # the earlier attempt did reach the venue
            try:
                return await self.exchange.place_order(request)
            except RateLimited as exc:
                last = exc
                await self._sleep(max(exc.retry_after, 0.0))
            except OrderRejected as exc:
                if exc.reason == "DUPLICATED_CLIENT_ID":
                    found = await self._lookup(request)
                    if found is not None:
                        return found
                raise
            except (ExchangeUnavailable, TimeoutError) as exc:
                last = exc
                await self._sleep(self.config.retry_backoff_s * (2**attempt))
        raise ExchangeUnavailable(f"gave up after {attempts} attempt(s): {last}")

    async def _lookup(self, request: OrderRequest) -> Order | None:
        try:
            return await self.exchange.get_order(request.market, client_id=request.client_id)
        except OrderNotFound:
            return None
        except (ExchangeUnavailable, TimeoutError, RateLimited):
            return None

    def _on_ack(self, tracked: TrackedOrder, order: Order) -> None:
        self.tracker.apply(order, self.clock.time_ms())
        if order.status is OrderStatus.REJECTED or (
            order.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED) and order.filled_size == 0
            and order.cancel_reason not in ("", "USER_CANCELED")
        ):
            tracked.note = describe_reject(order.cancel_reason)
        self._report(tracked)

    def _reject(self, tracked: TrackedOrder, note: str) -> None:
        tracked.note = note
        r = tracked.request
        tracked.order = Order(
            id="", client_id=r.client_id, market=r.market, side=r.side, type=r.type, size=r.size,
            status=OrderStatus.REJECTED, price=r.price, trigger_price=r.trigger_price, tif=r.tif,
            reduce_only=r.reduce_only, cancel_reason=note, created_at=self.clock.time_ms(),
            updated_at=self.clock.time_ms(),
        )
        log.info("order %s rejected: %s", r.client_id, note)
        self._report(tracked)

    def _report(self, tracked: TrackedOrder) -> None:
        order = tracked.order
        if order is None:
            return
        key = (order.status, order.filled_size, tracked.note)
        if key == tracked.reported:
            return  # the ack and the stream often say the same thing: report it once
        tracked.reported = key
        self.bus.publish(OrderReport(order, tracked.purpose, tracked.note, self.clock.time_ms()))

    # ---- entries ---------------------------------------------------------------------------------

    def check_entry(self, intent: OrderIntent) -> Decision:
        return self.risk.check(intent)

    async def enter(self, intent: OrderIntent, *, context: dict[str, object] | None = None
                    ) -> tuple[Decision, EntryPlan | None]:
        """Risk-check an entry and, if allowed, start working it. One working entry per market."""
        decision, plan = self.open_entry(intent, context=context)
        if plan is not None:
            await self.start_entry(plan)
        return decision, plan

    def open_entry(self, intent: OrderIntent, *, context: dict[str, object] | None = None
                   ) -> tuple[Decision, EntryPlan | None]:
        """Risk-check an entry and register its plan, without a venue call (:meth:`start_entry` sends).
        From here on the market counts as having a working entry."""
        if intent.market.symbol in self.entries:
            return Decision(False, f"an entry on {intent.market.symbol} is already working"), None
        decision = self.risk.check(intent)
        if not decision:
            return decision, None
        plan = EntryPlan(intent.market, intent.side, decision.size, dict(context or {}))
        self.entries[plan.market.symbol] = plan
        return decision, plan

    async def start_entry(self, plan: EntryPlan) -> None:
        """Send the first order of an opened plan (nothing if it was called off meanwhile, e.g. flatten)."""
        if plan.done or plan.orders or self.entries.get(plan.market.symbol) is not plan:
            return
        try:
            await self._work_entry(plan, first=True)
        except Exception as exc:
            if not plan.orders:  # never sent: free the market for the next signal
                self._finish_entry(plan, f"could not be sent: {exc}")
            raise

    async def _work_entry(self, plan: EntryPlan, *, first: bool = False) -> None:
        size = plan.market.round_size(plan.remaining)
        if size <= 0:
            self._finish_entry(plan, "filled")
            return
        quote = self.quotes.get(plan.market.symbol)
        use_maker = (self.config.entry_mode is EntryMode.MAKER and self.exchange.capabilities.post_only
                     and quote is not None and (first or len(plan.orders) <= self.config.max_reprices))
        if use_maker:
            assert quote is not None
            touch = quote.bid if plan.side is Side.BUY else quote.ask
            request = OrderRequest(plan.market.symbol, plan.side, OrderType.LIMIT, size, self.ids.next(),
                                   price=plan.market.round_price(touch, plan.side), tif=TimeInForce.POST_ONLY)
        elif first or self.config.market_fallback:
            request = OrderRequest(plan.market.symbol, plan.side, OrderType.MARKET, size, self.ids.next())
        else:
            self._finish_entry(plan, f"gave up after {len(plan.orders)} post-only attempt(s)")
            return
        tracked = self.tracker.track(request, Purpose.ENTRY, self.clock.time_ms())
        tracked.reprices = len(plan.orders)
        plan.orders.append(tracked)  # before sending: its stream updates may beat the REST answer
        await self._deliver(tracked)
        await self.advance_entry(plan)

    async def advance_entry(self, plan: EntryPlan) -> None:
        current = plan.current
        if current is None or not current.is_done or plan.done:
            return
        if plan.remaining <= 0 or plan.market.round_size(plan.remaining) <= 0:
            self._finish_entry(plan, "filled")
        elif current.request.type is OrderType.MARKET:
            self._finish_entry(plan, current.note or f"market entry ended {current.status}")
        elif current.status is OrderStatus.REJECTED and "POST_ONLY_WOULD_CROSS" not in current.note:
            self._finish_entry(plan, current.note)
        else:  # a post-only attempt ended (timed out, crossed): re-price or fall back
            await self._work_entry(plan)

    def _finish_entry(self, plan: EntryPlan, note: str) -> None:
        plan.done = True
        plan.note = note
        if self.entries.get(plan.market.symbol) is plan:
            del self.entries[plan.market.symbol]
        if plan.filled > 0:
            self.settling[plan.market.symbol] = self.clock.time_ms()

    def busy_markets(self, held: Collection[str]) -> set[str]:
        """Markets that take a position slot: held positions, working entries, and entries the venue says
        filled whose fills have not reached the position manager yet (an order update can overtake its
        fills; counting only positions and entries would free the slot, or allow a second entry, meanwhile).
        A settling market stops counting once held, or after ``SETTLE_TIMEOUT_MS`` (reconciliation then
        decides what the venue holds)."""
        now = self.clock.time_ms()
        for market, since in list(self.settling.items()):
            if market in held or now - since > SETTLE_TIMEOUT_MS:
                del self.settling[market]
        return set(held) | set(self.entries) | set(self.settling)

    # ---- exits -----------------------------------------------------------------------------------

    async def close_market(self, market: str, side: Side, size: Decimal, exit_reason: str) -> TrackedOrder:
        """A reduce-only MARKET order (never blocked by risk state)."""
        request = OrderRequest(market, side, OrderType.MARKET, size, self.ids.next(), reduce_only=True)
        return await self.submit(request, Purpose.EXIT, exit_reason=exit_reason)

    async def cancel(self, tracked: TrackedOrder) -> bool:
        """Cancel by client id. "Not found" is terminal: we then ask the venue for the final state."""
        if tracked.is_done:
            return False
        try:
            ok = await self.exchange.cancel_order(tracked.market, client_id=tracked.client_id)
        except (ExchangeUnavailable, RateLimited, TimeoutError) as exc:
            log.warning("cancel %s failed (%s); the in-flight check will resolve it", tracked.client_id, exc)
            return False
        if not ok:
            found = await self._lookup(tracked.request)
            if found is not None:
                self.tracker.apply(found, self.clock.time_ms())
        return ok

    async def cancel_all(self, market: str | None = None) -> None:
        try:
            await self.exchange.cancel_all(market)
        except (ExchangeUnavailable, RateLimited, TimeoutError) as exc:
            log.warning("cancel_all(%s) failed: %s; cancelling one by one", market, exc)
            for tracked in self.tracker.open():
                if market is None or tracked.market == market:
                    await self.cancel(tracked)

    # ---- venue events ----------------------------------------------------------------------------

    async def on_order_update(self, order: Order) -> TrackedOrder | None:
        tracked = self.tracker.apply(order, self.clock.time_ms())
        if tracked is None:
            return None
        if order.status is OrderStatus.REJECTED and not tracked.note:
            tracked.note = describe_reject(order.cancel_reason)
        self._report(tracked)
        if tracked.purpose is Purpose.ENTRY:
            plan = self.entries.get(tracked.market)
            if plan is not None and tracked in plan.orders:
                await self.advance_entry(plan)
        return tracked

    def on_fill(self, fill: Fill) -> TrackedOrder | None:
        tracked = self.tracker.apply_fill(fill, self.clock.time_ms())
        if tracked is not None and tracked.purpose is Purpose.ENTRY and fill.market in self.settling:
            venue_filled = tracked.order.filled_size if tracked.order is not None else ZERO
            if sum((f.size for f in tracked.fills), ZERO) >= venue_filled:
                del self.settling[fill.market]  # every fill the venue reported has arrived
        return tracked

    def on_quote(self, quote: Quote) -> None:
        self.quotes[quote.market] = quote

    # ---- timers ----------------------------------------------------------------------------------

    async def on_timer(self) -> list[TrackedOrder]:
        """Re-price timed-out post-only entries and resolve quiet orders by query.
        Returns the orders whose state a query changed (the caller may need to resync positions)."""
        now = self.clock.time_ms()
        for plan in list(self.entries.values()):
            current = plan.current
            if (current is not None and not current.is_done and current.request.tif is TimeInForce.POST_ONLY
                    and current.order is not None and current.order.status is OrderStatus.OPEN
                    and now - current.sent_at >= self.config.entry_timeout_s * 1000):
                await self.cancel(current)  # the cancel's update drives the re-price
                if current.is_done:
                    await self.advance_entry(plan)
        return await self.resolve_in_flight()

    async def resolve_in_flight(self) -> list[TrackedOrder]:
        now = self.clock.time_ms()
        changed: list[TrackedOrder] = []
        for tracked in self.tracker.in_flight(now, int(self.config.ack_timeout_s * 1000)):
            try:
                order = await self.exchange.get_order(tracked.market, client_id=tracked.client_id)
            except OrderNotFound:
                tracked.not_found += 1
                tracked.last_heard = now
                if tracked.not_found >= self.config.lost_after:
                    tracked.lost = True
                    tracked.note = f"lost: the venue has no record of it after {tracked.not_found} queries"
                    log.warning("order %s %s", tracked.client_id, tracked.note)
                    changed.append(tracked)
                    self._lost_report(tracked)
                continue
            except (ExchangeUnavailable, RateLimited, TimeoutError):
                continue
            self.tracker.apply(order, now)
            tracked.last_heard = now
            if not tracked.note or tracked.note.startswith("no answer"):
                tracked.note = f"resolved by query: {order.status}"
            self._report(tracked)
            changed.append(tracked)
        for tracked in changed:
            plan = self.entries.get(tracked.market)
            if plan is not None and tracked in plan.orders:
                await self.advance_entry(plan)
        return changed

    def _lost_report(self, tracked: TrackedOrder) -> None:
        r = tracked.request
        ghost = Order(id="", client_id=r.client_id, market=r.market, side=r.side, type=r.type, size=r.size,
                      status=OrderStatus.CANCELED, price=r.price, trigger_price=r.trigger_price,
                      reduce_only=r.reduce_only, cancel_reason="LOST")
        self.bus.publish(OrderReport(ghost, tracked.purpose, tracked.note, self.clock.time_ms()))
