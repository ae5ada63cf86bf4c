"""The project's own ParadexWsClient (SBE public channels) against the simulated venue, end to end."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from flashscalper.domain import (
    BookUpdate,
    ConnectionEvent,
    ConnectionState,
    FillEvent,
    OrderStatus,
    OrderUpdate,
    Quote,
    Side,
    Trade,
)
from flashscalper.exchanges.paradex.ws import ParadexWsClient
from flashscalper.exchanges.paradex.ws_support import WsConfig
from flashscalper.sim.server import Simulator

from .conftest import BTC, MAKER, Trader, place

D = Decimal


async def next_of(client: ParadexWsClient, kind: type, within: float = 3.0) -> object:
    async with asyncio.timeout(within):
        async for event in client.events():
            if isinstance(event, kind):
                return event
    raise AssertionError("feed ended")


async def first_of_each(client: ParadexWsClient, *kinds: type, within: float = 3.0) -> dict[type, object]:
    seen: dict[type, object] = {}
    async with asyncio.timeout(within):
        async for event in client.events():
            for kind in kinds:
                if isinstance(event, kind) and kind not in seen:
                    seen[kind] = event
            if len(seen) == len(kinds):
                return seen
    raise AssertionError("feed ended")


async def test_real_client_books_quotes_trades_and_private_events(sim: Simulator, trader: Trader) -> None:
    assert sim.urls is not None

    async def token() -> str:
        return trader.token

    client = ParadexWsClient(sim.urls.paradex_ws, config=WsConfig(sbe_public=True), token_provider=token,
                             clock=sim.clock)
    place(sim, MAKER, Side.SELL, "1", "95010")
    await client.start(timeout_s=3)
    try:
        await client.subscribe_market(BTC)
        await client.subscribe_private()
        book = await next_of(client, BookUpdate)
        assert isinstance(book, BookUpdate) and book.asks[0].price == D(95010) and book.is_snapshot

        place(sim, MAKER, Side.BUY, "2", "94990")
        quote = await next_of(client, Quote)
        assert isinstance(quote, Quote) and (quote.bid, quote.ask) == (D(94990), D(95010))
        mine = place(sim, trader.id, Side.BUY, "0.3", "95010")
        seen = await first_of_each(client, Trade, FillEvent)  # the fill comes first: engine order
        trade, fill = seen[Trade], seen[FillEvent]
        assert isinstance(trade, Trade) and trade.size == D("0.3") and trade.taker_side is Side.BUY
        assert isinstance(fill, FillEvent) and fill.fill.order_id == mine.id
        await asyncio.sleep(0.1)  # the 50 ms book feed flushes
        local = client.book(BTC)
        assert local is not None and local.best_ask.size == D("0.7") and local.best_bid.price == D(94990)

        await sim.faults.drop_connections()
        async with asyncio.timeout(5):
            async for event in client.events():
                if isinstance(event, ConnectionEvent) and event.state is ConnectionState.CONNECTED:
                    break
        resting = place(sim, trader.id, Side.BUY, "0.1", "94000")
        async with asyncio.timeout(3):
            async for event in client.events():
                if isinstance(event, OrderUpdate) and event.order.id == resting.id:
                    assert event.order.status in (OrderStatus.NEW, OrderStatus.OPEN)
                    break
    finally:
        await client.close()
