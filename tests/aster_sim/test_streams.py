"""Market and user streams end to end: live events, depth gap → re-snapshot, listenKey expiry → new key and
resync, and fills recovered over REST after the user stream was dropped."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from flashscalper.domain import (
    BookUpdate,
    ConnectionEvent,
    ConnectionState,
    FillEvent,
    MarkPrice,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionUpdate,
    Quote,
    Side,
    Trade,
)
from flashscalper.exchanges.aster.client import AsterExchange
from flashscalper.sim.aster.registry import AsterRegistry
from flashscalper.sim.aster.streams import depth_update_id
from flashscalper.sim.server import Simulator
from tests.aster_sim.conftest import next_event


async def _until(predicate, timeout_s: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    async def wait() -> None:
        for _ in range(int(timeout_s / 0.02) + 1):  # polling: the state lives in another task
            if predicate():
                return
            await asyncio.sleep(0.02)
        raise AssertionError("condition not reached in time")

    await asyncio.wait_for(wait(), timeout_s + 1)


async def test_market_streams_deliver_every_kind(exchange: AsterExchange) -> None:
    await exchange.subscribe_market_data(["BTCUSDT"])
    seen: set[type] = set()
    wanted = {Quote, BookUpdate, Trade, MarkPrice}

    async def collect() -> None:
        async for event in exchange.events():
            if getattr(event, "market", None) == "BTCUSDT":
                seen.add(type(event))
            if wanted <= seen:
                return

    await asyncio.wait_for(collect(), 10)
    book = exchange.market_stream.books["BTCUSDT"]
    assert book.synced and book.bids and book.asks
    assert max(book.bids) < min(book.asks)


async def test_local_book_matches_the_venue(exchange: AsterExchange, sim: Simulator) -> None:
    await exchange.subscribe_market_data(["ETHUSDT"])
    book = exchange.market_stream.books["ETHUSDT"]

    async def caught_up() -> BookUpdate:
        while True:  # read both sides without an await in between, so they describe one moment
            venue = sim.exchange.book_snapshot("ETH-USD-PERP", 20)
            if book.synced and book.last_update_id == depth_update_id(venue.seq_no):
                return venue
            await asyncio.sleep(0.005)

    venue = await asyncio.wait_for(caught_up(), 5)
    local = book.top(20)
    assert (local.bids, local.asks) == (venue.bids, venue.asks)


async def test_depth_gap_triggers_a_new_snapshot(exchange: AsterExchange, registry: AsterRegistry) -> None:
    await exchange.subscribe_market_data(["BTCUSDT"])
    stream = exchange.market_stream
    book = stream.books["BTCUSDT"]
    await _until(lambda: book.synced)
    snapshots_before, gaps_before = stream.snapshot_count, book.gaps

    registry.skip_depth_events = 1  # one diff lost on the wire: the next one's pu does not chain
    await _until(lambda: book.gaps > gaps_before)
    await _until(lambda: book.synced and stream.snapshot_count > snapshots_before)
    assert book.bids and book.asks and max(book.bids) < min(book.asks)


async def test_order_events_on_the_user_stream(exchange: AsterExchange) -> None:
    order = await exchange.place_order(OrderRequest("SOLUSDT", Side.BUY, OrderType.MARKET, Decimal("1"), "us-1"))
    fill = await next_event(exchange, lambda e: isinstance(e, FillEvent))
    assert isinstance(fill, FillEvent)
    assert fill.fill.order_id == order.id and fill.fill.market == "SOLUSDT" and fill.fill.size == Decimal(1)
    update = await next_event(exchange, lambda e: isinstance(e, OrderUpdate) and e.order.id == order.id)
    assert isinstance(update, OrderUpdate) and update.order.status is OrderStatus.FILLED
    position = await next_event(exchange, lambda e: isinstance(e, PositionUpdate))
    assert isinstance(position, PositionUpdate) and position.position.size == Decimal(1)


async def test_rejected_orders_never_show_on_the_user_stream(exchange: AsterExchange) -> None:
    from flashscalper.errors import OrderRejected

    quote = await exchange.quote("BTCUSDT")
    try:
        await exchange.place_order(OrderRequest("BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal("5"), "too-big",
                                                price=(quote.bid * Decimal("0.99")).quantize(Decimal("0.1"))))
    except OrderRejected as exc:
        assert exc.reason == "MARGIN_NOT_SUFFICIENT"
    else:
        raise AssertionError("a 5 BTC order on a 10k account must be refused")
    marker = await exchange.place_order(OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, Decimal("0.001"), "mk"))
    seen = []
    event = await next_event(exchange, lambda e: (seen.append(e) or True) and isinstance(e, OrderUpdate)
                             and e.order.id == marker.id and e.order.status is OrderStatus.FILLED)
    assert event is not None
    assert not [e for e in seen if isinstance(e, OrderUpdate) and e.order.client_id == "too-big"]


async def test_listen_key_expiry_gets_a_new_key_and_resyncs(make_exchange, credentials,  # type: ignore[no-untyped-def]
                                                            registry: AsterRegistry) -> None:
    registry.listen_key_lifetime_ms = 600
    exchange = await make_exchange(credentials, keepalive_s=3600)  # no keep-alive: let the key lapse
    first_key = exchange.user_stream.listen_key
    expired = await next_event(exchange, lambda e: isinstance(e, ConnectionEvent) and e.detail == "listenKeyExpired")
    assert isinstance(expired, ConnectionEvent) and expired.state is ConnectionState.DISCONNECTED
    resynced = await next_event(exchange, lambda e: isinstance(e, ConnectionEvent)
                                and e.state is ConnectionState.RESYNCED)
    assert resynced is not None
    assert exchange.user_stream.listen_key != first_key
    assert exchange.user_stream.expirations >= 1 and exchange.user_stream.resyncs >= 1


async def test_keep_alive_extends_the_listen_key(make_exchange, credentials,  # type: ignore[no-untyped-def]
                                                 registry: AsterRegistry) -> None:
    registry.listen_key_lifetime_ms = 800
    exchange = await make_exchange(credentials, keepalive_s=0.2)
    key = exchange.user_stream.listen_key
    await asyncio.sleep(1.5)
    assert exchange.user_stream.listen_key == key
    assert exchange.user_stream.expirations == 0


async def test_fills_missed_while_the_stream_was_down_are_recovered_once(
        exchange: AsterExchange, sim: Simulator, registry: AsterRegistry) -> None:
    order = await exchange.place_order(OrderRequest("ETHUSDT", Side.BUY, OrderType.MARKET, Decimal("0.01"), "pre"))
    await next_event(exchange, lambda e: isinstance(e, FillEvent) and e.fill.order_id == order.id)

    # the socket goes away and stays refused for a moment; meanwhile an order fills
    sim.faults.apply({"refuse_ws_for_ms": 400})
    await sim.faults.drop_connections()
    await next_event(exchange, lambda e: isinstance(e, ConnectionEvent) and e.state is ConnectionState.DISCONNECTED)
    missed = await exchange.place_order(OrderRequest("ETHUSDT", Side.SELL, OrderType.MARKET, Decimal("0.01"), "gap"))
    assert missed.status is OrderStatus.FILLED

    fills: list[FillEvent] = []

    async def until_resynced() -> None:
        async for event in exchange.events():
            if isinstance(event, FillEvent):
                fills.append(event)
            resynced = isinstance(event, ConnectionEvent) and event.state is ConnectionState.RESYNCED
            if resynced and "user" in event.detail:
                return

    await asyncio.wait_for(until_resynced(), 10)
    recovered = [f for f in fills if f.fill.order_id == missed.id]
    assert len(recovered) == 1 and recovered[0].fill.size == Decimal("0.01")
    assert not [f for f in fills if f.fill.order_id == order.id]  # already seen live: not published twice


async def test_market_stream_reconnects_and_rebuilds_its_books(exchange: AsterExchange, sim: Simulator) -> None:
    await exchange.subscribe_market_data(["SOLUSDT"])
    stream = exchange.market_stream
    book = stream.books["SOLUSDT"]
    await _until(lambda: book.synced)
    snapshots = stream.snapshot_count
    await sim.faults.drop_connections()
    event = await next_event(exchange, lambda e: isinstance(e, ConnectionEvent) and e.state is ConnectionState.RESYNCED
                             and "market" in e.detail)
    assert event is not None
    await _until(lambda: book.synced and stream.snapshot_count > snapshots)
    assert stream.connects == 2 and max(book.bids) < min(book.asks)
