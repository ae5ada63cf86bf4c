"""Paper trading: real market data from any venue, orders filled locally by the simulator's engine.

The venue's top of book is mirrored into a private engine as resting quotes of a "mirror" account, so
the bot's orders fill exactly as they would on the simulator: market orders take the displayed size at
the touch, limit orders rest and fill when the venue's quotes trade through them, margin, reduce-only
and stops behave the same. One fill model serves paper, backtest and the simulator. Nothing is ever
sent to the data venue except market-data subscriptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from decimal import Decimal

from flashscalper.clock import Clock
from flashscalper.domain import (
    BookUpdate,
    ConnectionEvent,
    Event,
    MarkPrice,
    OrderRequest,
    OrderType,
    Quote,
    Side,
    Trade,
)
from flashscalper.domain import TimeInForce as Tif
from flashscalper.exchanges.base import Capabilities, Exchange
from flashscalper.exchanges.local import LocalExchange
from flashscalper.sim.engine import OrderValidationError, SimExchange
from flashscalper.sim.markets import MarginParams, MarketSpec

log = logging.getLogger(__name__)

MIRROR_ACCOUNT = "paper-mirror"
MIRROR_COLLATERAL = Decimal(10) ** 12  # the mirror only provides liquidity; it must never run out of margin


class PaperExchange(LocalExchange):
    """An Exchange whose prices come from ``data_venue`` and whose fills come from a local engine."""

    capabilities = Capabilities(
        native_stop_orders=True, modify_order=True, post_only=True, close_position_orders=True,
    )

    def __init__(self, data_venue: Exchange, *, clock: Clock, collateral: Decimal = Decimal(10_000)) -> None:
        self.data_venue = data_venue
        self._collateral = collateral
        self._clock = clock
        self._pump: asyncio.Task[None] | None = None
        self._init_mirror_state()
        self._ready = False

    def _init_mirror_state(self) -> None:
        self._quoted: dict[str, tuple[Decimal, Decimal, Decimal, Decimal]] = {}
        self._mark_fed: set[str] = set()  # markets whose venue publishes a mark price; others use the mid
        self._priced: set[str] = set()  # markets whose engine mark is a real price (not a placeholder)

    async def connect(self) -> None:
        """Read the venue's markets, build the local engine, and start mirroring its prices."""
        if self._ready:
            return
        await self.data_venue.connect()
        markets = await self.data_venue.markets()
        specs: dict[str, MarketSpec] = {}
        for symbol, market in markets.items():
            try:
                mid = (await self.data_venue.quote(symbol)).mid
                self._priced.add(symbol)
            except Exception:  # a market without a book yet still gets a spec; its mark comes later
                mid = Decimal(1)
            margin = MarginParams(imf_base=market.imf_base, mmf_factor=market.mmf_factor)
            specs[symbol] = MarketSpec(market=market, margin=margin, initial_price=market.round_price(mid))
        engine = SimExchange(self._clock, specs)
        engine.create_account(MIRROR_ACCOUNT, MIRROR_COLLATERAL, leverage=Decimal(1))
        super().__init__(engine, "paper", clock=self._clock, collateral=self._collateral, name="paper")
        self._ready = True

    async def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        if self._ready:
            await super().close()
        await self.data_venue.close()

    async def subscribe_market_data(self, markets: list[str]) -> None:
        # Market events come from the data venue, not from the local engine (which would echo the mirror).
        await self.data_venue.subscribe_market_data(markets)
        if self._pump is None:
            self._pump = asyncio.create_task(self._pump_market_data(), name="paper-market-data")

    async def _pump_market_data(self) -> None:
        async for event in self.data_venue.events():
            try:
                self.on_market_event(event)
            except Exception:  # one bad event must not stop paper trading
                log.exception("paper: could not apply %s", type(event).__name__)

    def on_market_event(self, event: Event) -> None:
        """Mirror one venue event into the engine, then pass it on to the bot."""
        if isinstance(event, Quote):
            self._mirror_quote(event)
        elif isinstance(event, BookUpdate) and event.bids and event.asks:
            best_bid, best_ask = event.bids[0], event.asks[0]
            self._mirror_quote(Quote(event.market, best_bid.price, best_bid.size, best_ask.price, best_ask.size,
                                     event.ts))
        elif isinstance(event, MarkPrice):
            self._mark_fed.add(event.market)
            self._priced.add(event.market)
            self.engine.set_mark_price(event.market, event.mark)
            self.engine.tick()
        # Only public data and connection health pass through: the venue's private events are not ours.
        if isinstance(event, Quote | BookUpdate | Trade | MarkPrice | ConnectionEvent):
            self._emit(event)

    def _mirror_quote(self, quote: Quote) -> None:
        key = (quote.bid, quote.bid_size, quote.ask, quote.ask_size)
        if self._quoted.get(quote.market) == key or quote.bid >= quote.ask:
            return
        self._quoted[quote.market] = key
        engine = self.engine
        if quote.market not in self._priced:
            # first sight of this market: give it a real mark before quoting (orders are checked against it)
            engine.set_mark_price(quote.market, quote.mid)
            self._priced.add(quote.market)
        engine.cancel_all(MIRROR_ACCOUNT, quote.market)
        for side, price, size in ((Side.BUY, quote.bid, quote.bid_size), (Side.SELL, quote.ask, quote.ask_size)):
            if size <= 0:
                continue
            request = OrderRequest(quote.market, side, OrderType.LIMIT, size, client_id="", price=price, tif=Tif.GTC)
            try:
                engine.submit_order(MIRROR_ACCOUNT, request)
            except OrderValidationError as exc:  # e.g. a venue size below the local step: skip that side
                log.debug("paper mirror skipped %s %s: %s", quote.market, side, exc)
        # The mark moves only once the new touch is resting: a stop it triggers must find liquidity to fill
        # against, not the empty book between the cancel and the re-quote.
        if quote.market not in self._mark_fed:
            engine.set_mark_price(quote.market, quote.mid)
        engine.tick()
