"""Paradex behind the venue-neutral Exchange interface: REST for requests, one WebSocket for streams.

After every reconnect the WebSocket client calls :meth:`ParadexExchange._resync`, which reads open
orders, recent fills, positions and the balance back through REST and publishes them on the same
event stream; fills already seen on the socket are dropped, so each fill reaches the bot exactly once.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from decimal import Decimal

from flashscalper.clock import Clock, WallClock
from flashscalper.config import ParadexSettings
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
    Trade,
)
from flashscalper.errors import ConfigError, OrderNotFound
from flashscalper.exchanges.base import Capabilities

from .keys import ParadexIdentity
from .rest import ParadexRestClient
from .ws import ParadexWsClient, rest_seams
from .ws_support import WsConfig

log = logging.getLogger(__name__)

# How far back a resync reads fills: long enough to cover any realistic outage.
RESYNC_FILL_WINDOW_MS = 15 * 60 * 1000


class ParadexExchange:
    """A Paradex account (or the local simulator speaking Paradex) as an :class:`Exchange`."""

    name = "paradex"
    capabilities = Capabilities(
        native_stop_orders=True, modify_order=True, post_only=True, batch_orders=True,
        cancel_on_disconnect=True, close_position_orders=True,
    )

    def __init__(
        self,
        rest: ParadexRestClient,
        ws_url: str,
        *,
        clock: Clock | None = None,
        ws_config: WsConfig | None = None,
        cancel_on_disconnect: bool = False,
    ) -> None:
        self.rest = rest
        self.clock = clock or WallClock()
        self.cancel_on_disconnect = cancel_on_disconnect
        self._private = rest.identity is not None
        seams = rest_seams(rest) if self._private else {"book_snapshot": rest_seams(rest)["book_snapshot"]}
        self.ws = ParadexWsClient(ws_url, config=ws_config, resync=self._resync, clock=self.clock, **seams)
        self._markets: dict[str, Market] = {}
        self._connected = False

    @classmethod
    def from_settings(
        cls, settings: ParadexSettings, identity: ParadexIdentity | None, *, clock: Clock | None = None,
        ws_config: WsConfig | None = None,
    ) -> ParadexExchange:
        rest = ParadexRestClient(settings.rest_url, identity, clock=clock)
        return cls(rest, settings.ws_url, clock=clock, ws_config=ws_config)

    # ---- lifecycle ----
    async def connect(self) -> None:
        if self._connected:
            return
        self._markets = await self.rest.markets()
        if self._private:
            await self.rest.authenticate()
        await self.ws.start(wait=True, timeout_s=15)
        if self._private:
            await self.ws.subscribe_private()
            if self.cancel_on_disconnect:
                await self.ws.set_cancel_on_disconnect(True)
        self._connected = True

    async def close(self) -> None:
        await self.ws.close()
        await self.rest.close()
        self._connected = False

    async def _resync(self) -> None:
        """Re-read private state through REST after a reconnect (the socket may have missed events)."""
        if not self._private:
            return
        since = self.clock.time_ms() - RESYNC_FILL_WINDOW_MS
        recovered = 0
        for fill in sorted(await self.rest.fills(start_at=since), key=lambda f: (f.ts, f.id)):
            recovered += self.ws.publish_recovered(FillEvent(fill))
        # Orders that closed while the socket was down are only in the history; open ones come after, so
        # that the newest state of each order is the last one published.
        for order in await self.rest.orders_history(start_at=since, max_pages=3):
            if order.status.is_terminal:
                self.ws.publish_recovered(OrderUpdate(order))
        for order in await self.rest.open_orders():
            self.ws.publish_recovered(OrderUpdate(order))
        for position in await self.rest.positions():
            self.ws.publish_recovered(PositionUpdate(position))
        self.ws.publish_recovered(BalanceUpdate(await self.rest.balance()))
        if recovered:
            log.info("resync recovered %d fill(s) missed while disconnected", recovered)

    def events(self) -> AsyncIterator[Event]:
        return self.ws.events()

    # ---- market data ----
    async def markets(self) -> dict[str, Market]:
        if not self._markets:
            self._markets = await self.rest.markets()
        return dict(self._markets)

    async def quote(self, market: str) -> Quote:
        return await self.rest.bbo(market)

    async def order_book(self, market: str, depth: int = 15) -> BookUpdate:
        return await self.rest.orderbook(market, depth)

    async def recent_trades(self, market: str, limit: int = 100) -> list[Trade]:
        return await self.rest.trades(market, page_size=limit)

    async def subscribe_market_data(self, markets: list[str]) -> None:
        known = await self.markets()
        unknown = [m for m in markets if m not in known]
        if unknown:
            raise ConfigError(f"unknown Paradex market(s): {', '.join(unknown)}; available: {', '.join(sorted(known))}")
        for market in markets:
            await self.ws.subscribe_market(market)

    # ---- account ----
    async def balance(self) -> Balance:
        return await self.rest.balance()

    async def positions(self) -> list[Position]:
        """Open positions with their mark price (Paradex's position object carries none: it comes from the
        markets summary)."""
        return await self.rest.open_positions_marked()

    async def open_orders(self, market: str | None = None) -> list[Order]:
        return await self.rest.open_orders(market)

    async def fills(self, market: str | None = None, since_ms: int | None = None) -> list[Fill]:
        return await self.rest.fills(market, start_at=since_ms)

    async def snapshot(self) -> AccountSnapshot:
        return AccountSnapshot(
            balance=await self.rest.balance(),
            positions=await self.positions(),
            open_orders=await self.rest.open_orders(),
            ts=self.clock.time_ms(),
        )

    async def set_leverage(self, market: str, leverage: Decimal) -> None:
        await self.rest.set_leverage(market, leverage)

    # ---- orders ----
    async def place_order(self, request: OrderRequest) -> Order:
        return await self.rest.create_order(request)

    async def cancel_order(self, market: str, *, order_id: str | None = None, client_id: str | None = None) -> bool:
        return await self.rest.cancel_order(order_id, client_id=client_id, market=market)

    async def cancel_all(self, market: str | None = None) -> None:
        await self.rest.cancel_all(market)

    async def get_order(self, market: str, *, order_id: str | None = None, client_id: str | None = None) -> Order:
        if order_id is not None:
            return await self.rest.get_order(order_id, market=market)
        if client_id is not None:
            return await self.rest.get_order_by_client_id(client_id, market)
        raise OrderNotFound("get_order needs an order id or a client id")


def demo_identity(system_config: dict[str, str]) -> ParadexIdentity:
    """A throw-away identity for the local simulator: a fresh random Ethereum key, never saved or shown."""
    return ParadexIdentity.from_l1_key(
        "0x" + secrets.token_hex(32),
        l1_chain_id=system_config["l1_chain_id"],
        account_proxy_hash=system_config["paraclear_account_proxy_hash"],
        account_hash=system_config["paraclear_account_hash"],
    )
