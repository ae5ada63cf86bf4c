"""Event feed overflow policy: market data coalesces, private events are never dropped or reordered."""

from __future__ import annotations

from decimal import Decimal

from flashscalper.domain import (
    ConnectionEvent,
    ConnectionState,
    Fill,
    FillEvent,
    Liquidity,
    Quote,
    Side,
    Trade,
)
from flashscalper.exchanges.paradex.feed import EventFeed


def quote(market: str, bid: int) -> Quote:
    return Quote(market, Decimal(bid), Decimal(1), Decimal(bid + 1), Decimal(1), ts=bid)


def fill_event(n: int) -> FillEvent:
    return FillEvent(Fill(f"f{n}", "o", "", "BTC", Side.BUY, Decimal(1), Decimal(1), Liquidity.MAKER))


async def test_slow_consumer_keeps_every_private_event_and_the_newest_quote_per_market() -> None:
    feed = EventFeed(maxsize=4)
    for i in range(4):
        feed.publish(quote("BTC", i))  # fills the queue
    for i in range(100):
        feed.publish(quote("BTC", 100 + i))
        feed.publish(quote("ETH", 100 + i))
        feed.publish(fill_event(i))
    feed.publish(Trade("BTC", "t1", Decimal(1), Decimal(1), Side.BUY, 1))
    feed.close()
    events = [e async for e in feed]
    fills = [e.fill.id for e in events if isinstance(e, FillEvent)]
    assert fills == [f"f{i}" for i in range(100)]
    quotes = [e for e in events if isinstance(e, Quote)]
    assert [q.bid for q in quotes[:4]] == [Decimal(i) for i in range(4)]  # queued before the overflow
    assert {(q.market, q.bid) for q in quotes[4:]} == {("BTC", Decimal(199)), ("ETH", Decimal(199))}
    assert feed.coalesced == 198 and any(isinstance(e, Trade) for e in events)


async def test_feed_returns_to_normal_order_once_drained() -> None:
    feed = EventFeed(maxsize=1)
    feed.publish(quote("BTC", 1))
    feed.publish(ConnectionEvent("paradex", ConnectionState.DISCONNECTED, 1))
    assert isinstance(await feed.get(), Quote)
    assert isinstance(await feed.get(), ConnectionEvent)
    feed.publish(quote("BTC", 2))
    assert (await feed.get()).bid == Decimal(2)  # type: ignore[union-attr]
    assert feed.qsize() == 0
