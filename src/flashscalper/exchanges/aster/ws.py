"""Aster WebSockets (protocol/aster.md §11–§13): market streams and the user data stream, each supervised.

* Market: one combined connection ``<ws>/stream?streams=…`` carrying ``@depth@100ms``, ``@bookTicker``,
  ``@aggTrade`` and ``@markPrice@1s`` per symbol. Every (re)connect resets the local books, which buffer
  diffs until a REST snapshot joins them; a ``pu`` gap sends the book back for a new snapshot.
* User: ``POST listenKey`` → ``<ws>/ws/<listenKey>``, a keep-alive task (``PUT listenKey`` every
  ``keepalive_s``), and on ``listenKeyExpired``, a ``-1125`` keep-alive or a dropped socket: a new key, a new
  socket and ``resync()`` (the owner re-reads state over REST and recovers missed fills) → RESYNCED.

Both supervisors reconnect with jittered exponential backoff and publish ConnectionEvents.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson

from flashscalper.domain import ConnectionEvent, ConnectionState, Event
from flashscalper.errors import ExchangeError, MalformedMessage
from flashscalper.exchanges.aster import mapping as m
from flashscalper.exchanges.aster.depth import DepthBook, DepthResult
from flashscalper.exchanges.aster.rest import AsterRestClient

log = logging.getLogger(__name__)

Publish = Callable[[Event], None]
Resync = Callable[[], Awaitable[None]]
VENUE = "aster"


def market_streams(symbol: str) -> list[str]:
    low = symbol.lower()
    return [f"{low}@depth@100ms", f"{low}@bookTicker", f"{low}@aggTrade", f"{low}@markPrice@1s"]


class _Supervisor:
    """Shared reconnect loop: ``_session_once`` runs one connection until it ends."""

    name = "ws"

    def __init__(self, publish: Publish, *, backoff_base_s: float, backoff_cap_s: float,
                 rng: random.Random | None, heartbeat_s: float) -> None:
        self._publish = publish
        self._backoff_base, self._backoff_cap = backoff_base_s, backoff_cap_s
        self._rng = rng or random.Random()
        self._heartbeat = heartbeat_s
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self.connected = asyncio.Event()
        self.connects = 0
        self._closing = False

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._closing = False
            self._task = asyncio.create_task(self._run(), name=f"aster-{self.name}")

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _event(self, state: ConnectionState, detail: str) -> None:
        self._publish(ConnectionEvent(VENUE, state, _now_ms(), detail=f"{self.name}: {detail}"))

    async def _connect(self, url: str) -> aiohttp.ClientWebSocketResponse:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return await self._session.ws_connect(url, heartbeat=self._heartbeat, autoping=True)

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            try:
                await self._session_once()
                attempt = 0
            except asyncio.CancelledError:
                raise
            except (aiohttp.ClientError, ExchangeError, OSError, TimeoutError) as exc:
                log.info("aster %s: %s", self.name, exc)
            except Exception:  # one bad frame or bug must not end the supervisor
                log.exception("aster %s connection failed", self.name)
            self.connected.clear()
            if self._ws is not None:
                await self._ws.close()
                self._ws = None
            if self._closing:
                return
            self._event(ConnectionState.DISCONNECTED, "reconnecting")
            await asyncio.sleep(self._rng.uniform(0, min(self._backoff_cap, self._backoff_base * 2**attempt)))
            attempt += 1

    async def _session_once(self) -> None:
        raise NotImplementedError

    async def _frames(self) -> Any:
        assert self._ws is not None
        async for msg in self._ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                try:
                    yield orjson.loads(msg.data)
                except orjson.JSONDecodeError:
                    log.warning("aster %s: a frame that is not JSON (%d bytes)", self.name, len(msg.data))
            elif msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                break


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class MarketStream(_Supervisor):
    """Combined market-data connection with local depth books per symbol."""

    name = "market"

    def __init__(self, rest: AsterRestClient, ws_url: str, publish: Publish, *, book_depth: int = 15,
                 snapshot_limit: int = 1000, backoff_base_s: float = 0.2, backoff_cap_s: float = 5.0,
                 heartbeat_s: float = 60.0, rng: random.Random | None = None) -> None:
        super().__init__(publish, backoff_base_s=backoff_base_s, backoff_cap_s=backoff_cap_s, rng=rng,
                         heartbeat_s=heartbeat_s)
        self._rest = rest
        self._url = ws_url.rstrip("/")
        self._depth = book_depth
        self._snapshot_limit = snapshot_limit
        self.symbols: list[str] = []
        self.books: dict[str, DepthBook] = {}
        self._snapshots: dict[str, asyncio.Task[None]] = {}
        self.snapshot_count = 0
        self._next_id = 0

    async def add(self, symbols: list[str]) -> None:
        """Follow more symbols: subscribe on the live connection, or on the next one."""
        new = [s for s in symbols if s not in self.symbols]
        if not new:
            self.start()
            return
        self.symbols.extend(new)
        for symbol in new:
            self.books[symbol] = DepthBook(symbol)
        if self._ws is not None and not self._ws.closed and self.connected.is_set():
            self._next_id += 1
            names = [n for s in new for n in market_streams(s)]
            await self._ws.send_str(orjson.dumps({"method": "SUBSCRIBE", "params": names, "id": self._next_id})
                                    .decode())
            for symbol in new:
                self._request_snapshot(symbol)
        self.start()

    async def _session_once(self) -> None:
        names = [n for s in self.symbols for n in market_streams(s)]
        self._ws = await self._connect(f"{self._url}/stream?streams={'/'.join(names)}")
        for book in self.books.values():
            book.reset()
        self.connects += 1
        self.connected.set()
        self._event(ConnectionState.CONNECTED if self.connects == 1 else ConnectionState.RESYNCED,
                    f"{len(self.symbols)} symbol(s)")
        for symbol in self.symbols:
            self._request_snapshot(symbol)
        async for message in self._frames():
            try:
                self.handle(message)
            except MalformedMessage as exc:
                log.warning("aster market: %s", exc)

    def handle(self, message: Any) -> None:
        """Route one decoded frame (combined or raw) to the right mapper."""
        stream, data = m.unwrap_stream(message)
        kind = data.get("e")
        if kind == "depthUpdate":
            diff = m.depth_diff_from_stream(data)
            book = self.books.get(diff.market)
            if book is None:
                return
            result = book.on_diff(diff)
            if result is DepthResult.APPLIED:
                self._publish(book.top(self._depth))
            elif result is DepthResult.GAP:
                log.info("aster %s depth gap (pu %d != %d): re-snapshot", diff.market, diff.prev_final_id,
                         book.last_update_id)
                self._request_snapshot(diff.market)
        elif kind == "bookTicker":
            self._publish(m.quote_from_book_ticker(data))
        elif kind == "aggTrade":
            self._publish(m.trade_from_agg_trade(data))
        elif kind == "markPriceUpdate":
            self._publish(m.mark_price_from_json(data))
        elif "result" in data or "code" in data:
            if data.get("code") is not None:
                log.warning("aster market control error: %s", data)
        elif stream is not None:
            log.debug("aster market: unhandled stream %s", stream)

    def _request_snapshot(self, symbol: str) -> None:
        running = self._snapshots.get(symbol)
        if running is None or running.done():
            self._snapshots[symbol] = asyncio.create_task(self._snapshot(symbol), name=f"aster-snapshot-{symbol}")

    async def _snapshot(self, symbol: str) -> None:
        book = self.books[symbol]
        for attempt in range(10):
            await asyncio.sleep(0.05 * attempt)  # let a few diffs buffer so the snapshot can join them
            try:
                snap = await self._rest.depth(symbol, self._snapshot_limit)
            except ExchangeError as exc:
                log.info("aster %s snapshot failed: %s", symbol, exc)
                continue
            self.snapshot_count += 1
            if book.apply_snapshot(snap.seq_no, snap.bids, snap.asks, snap.ts):
                top = book.top(self._depth)
                self._publish(type(top)(top.market, top.bids, top.asks, top.ts, top.seq_no, is_snapshot=True))
                return
        log.warning("aster %s: could not join a depth snapshot to the stream", symbol)

    async def close(self) -> None:
        for task in self._snapshots.values():
            task.cancel()
        await super().close()


class UserStream(_Supervisor):
    """The user data stream with listenKey creation, keep-alive and re-creation."""

    name = "user"

    def __init__(self, rest: AsterRestClient, ws_url: str, publish: Publish, resync: Resync, *,
                 keepalive_s: float = 30 * 60, backoff_base_s: float = 0.2, backoff_cap_s: float = 5.0,
                 heartbeat_s: float = 60.0, rng: random.Random | None = None,
                 on_account_update: Callable[[], None] | None = None) -> None:
        super().__init__(publish, backoff_base_s=backoff_base_s, backoff_cap_s=backoff_cap_s, rng=rng,
                         heartbeat_s=heartbeat_s)
        self._rest = rest
        self._url = ws_url.rstrip("/")
        self._resync = resync
        self._keepalive_s = keepalive_s
        self._on_account_update = on_account_update
        self.listen_key: str | None = None
        self.listen_keys_created = 0
        self.expirations = 0
        self.resyncs = 0

    async def _session_once(self) -> None:
        self.listen_key = await self._rest.new_listen_key()
        self.listen_keys_created += 1
        self._ws = await self._connect(f"{self._url}/ws/{self.listen_key}")
        keepalive = asyncio.create_task(self._keep_alive(self.listen_key), name="aster-listenkey-keepalive")
        try:
            self.connects += 1
            if self.connects > 1:
                await self._resync()  # anything may have happened while no stream was listening
                self.resyncs += 1
                self._event(ConnectionState.RESYNCED, "new listenKey, state re-read")
            else:
                self._event(ConnectionState.CONNECTED, "listening")
            self.connected.set()
            async for message in self._frames():
                if self._dispatch(message):
                    return  # listenKeyExpired: go round again with a new key
        finally:
            keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await keepalive

    def _dispatch(self, message: Any) -> bool:
        """Publish the events of one frame; True when the listenKey expired."""
        _, data = m.unwrap_stream(message)
        try:
            events = m.events_from_user_stream(data)
        except MalformedMessage as exc:
            log.warning("aster user stream: %s", exc)
            return False
        for event in events:
            self._publish(event)
        if data.get("e") == "listenKeyExpired":
            self.expirations += 1
            return True
        if data.get("e") == "ACCOUNT_UPDATE" and self._on_account_update is not None:
            self._on_account_update()  # it carries no available balance: the owner polls it
        return False

    async def _keep_alive(self, key: str) -> None:
        while True:
            await asyncio.sleep(self._keepalive_s)
            try:
                await self._rest.keep_alive_listen_key(key)
            except ExchangeError as exc:
                if getattr(exc, "aster_code", None) == -1125 and self._ws is not None:
                    await self._ws.close()  # the key is gone: reconnect with a new one
                    return
                log.info("aster listenKey keep-alive failed: %s", exc)
