"""ParadexWsClient against a real loopback venue: channels, books, reconnects, dedup, bad frames."""

from __future__ import annotations

import asyncio
import random
import time
from decimal import Decimal

import jwt
import pytest

from flashscalper.clock import ManualClock
from flashscalper.domain import (
    BalanceUpdate,
    BookUpdate,
    ConnectionEvent,
    ConnectionState,
    Event,
    FillEvent,
    MarkPrice,
    OrderStatus,
    OrderUpdate,
    PositionUpdate,
    Quote,
    Trade,
)
from flashscalper.exchanges.paradex.rest import ParadexRestClient
from flashscalper.exchanges.paradex.rpc import WsRpcError
from flashscalper.exchanges.paradex.sbe import payload_to_frame
from flashscalper.exchanges.paradex.streams import book_channel
from flashscalper.exchanges.paradex.ws import ParadexWsClient, rest_seams
from flashscalper.exchanges.paradex.ws_support import WsConfig

from . import payloads as P
from .conftest import take
from .venue import FakeParadexVenue

M = P.MARKET
DELTAS = book_channel(M, "deltas")
SNAPSHOTS = book_channel(M, "snapshot")
FAST = dict(backoff_base_s=0.02, backoff_cap_s=0.1, request_timeout_s=2.0)


class Tokens:
    """Token provider: a fresh JWT-shaped token on every call, counted."""

    def __init__(self, clock: ManualClock | None = None, life_s: int = 300) -> None:
        self.calls = 0
        self.clock = clock
        self.life_s = life_s

    async def __call__(self) -> str:
        self.calls += 1
        now = self.clock.time_ms() // 1000 if self.clock else int(time.time())
        return jwt.encode({"sub": "0x1", "n": self.calls, "exp": now + self.life_s}, "k" * 32, algorithm="HS256")


def accept_jwt(token: str) -> bool:
    return token.count(".") == 2


def make_client(venue: FakeParadexVenue, *, sbe: bool = True, private: bool = True, **kw) -> ParadexWsClient:
    config = WsConfig(sbe_public=sbe, **{**FAST, **kw.pop("config", {})})
    return ParadexWsClient(venue.ws_url, config=config, token_provider=Tokens() if private else None,
                           rng=random.Random(7), **kw)


@pytest.fixture
async def client_factory(venue: FakeParadexVenue):
    venue.accept_token = accept_jwt
    made: list[ParadexWsClient] = []

    def factory(**kw) -> ParadexWsClient:
        client = make_client(venue, **kw)
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.close()


def is_state(state: ConnectionState):
    return lambda e: isinstance(e, ConnectionEvent) and e.state is state


@pytest.mark.parametrize("sbe", [True, False], ids=["sbe", "json"])
async def test_every_channel_maps_to_its_domain_event(venue, client_factory, sbe: bool) -> None:
    client = client_factory(sbe=sbe)
    await client.start(timeout_s=3)
    await client.subscribe_market(M, funding=True)
    await client.subscribe_private()
    feed = client.events()
    await take(feed, is_state(ConnectionState.CONNECTED))

    await venue.push(f"bbo.{M}", P.bbo(bid="64999.5", ask="65000.5"))
    q = await take(feed, lambda e: isinstance(e, Quote))
    assert (q.bid, q.ask, q.bid_size, q.seq_no) == (Decimal("64999.5"), Decimal("65000.5"), Decimal("1.25"), 1)

    await venue.push(f"trades.{M}", P.trade(price="65000.5", side="SELL"))
    t = await take(feed, lambda e: isinstance(e, Trade))
    assert t.price == Decimal("65000.5") and t.taker_side.value == "SELL" and t.id == "1700000000000000000000001"

    await venue.push(DELTAS, P.starting_book(seq=10))
    b = await take(feed, lambda e: isinstance(e, BookUpdate))
    assert b.is_snapshot and b.bids[0].price == Decimal("64999") and b.asks[0].price == Decimal("65001")
    await venue.push(DELTAS, P.book(11, inserts=[P.level("SELL", "65000.5", "2")]))
    b = await take(feed, lambda e: isinstance(e, BookUpdate))
    assert not b.is_snapshot and b.asks[0].price == Decimal("65000.5") and client.book(M).seq_no == 11

    await venue.push("markets_summary", P.summary(mark="65000.1"))
    mark = await take(feed, lambda e: isinstance(e, MarkPrice))
    assert mark.mark == Decimal("65000.1") and mark.funding_rate == Decimal("0.0001")
    await venue.push(f"funding_data.{M}", P.funding(rate="0.0002"))
    mark = await take(feed, lambda e: isinstance(e, MarkPrice))
    assert mark.mark == Decimal("65000.1") and mark.funding_rate == Decimal("0.0002")

    await venue.push("orders.ALL", P.order(status="OPEN"))
    o = await take(feed, lambda e: isinstance(e, OrderUpdate))
    assert o.order.status is OrderStatus.OPEN and o.order.price == Decimal("64000")
    await venue.push("fills.ALL", P.fill())
    f = await take(feed, lambda e: isinstance(e, FillEvent))
    assert f.fill.size == Decimal("0.05") and f.fill.fee == Decimal("0.01")
    await venue.push("positions", P.position(size="0.05"))
    p = await take(feed, lambda e: isinstance(e, PositionUpdate))
    assert p.position.size == Decimal("0.05") and p.position.entry_price == Decimal("64000")
    await venue.push("account", P.account(value="10001.5"))
    bal = await take(feed, lambda e: isinstance(e, BalanceUpdate))
    assert bal.balance.equity == Decimal("10001.5") and bal.balance.available == Decimal("9000")
    await venue.push("balance_events", P.balance_event(after="9999.99"))
    bal = await take(feed, lambda e: isinstance(e, BalanceUpdate))
    assert bal.balance.wallet == Decimal("9999.99")

    stats = client.stats_snapshot()
    assert (stats["binary_frames"] > 0) is sbe
    assert stats["decode_errors"] == stats["mapping_errors"] == 0
    assert ("sbeSchemaId=1" in client.url) is sbe


async def test_gap_resubscribes_snapshot_feed_and_emits_rebuilt_book(venue, client_factory) -> None:
    client = client_factory(private=False)
    await client.start(timeout_s=3)
    await client.subscribe(DELTAS)
    feed = client.events()
    await venue.push(DELTAS, P.starting_book(seq=10))
    await take(feed, lambda e: isinstance(e, BookUpdate) and e.is_snapshot)

    await venue.push(DELTAS, P.book(12, inserts=[P.level("BUY", "64000", "1")]))  # 11 never came
    await venue.wait_for(lambda: venue.subscribed(SNAPSHOTS))
    assert client.book(M) is None  # dropped until rebuilt
    await venue.push(SNAPSHOTS, P.book(12, snapshot=True, inserts=[P.level("BUY", "64500", "1"),
                                                                    P.level("SELL", "64501", "1")]))
    rebuilt = await take(feed, lambda e: isinstance(e, BookUpdate))
    assert rebuilt.is_snapshot and rebuilt.seq_no == 12 and rebuilt.bids[0].price == Decimal("64500")
    await venue.wait_for(lambda: not venue.subscribed(SNAPSHOTS))  # the borrowed feed is given back
    await venue.push(DELTAS, P.book(13, updates=[P.level("BUY", "64500", "5")]))
    after = await take(feed, lambda e: isinstance(e, BookUpdate))
    assert after.seq_no == 13 and after.bids[0].size == Decimal("5")
    assert client.stats_snapshot()["book_gaps"] == 1


async def test_gap_resnapshots_through_rest_orderbook(venue, client_factory) -> None:
    venue.books[M] = {"market": M, "seq_no": 20, "last_updated_at": P.T0, "bids": [["64400", "2"]],
                      "asks": [["64401", "3"]]}
    async with ParadexRestClient(venue.rest_url) as rest:
        client = client_factory(private=False, book_snapshot=rest_seams(rest)["book_snapshot"])
        await client.start(timeout_s=3)
        await client.subscribe(DELTAS)
        feed = client.events()
        await venue.push(DELTAS, P.starting_book(seq=10))
        await venue.push(DELTAS, P.book(19))  # gap: 11..18 lost
        await venue.push(DELTAS, P.book(21, inserts=[P.level("SELL", "64402", "1")]))  # buffered, replayed
        rebuilt = await take(feed, lambda e: isinstance(e, BookUpdate) and e.seq_no > 10)
        assert rebuilt.is_snapshot and rebuilt.seq_no == 21
        assert [lvl.price for lvl in rebuilt.asks] == [Decimal("64401"), Decimal("64402")]


async def test_server_drop_reconnects_reauths_resubscribes_rearms_and_resyncs(venue, client_factory) -> None:
    resyncs: list[int] = []

    async def resync() -> None:
        resyncs.append(len(venue.connections))

    client = client_factory(resync=resync, config={"cancel_on_disconnect": True})
    await client.start(timeout_s=3)
    await client.subscribe_market(M)
    await client.subscribe_private()
    feed = client.events()
    await venue.push(DELTAS, P.starting_book(seq=10))
    await take(feed, lambda e: isinstance(e, BookUpdate))
    first_subs = set(venue.live[0].subs)

    await venue.drop_all()
    await take(feed, is_state(ConnectionState.DISCONNECTED))
    await take(feed, is_state(ConnectionState.CONNECTED))
    await take(feed, is_state(ConnectionState.RESYNCED))
    assert resyncs == [2]
    conn = venue.live[0]
    assert conn.authed and conn.subs == first_subs and conn.cancel_on_disconnect
    assert next(m for n, m, _ in venue.requests if n == 2) == "auth"
    assert client.book(M) is None  # the old book was dropped with the connection

    await venue.push("fills.ALL", P.fill("f-after"))
    assert (await take(feed, lambda e: isinstance(e, FillEvent))).fill.id == "f-after"
    await venue.push(DELTAS, P.starting_book(seq=40))
    assert (await take(feed, lambda e: isinstance(e, BookUpdate))).seq_no == 40
    stats = client.stats_snapshot()
    assert stats["reconnects"] == 1 and len(stats["reconnect_durations"]) == 1
    assert venue.cancels_on_disconnect >= 1


async def test_refused_upgrades_keep_backing_off_then_recover(venue, client_factory) -> None:
    client = client_factory(private=False)
    await client.start(timeout_s=3)
    await client.subscribe(f"bbo.{M}")
    feed = client.events()
    venue.refuse = True
    await venue.drop_all()
    await take(feed, is_state(ConnectionState.DISCONNECTED))
    await venue.wait_for(lambda: venue.refused >= 4)
    assert client.stats.connect_failures >= 4 and not client.connected
    venue.refuse = False
    await take(feed, is_state(ConnectionState.CONNECTED))
    await venue.push(f"bbo.{M}", P.bbo(seq=99))
    assert (await take(feed, lambda e: isinstance(e, Quote))).seq_no == 99


def test_backoff_grows_jittered_and_capped() -> None:
    client = ParadexWsClient("ws://127.0.0.1:1/v1/ws", config=WsConfig(backoff_base_s=1, backoff_cap_s=8),
                             rng=random.Random(1))
    delays = [client._backoff(n) for n in range(8)]
    for n, d in enumerate(delays):
        step = min(8, 2**n)
        assert step / 2 <= d <= step
    assert max(delays) <= 8 and len(set(delays)) == len(delays)


async def test_invalid_bearer_forces_token_refresh(venue, client_factory) -> None:
    seen: list[str] = []

    def accept_second(token: str) -> bool:
        seen.append(token)
        return len(seen) > 1

    venue.accept_token = accept_second
    client = client_factory()
    await client.start(timeout_s=3)
    assert client.stats.token_refreshes == 2 and seen[0] != seen[1]


async def test_near_expiry_jwt_is_refreshed_before_reconnect(venue) -> None:
    venue.accept_token = accept_jwt
    clock = ManualClock(start_ms=int(time.time() * 1000))
    tokens = Tokens(clock=clock, life_s=300)
    client = ParadexWsClient(venue.ws_url, config=WsConfig(**FAST), token_provider=tokens, clock=clock)
    try:
        await client.start(timeout_s=3)
        await venue.drop_all()
        await take(client.events(), is_state(ConnectionState.CONNECTED), within_s=3)  # first CONNECTED
        await take(client.events(), is_state(ConnectionState.CONNECTED), within_s=3)
        assert tokens.calls == 1  # still 300 s to live: reused
        clock.advance(250_000)  # 50 s left, under the 60 s margin
        await venue.drop_all()
        await take(client.events(), is_state(ConnectionState.CONNECTED), within_s=3)
        assert tokens.calls == 2 and venue.live[0].token != venue.connections[0].token
    finally:
        await client.close()


async def test_duplicate_fills_and_stale_order_updates_are_dropped(venue, client_factory) -> None:
    client = client_factory()
    await client.start(timeout_s=3)
    await client.subscribe_private()
    feed = client.events()
    for _ in range(3):
        await venue.push("fills.ALL", P.fill("f-1"))
    await venue.push("orders.ALL", P.order(seq=5, status="OPEN"))
    await venue.push("orders.ALL", P.order(seq=5, status="OPEN"))  # replay
    await venue.push("orders.ALL", P.order(seq=4, status="NEW"))  # older
    await venue.push("orders.ALL", P.order(seq=6, status="CLOSED", remaining="0"))
    await venue.push("fills.ALL", P.fill("f-2"))
    got: list[Event] = []
    await take(feed, lambda e: isinstance(e, FillEvent) and e.fill.id == "f-2", skipped=got)
    fills = [e.fill.id for e in got if isinstance(e, FillEvent)]
    orders = [(e.order.seq_no, e.order.status) for e in got if isinstance(e, OrderUpdate)]
    assert fills == ["f-1"]
    assert orders == [(5, OrderStatus.OPEN), (6, OrderStatus.FILLED)]
    stats = client.stats_snapshot()
    assert stats["duplicate_fills"] == 2 and stats["duplicate_orders"] == 2


async def test_malformed_frames_are_counted_and_skipped(venue, client_factory) -> None:
    client = client_factory(private=False)
    await client.start(timeout_s=3)
    await client.subscribe(f"bbo.{M}")
    good = payload_to_frame("bbo", P.bbo())
    await venue.send_raw(good[:20])  # truncated SBE
    await venue.send_raw(b"\x10\x00\x63\x00\x01\x00\x02\x00" + bytes(16))  # unknown template 99
    await venue.send_raw("{not json")
    await venue.send_raw('{"jsonrpc":"2.0","method":"subscription","params":{"channel":"mystery.X","data":{}}}')
    await venue.send_raw('{"jsonrpc":"2.0","method":"subscription","params":{"channel":"bbo.X","data":{"bid":"1"}}}')
    await venue.send_raw("[1, 2, 3]")
    await venue.push(f"bbo.{M}", P.bbo(seq=7))
    q = await take(client.events(), lambda e: isinstance(e, Quote))
    assert q.seq_no == 7 and client.connected
    stats = client.stats_snapshot()
    assert stats["decode_errors"] == 3
    assert stats["mapping_errors"] == 3 and stats["unknown_channels"] == 1
    assert stats["internal_errors"] == 0


async def test_silent_feed_is_treated_as_dead(venue, client_factory) -> None:
    client = client_factory(private=False, config={"stale_after_s": 0.2})
    await client.start(timeout_s=3)
    feed = client.events()
    event = await take(feed, is_state(ConnectionState.DISCONNECTED), within_s=3)
    assert "no frame" in event.detail
    await take(feed, is_state(ConnectionState.CONNECTED))
    assert client.stats.stale_disconnects >= 1


async def test_subscribing_twice_sends_once_and_server_duplicate_error_is_typed(venue, client_factory) -> None:
    client = client_factory(private=False)
    await client.start(timeout_s=3)
    await client.subscribe(f"bbo.{M}")
    await client.subscribe(f"bbo.{M}")
    assert [m for _, m, p in venue.requests if m == "subscribe"] == ["subscribe"]
    with pytest.raises(WsRpcError, match="already subscribed") as dup:
        await client.request("subscribe", {"channel": f"bbo.{M}"})  # bypassing the client's own bookkeeping
    assert dup.value.rpc_code == 100
    with pytest.raises(WsRpcError) as err:
        await client.request("no.such.method")
    assert err.value.rpc_code == -32601
    await client.unsubscribe(f"bbo.{M}")
    await venue.wait_for(lambda: not venue.subscribed(f"bbo.{M}"))


async def test_pumped_client_is_driven_frame_by_frame(venue) -> None:
    venue.accept_token = accept_jwt
    client = ParadexWsClient(venue.ws_url, config=WsConfig(sbe_public=True), token_provider=Tokens(),
                             auto_read=False)
    try:
        await client.connect_once()  # pumps its own handshake answers
        await client.subscribe(f"bbo.{M}")
        await venue.push(f"bbo.{M}", P.bbo(seq=3))
        assert client.events().get_nowait() is not None  # the CONNECTED event
        assert client.events().get_nowait() is None
        assert await client.pump_once(timeout_s=2)
        quote = client.events().get_nowait()
        assert isinstance(quote, Quote) and quote.seq_no == 3
    finally:
        await client.close()


async def test_events_iteration_ends_on_close(venue, client_factory) -> None:
    client = client_factory(private=False)
    await client.start(timeout_s=3)
    waiter = asyncio.ensure_future(take(client.events(), lambda e: isinstance(e, Quote)))
    await asyncio.sleep(0.05)
    await client.close()
    with pytest.raises(AssertionError, match="ended"):
        await waiter
