"""Event sources to venues in virtual time.

* :class:`BacktestVenue` is the backtest venue: a :class:`~flashscalper.exchanges.paper.PaperExchange`
  (same mirroring, same engine, same fill model as paper trading) whose market data is pushed in by
  the backtest driver instead of pumped from a live venue. With ``lazy=True`` quotes are mirrored
  into the engine only when they can matter: while the bot has no order and no position in the
  engine, only the latest touch per market is kept and applied right before the next order, cancel
  or account read. Nothing the bot can observe differs (see ``tests/replay`` for the fingerprint
  check against the eager path).
* :class:`ReplayEngine` is the simulator engine with funding that can follow a given rate (recorded
  funding rates or an assumed one) instead of the book's premium over the mark.
* :class:`FeedVenue` is a data venue for a *real* PaperExchange: it plays a :class:`DataSet` into its
  ``events()`` stream, so paper mode and the backtest can be run over the same data (parity tests).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

from flashscalper.clock import Clock, ManualClock
from flashscalper.domain import (
    BookUpdate,
    ConnectionEvent,
    Event,
    Market,
    MarkPrice,
    Order,
    OrderRequest,
    Quote,
    Trade,
)
from flashscalper.exchanges.local import LocalExchange
from flashscalper.exchanges.paper import MIRROR_ACCOUNT, MIRROR_COLLATERAL, PaperExchange
from flashscalper.replay.data import DataSet
from flashscalper.sim.engine import SimExchange
from flashscalper.sim.markets import MarketSpec

__all__ = ["BacktestVenue", "FeedVenue", "ReplayEngine"]

ACCOUNT = "backtest"


class ReplayEngine(SimExchange):
    """A :class:`SimExchange` whose funding premium per market can be set: ``funding_rates[m]`` is the
    rate per funding period (e.g. 0.0001 per 8 h). Markets without one pay the book's premium as usual."""

    def __init__(self, clock: Clock, markets: dict[str, MarketSpec], *,
                 funding_rates: dict[str, Decimal] | None = None, **kwargs: object) -> None:
        super().__init__(clock, markets, **kwargs)  # type: ignore[arg-type]
        self.funding_rates: dict[str, Decimal] = dict(funding_rates or {})
        self._settling = False

    def mid_price(self, market: str) -> Decimal | None:
        rate = self.funding_rates.get(market) if self._settling else None
        if rate is not None:
            # the ledger turns (mid - mark) / mark into the rate: hand it the mid that gives ``rate``
            return self.marks[market] * (1 + rate)
        return super().mid_price(market)

    def _settle_funding(self, ts: int) -> None:
        self._settling = True
        try:
            super()._settle_funding(ts)
        finally:
            self._settling = False


class BacktestVenue(PaperExchange):
    """PaperExchange whose prices are pushed in (``on_market_event``) by a virtual-time driver."""

    def __init__(self, markets: dict[str, MarketSpec], *, clock: Clock, collateral: Decimal = Decimal(10_000),
                 lazy: bool = True, funding_rates: dict[str, Decimal] | None = None,
                 maker_fee: Decimal = Decimal(0), taker_fee: Decimal = Decimal(0)) -> None:
        # PaperExchange state, without a data venue: the driver is the data venue
        self.data_venue = None  # type: ignore[assignment]
        self._collateral = collateral
        self._clock = clock
        self._pump = None
        self._init_mirror_state()
        self._ready = True
        self.lazy = lazy
        self._pending_quote: dict[str, Quote] = {}
        self._pending_mark: dict[str, MarkPrice] = {}
        engine = ReplayEngine(clock, markets, funding_rates=funding_rates, maker_fee=maker_fee, taker_fee=taker_fee)
        engine.create_account(MIRROR_ACCOUNT, MIRROR_COLLATERAL, leverage=Decimal(1))
        LocalExchange.__init__(self, engine, ACCOUNT, clock=clock, collateral=collateral, name="backtest",
                               queue_size=10_000_000)
        self._account_state = engine._accounts[ACCOUNT]  # read-only peek: does the bot have anything live?

    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        self._unsubscribe()

    async def subscribe_market_data(self, markets: list[str]) -> None:
        await LocalExchange.subscribe_market_data(self, markets)
        self._markets.clear()  # market events come from the driver, not echoed from the engine

    # ---- market data in ----
    def idle(self) -> bool:
        """True when the bot has no order and no position in the engine (mirroring can wait)."""
        acct = self._account_state
        if acct.open_orders:
            return False
        for position in acct.positions.values():  # noqa: SIM110 - a loop beats all() + genexpr here
            if position.size:
                return False
        return True

    def on_market_event(self, event: Event) -> None:
        """Mirror one event (now, or deferred while idle), then queue it for the bot."""
        self.mirror(event)
        if isinstance(event, Quote | BookUpdate | Trade | MarkPrice | ConnectionEvent):
            self._emit(event)

    def mirror(self, event: Event) -> None:
        """Apply one market event to the engine without passing it on (the fast driver hands it to the
        bot itself)."""
        if isinstance(event, BookUpdate):
            if not (event.bids and event.asks):
                return
            b, a = event.bids[0], event.asks[0]
            event = Quote(event.market, b.price, b.size, a.price, a.size, event.ts)
        if isinstance(event, Quote):
            if self.lazy and self.idle():
                if event.bid < event.ask:
                    if self._quoted.get(event.market) != (event.bid, event.bid_size, event.ask, event.ask_size):
                        self._quoted.pop(event.market, None)  # a different touch came by: re-apply on flush
                    self._pending_quote[event.market] = event
                return
            self.flush()
            self._mirror_quote(event)
        elif isinstance(event, MarkPrice):
            if event.funding_rate is not None:
                self.engine.funding_rates[event.market] = event.funding_rate  # type: ignore[attr-defined]
            if self.lazy and self.idle():
                self._pending_mark[event.market] = event
                return
            self.flush()
            self._apply_mark(event)

    def _apply_mark(self, event: MarkPrice) -> None:
        self._mark_fed.add(event.market)
        self._priced.add(event.market)
        self.engine.set_mark_price(event.market, event.mark)
        self.engine.tick()

    def flush(self) -> None:
        """Apply the deferred touch (and mark) of every market, as the eager path would have left them."""
        if self._pending_mark:
            marks, self._pending_mark = self._pending_mark, {}
            for mark in marks.values():
                self._apply_mark(mark)
        if self._pending_quote:
            quotes, self._pending_quote = self._pending_quote, {}
            for quote in quotes.values():
                self._mirror_quote(quote)

    # ---- anything that reads or changes the engine sees the latest touch first ----
    async def place_order(self, request: OrderRequest) -> Order:
        self.flush()
        return await super().place_order(request)

    async def cancel_order(self, market: str, *, order_id: str | None = None, client_id: str | None = None) -> bool:
        self.flush()
        return await super().cancel_order(market, order_id=order_id, client_id=client_id)

    async def cancel_all(self, market: str | None = None) -> None:
        self.flush()
        await super().cancel_all(market)

    async def quote(self, market: str) -> Quote:
        self.flush()
        return await super().quote(market)

    async def order_book(self, market: str, depth: int = 15) -> BookUpdate:
        self.flush()
        return await super().order_book(market, depth)


class FeedVenue:
    """A market-data-only venue that plays a :class:`DataSet` into ``events()`` in virtual time.

    Each event sets the :class:`ManualClock` to its timestamp before it is queued; ``play()`` yields
    after every event so a consumer (e.g. a PaperExchange pump and a bot) sees them one by one.
    """

    name = "feed"

    def __init__(self, data: DataSet, clock: ManualClock) -> None:
        self.data = data
        self.clock = clock
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._first: dict[str, Quote] = {}

    async def connect(self) -> None:
        # the first touch of every market, so a paper engine can start at the right price
        wanted = set(self.data.markets)
        for event in self.data.events():
            if isinstance(event, Quote) and event.market not in self._first:
                self._first[event.market] = event
                if len(self._first) == len(wanted):
                    break

    async def close(self) -> None:
        return None

    async def markets(self) -> dict[str, Market]:
        return {symbol: spec.market for symbol, spec in self.data.markets.items()}

    async def quote(self, market: str) -> Quote:
        return self._first[market]

    async def subscribe_market_data(self, markets: list[str]) -> None:
        return None

    def events(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            yield await self._queue.get()

    def iter_events(self) -> Iterator[Event]:
        return iter(self.data.events())

    def push(self, event: Event) -> None:
        """Queue one event at its own time (the clock moves to it)."""
        if event.ts > self.clock.time_ms():  # type: ignore[union-attr]
            self.clock.set(event.ts)  # type: ignore[union-attr]
        self._queue.put_nowait(event)
