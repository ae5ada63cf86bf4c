"""Fault hooks and flow control of the simulated Paradex WebSocket: drop, refuse, stall, delay, slow consumer."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
from decimal import Decimal

import aiohttp
import orjson
import pytest

from flashscalper.domain import Side
from flashscalper.sim.paradex.ws import ws_hub
from flashscalper.sim.server import Simulator

from .conftest import BTC, MAKER, Connect, Trader, eventually, place

D = Decimal


async def test_drop_hook_closes_every_socket(sim: Simulator, connect: Connect, trader: Trader) -> None:
    public, private = await connect(), await connect()
    await private.result("auth", {"bearer": trader.token})
    await public.result("subscribe", {"channel": f"bbo.{BTC}"})
    assert await sim.faults.drop_connections() == 1  # one hook: this dialect's
    for client in (public, private):
        await asyncio.wait_for(client._reader, 3)
        assert client.ws.closed and client.ws.close_code == aiohttp.WSCloseCode.GOING_AWAY
    await eventually(lambda: not ws_hub(sim).sessions)
    again = await connect()  # the venue itself is still up
    assert await again.result("subscribe", {"channel": f"bbo.{BTC}"}) == {"channel": f"bbo.{BTC}"}


async def test_drop_through_the_admin_endpoint(sim: Simulator, connect: Connect, http: aiohttp.ClientSession) -> None:
    ws = await connect()
    assert sim.urls is not None
    async with http.post(sim.urls.admin + "/drop") as resp:
        assert resp.status == 200
    await asyncio.wait_for(ws._reader, 3)
    assert ws.ws.closed


async def test_refused_upgrades_answer_503_until_the_window_ends(sim: Simulator, connect: Connect) -> None:
    sim.faults.apply({"refuse_ws_for_ms": 5_000})
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await connect()
    assert refused.value.status == 503
    sim.advance(5_000)
    ws = await connect()
    assert await ws.result("subscribe", {"channel": f"trades.{BTC}"}) == {"channel": f"trades.{BTC}"}


async def test_stalled_sockets_send_nothing_until_the_stall_ends(sim: Simulator, connect: Connect) -> None:
    ws = await connect()
    await ws.result("subscribe", {"channel": f"bbo.{BTC}"})
    sim.faults.apply({"ws_stall_ms": 2_000})
    place(sim, MAKER, Side.SELL, "1", "95010")
    place(sim, MAKER, Side.BUY, "1", "94990")
    rid = 99
    await ws.send_raw(orjson.dumps({"jsonrpc": "2.0", "method": "subscribe", "id": rid,
                                    "params": {"channel": f"trades.{BTC}"}}).decode())
    await asyncio.sleep(0.2)
    assert ws.pushes == [] and rid not in ws.answers  # queued, not sent
    sim.advance(2_000)
    assert (await ws.answer(rid))["result"] == {"channel": f"trades.{BTC}"}
    assert D((await ws.pushes_on(f"bbo.{BTC}"))[-1]["bid"]) == D(94990)


async def test_market_data_delay_holds_public_frames_but_not_answers(sim: Simulator, connect: Connect,
                                                                     trader: Trader) -> None:
    ws = await connect()
    await ws.result("auth", {"bearer": trader.token})
    await ws.result("subscribe", {"channel": f"bbo.{BTC}"})
    await ws.result("subscribe", {"channel": "orders.ALL"})
    sim.faults.apply({"market_data_delay_ms": 300})
    loop = asyncio.get_running_loop()
    started = loop.time()
    place(sim, MAKER, Side.SELL, "1", "95010")
    mine = place(sim, trader.id, Side.BUY, "0.01", "94990")
    await ws.pushes_on("orders.ALL")  # private: not delayed
    assert loop.time() - started < 0.25 and ws.on(f"bbo.{BTC}") == []
    assert ws.on("orders.ALL")[-1]["id"] == mine.id
    await ws.pushes_on(f"bbo.{BTC}")
    assert loop.time() - started >= 0.29


class StalledReader:
    """A raw WebSocket client that subscribes and then never reads: its kernel buffer is tiny and
    asyncio's stream stops pulling from the socket once its own small buffer is full."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, url: str, channel: str) -> StalledReader:
        host, port = url.removeprefix("ws://").split("/")[0].split(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
        reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(f"GET /v1/ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        status = await reader.readuntil(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.1 101"), status
        writer.write(_masked_text(orjson.dumps({"jsonrpc": "2.0", "method": "subscribe", "id": 1,
                                                "params": {"channel": channel}})))
        await writer.drain()
        return cls(reader, writer)

    def close(self) -> None:
        self.writer.transport.abort()


def _masked_text(data: bytes) -> bytes:
    mask = os.urandom(4)
    length = bytes([0x80 | len(data)]) if len(data) < 126 else bytes([0x80 | 126]) + struct.pack("!H", len(data))
    return b"\x81" + length + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


async def test_slow_consumer_is_disconnected_and_a_fast_one_is_not(sim: Simulator, connect: Connect) -> None:
    hub = ws_hub(sim)
    hub.settings.slow_consumer_limit = 200
    assert sim.urls is not None
    fast = await connect()
    await fast.result("subscribe", {"channel": "markets_summary"})
    slow = await StalledReader.open(sim.urls.paradex_ws, "markets_summary")
    await eventually(lambda: len(hub.subs.get("markets_summary", ())) == 2)
    (slow_session,) = (s for s in hub.sessions if s.conn_id != min(x.conn_id for x in hub.sessions))
    try:
        for i in range(40_000):  # each mark update is one summary push to both sockets
            sim.exchange.set_mark_price(BTC, D(95_000 + i % 500))
            if i % 25 == 0:
                await asyncio.sleep(0)  # let the senders (and the fast reader) run
            if slow_session.closing:
                break
        assert slow_session.closing, "the stalled reader was never disconnected"
        assert slow_session.close_reason.startswith("slow consumer")
        await eventually(lambda: hub.counters["slow_consumer_closes"] == 1)
        sent_before = len(fast.on("markets_summary"))
        sim.exchange.set_mark_price(BTC, D(96_000))
        await fast.pushes_on("markets_summary", sent_before + 1)
        assert not fast.ws.closed and len(hub.sessions) == 1
    finally:
        slow.close()


async def test_protocol_pings_and_a_silent_client_is_closed(sim: Simulator, http: aiohttp.ClientSession) -> None:
    ws_hub(sim).settings.heartbeat_s = 0.2
    assert sim.urls is not None
    polite = await http.ws_connect(sim.urls.paradex_ws, autoping=False)
    ping = await polite.receive(timeout=2)
    assert ping.type is aiohttp.WSMsgType.PING
    await polite.pong(ping.data)
    assert (await polite.receive(timeout=2)).type is aiohttp.WSMsgType.PING  # still alive, pinged again
    await polite.close()

    silent = await http.ws_connect(sim.urls.paradex_ws, autoping=False)
    assert (await silent.receive(timeout=2)).type is aiohttp.WSMsgType.PING  # never answered
    closing = await silent.receive(timeout=2)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
    await eventually(lambda: not ws_hub(sim).sessions)
