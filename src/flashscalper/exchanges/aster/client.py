"""AsterExchange: the venue-neutral ``Exchange`` interface over Aster REST + WebSockets.

    ex = AsterExchange.from_settings(settings.aster)       # or AsterExchange(rest_url, ws_url, credentials)
    await ex.connect()                                      # time sync, markets, user stream
    await ex.subscribe_market_data(["BTCUSDT"])
    async for event in ex.events(): ...

Orders are validated against the market's rules before anything is signed (the venue-neutral checks of
``exchanges.paradex.validation``; FOK is valid on Aster). Fills are de-duplicated by id, so the fills a
resync recovers over REST after a dropped user stream are published once, whichever path saw them first.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import deque
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from flashscalper.clock import Clock
from flashscalper.domain import (
    AccountSnapshot,
    Balance,
    BalanceUpdate,
    BookUpdate,
    Event,
    Fill,
    FillEvent,
    Market,
    Order,
    OrderRequest,
    OrderUpdate,
    Position,
    PositionUpdate,
    Quote,
    TimeInForce,
    Trade,
)
from flashscalper.errors import ExchangeError, OrderNotFound
from flashscalper.exchanges.aster.rest import (
    AgentCredentials,
    AsterRestClient,
    Credentials,
    HmacCredentials,
    leverage_int,
)
from flashscalper.exchanges.aster.ws import MarketStream, UserStream
from flashscalper.exchanges.base import Capabilities
from flashscalper.exchanges.paradex.feed import EventFeed
from flashscalper.exchanges.paradex.validation import validate_order

if TYPE_CHECKING:
    from flashscalper.config import AsterSettings

CAPABILITIES = Capabilities(native_stop_orders=True, modify_order=False, post_only=True, batch_orders=False,
                            cancel_on_disconnect=False, close_position_orders=True)
SEEN_FILLS = 10_000


def credentials_from_settings(settings: AsterSettings) -> Credentials | None:
    """V3 (API wallet) when configured, else V1 key/secret, else None (public data only)."""
    if settings.user_address and settings.signer_address and settings.signer_private_key:
        chain = 714 if settings.environment.value == "testnet" else 1666
        return AgentCredentials(settings.user_address, settings.signer_address,
                                settings.signer_private_key.get_secret_value(), chain)
    if settings.api_key and settings.api_secret:
        return HmacCredentials(settings.api_key.get_secret_value(), settings.api_secret.get_secret_value())
    return None


class AsterExchange:
    """Aster through the ``Exchange`` protocol (see the module docstring)."""

    name = "aster"
    capabilities = CAPABILITIES

    def __init__(self, rest_url: str, ws_url: str, credentials: Credentials | None = None, *,
                 clock: Clock | None = None, keepalive_s: float = 30 * 60, book_depth: int = 15,
                 queue_size: int = 10_000, rng: random.Random | None = None, max_retries: int = 3) -> None:
        self.rest = AsterRestClient(rest_url, credentials, clock=clock, rng=rng, max_retries=max_retries)
        self._feed = EventFeed(queue_size)
        self._has_credentials = credentials is not None
        self.market_stream = MarketStream(self.rest, ws_url, self._publish, book_depth=book_depth, rng=rng)
        self.user_stream = UserStream(self.rest, ws_url, self._publish, self.resync, keepalive_s=keepalive_s,
                                      rng=rng, on_account_update=self._poll_balance)
        self._markets: dict[str, Market] = {}
        self._seen_fills: set[str] = set()
        self._seen_order: deque[str] = deque()
        # order id -> client id: Aster's userTrades rows carry no client id, so recovered fills get it here
        self._client_ids: dict[str, str] = {}
        self._last_fill_ms: int | None = None
        self._connected = False
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def from_settings(cls, settings: AsterSettings, **kwargs: object) -> AsterExchange:
        return cls(settings.rest_url, settings.ws_url, credentials_from_settings(settings), **kwargs)  # type: ignore[arg-type]

    # ---- lifecycle -----------------------------------------------------------------------------

    async def connect(self, *, timeout_s: float = 10.0) -> None:
        """Sync the clock, load markets and (with credentials) open the user stream. Idempotent."""
        if self._connected:
            return
        await self.rest.sync_time()
        await self.markets()
        if self._has_credentials:
            self._last_fill_ms = self.rest.clock.time_ms()
            self.user_stream.start()
            await asyncio.wait_for(self.user_stream.connected.wait(), timeout_s)
        self._connected = True

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.market_stream.close()
        await self.user_stream.close()
        with contextlib.suppress(Exception):
            if self.user_stream.listen_key:
                await self.rest.close_listen_key(self.user_stream.listen_key)
        await self.rest.close()
        self._feed.close()
        self._connected = False

    def events(self) -> EventFeed:
        return self._feed

    def _publish(self, event: Event) -> None:
        if isinstance(event, OrderUpdate):
            self._remember_client_id(event.order)
        if isinstance(event, FillEvent) and not self._remember_fill(event.fill):
            return
        self._feed.publish(event)

    def _remember_fill(self, fill: Fill) -> bool:
        """True the first time a fill id is seen."""
        if fill.id in self._seen_fills:
            return False
        self._seen_fills.add(fill.id)
        self._seen_order.append(fill.id)
        if len(self._seen_order) > SEEN_FILLS:
            self._seen_fills.discard(self._seen_order.popleft())
        if fill.ts and (self._last_fill_ms is None or fill.ts > self._last_fill_ms):
            self._last_fill_ms = fill.ts
        return True

    def _remember_client_id(self, order: Order) -> None:
        if order.client_id and order.id not in self._client_ids:
            self._client_ids[order.id] = order.client_id
            if len(self._client_ids) > SEEN_FILLS:
                del self._client_ids[next(iter(self._client_ids))]

    async def _with_client_ids(self, fills: list[Fill]) -> list[Fill]:
        """Fills read over REST, with the client id of their order filled in (asked once per unknown order)."""
        out: list[Fill] = []
        for fill in fills:
            if not fill.client_id:
                if fill.order_id not in self._client_ids:
                    with contextlib.suppress(ExchangeError):
                        self._remember_client_id(await self.rest.get_order(fill.market, order_id=fill.order_id))
                fill = replace(fill, client_id=self._client_ids.get(fill.order_id, ""))
            out.append(fill)
        return out

    def _spawn(self, coro: object) -> None:
        task = asyncio.create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _poll_balance(self) -> None:
        async def poll() -> None:
            with contextlib.suppress(ExchangeError):
                self._feed.publish(BalanceUpdate(await self.rest.balance()))

        self._spawn(poll())

    async def resync(self) -> None:
        """After the user stream was down: recover missed fills, then current orders, positions and balance."""
        since = (self._last_fill_ms or self.rest.clock.time_ms()) - 1000
        recovered: list[Fill] = []
        for symbol in self._markets:
            recovered.extend(await self.rest.user_trades(symbol, start_time=since))
        for fill in await self._with_client_ids(sorted(recovered, key=lambda f: (f.ts, f.id))):
            self._publish(FillEvent(fill))
        for order in await self.rest.open_orders():
            self._feed.publish(OrderUpdate(order))
        for position in await self.rest.positions():
            self._feed.publish(PositionUpdate(position))
        self._feed.publish(BalanceUpdate(await self.rest.balance()))

    # ---- reference and market data ---------------------------------------------------------------

    async def markets(self) -> dict[str, Market]:
        self._markets = await self.rest.markets()
        return dict(self._markets)

    async def _market(self, symbol: str) -> Market:
        if symbol not in self._markets:
            self._markets[symbol] = await self.rest.market(symbol)
        return self._markets[symbol]

    async def quote(self, market: str) -> Quote:
        return await self.rest.book_ticker(market)

    async def order_book(self, market: str, depth: int = 15) -> BookUpdate:
        limit = next(n for n in (5, 10, 20, 50, 100, 500, 1000) if n >= min(depth, 1000))
        book = await self.rest.depth(market, limit)
        return replace(book, bids=book.bids[:depth], asks=book.asks[:depth])

    async def recent_trades(self, market: str, limit: int = 100) -> list[Trade]:
        return await self.rest.trades(market, limit)

    async def subscribe_market_data(self, markets: list[str]) -> None:
        for symbol in markets:
            await self._market(symbol)  # unknown symbols fail here, not silently on the stream
        await self.market_stream.add(markets)

    # ---- account -------------------------------------------------------------------------------

    async def balance(self) -> Balance:
        return await self.rest.balance()

    async def positions(self) -> list[Position]:
        return await self.rest.positions()

    async def open_orders(self, market: str | None = None) -> list[Order]:
        return await self.rest.open_orders(market)

    async def fills(self, market: str | None = None, since_ms: int | None = None) -> list[Fill]:
        symbols = [market] if market else list(self._markets)
        out: list[Fill] = []
        for symbol in symbols:
            out.extend(await self.rest.user_trades(symbol, start_time=since_ms))
        return await self._with_client_ids(sorted(out, key=lambda f: (f.ts, f.id)))

    async def snapshot(self) -> AccountSnapshot:
        balance, positions, orders = await asyncio.gather(self.rest.balance(), self.rest.positions(),
                                                          self.rest.open_orders())
        return AccountSnapshot(balance, positions, orders, ts=self.rest.clock.time_ms())

    async def set_leverage(self, market: str, leverage: Decimal) -> None:
        await self.rest.set_leverage(market, leverage_int(leverage))

    # ---- orders --------------------------------------------------------------------------------

    async def place_order(self, request: OrderRequest) -> Order:
        market = await self._market(request.market)
        # the shared validator knows no FOK (a Paradex gap); on Aster FOK obeys the same rules as IOC
        checked = replace(request, tif=TimeInForce.IOC) if request.tif is TimeInForce.FOK else request
        validate_order(checked, market)
        order = await self.rest.create_order(request)
        self._remember_client_id(order)
        return order

    async def cancel_order(self, market: str, *, order_id: str | None = None, client_id: str | None = None) -> bool:
        try:
            await self.rest.cancel_order(market, order_id=order_id, client_id=client_id)
        except OrderNotFound:
            return False
        return True

    async def cancel_all(self, market: str | None = None) -> None:
        symbols = [market] if market else sorted({o.market for o in await self.rest.open_orders()})
        for symbol in symbols:
            await self.rest.cancel_all(symbol)

    async def get_order(self, market: str, *, order_id: str | None = None, client_id: str | None = None) -> Order:
        return await self.rest.get_order(market, order_id=order_id, client_id=client_id)
