"""Resilient async Paradex WebSocket client (protocol/paradex.md §6).

One aiohttp connection carries JSON-RPC (auth, subscribe, cancel-on-disconnect) as text frames and
public market data as SBE binary frames (or JSON with ``WsConfig.sbe_public=False``). Frames are
mapped to domain events by ``StreamRouter`` and handed to one consumer through ``EventFeed``.

Lifecycle of a connection: refresh the JWT if it is near expiry → connect → ``auth`` → subscribe
every channel → re-arm cancel-on-disconnect → CONNECTED → (after a reconnect) ``resync()`` →
RESYNCED. A closed socket, a silent feed (no frame for ``stale_after_s``) or a 40110/40111 answer
ends it: DISCONNECTED, books dropped, jittered exponential backoff, and around again.

Seams for tests and the simulator: ``connector`` (how a socket is opened), ``clock``,
``token_provider``, ``resync``, ``book_snapshot``, ``rng``; ``auto_read=False`` plus ``pump_once()``
drive the socket by hand, and ``handle_frame()`` is the frame handler on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
import jwt
import orjson

from flashscalper.clock import Clock, WallClock
from flashscalper.domain import BookUpdate, ConnectionEvent, ConnectionState, Event
from flashscalper.errors import ExchangeError, ExchangeUnavailable, MalformedMessage

from .feed import EventFeed
from .rpc import TOKEN_ERROR_CODES, PendingRequests, WsAuthFailed, is_duplicate_subscription
from .sbe import SbeDecodeError, frame_to_payload
from .streams import PRIVATE_CHANNELS, StreamRouter, book_channel, channel_kind, is_private
from .transport import AiohttpConnector, Connector, WsConnection
from .ws_support import ThrottledLog, WsConfig, WsStats, with_sbe_query

if TYPE_CHECKING:
    from .rest import ParadexRestClient

__all__ = ["AiohttpConnector", "Connector", "ParadexWsClient", "WsConfig", "WsConnection", "rest_seams"]

log = logging.getLogger(__name__)

TokenProvider = Callable[[], Awaitable[str]]
Resync = Callable[[], Awaitable[None]]
BookSnapshot = Callable[[str], Awaitable[BookUpdate]]


_INBOUND = {aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY}


class ParadexWsClient:
    """Paradex WebSocket: subscriptions that survive reconnects, domain events out of ``events()``.

    >>> client = ParadexWsClient(settings.ws_url, token_provider=rest.jwt, resync=trader.resync)
    >>> await client.start(); await client.subscribe_market("BTC-USD-PERP"); await client.subscribe_private()
    >>> async for event in client.events(): ...
    """

    def __init__(self, url: str, *, config: WsConfig | None = None, token_provider: TokenProvider | None = None,
                 resync: Resync | None = None, book_snapshot: BookSnapshot | None = None,
                 connector: Connector | None = None, clock: Clock | None = None, rng: random.Random | None = None,
                 auto_read: bool = True, venue: str = "paradex") -> None:
        self.config = cfg = config or WsConfig()
        self.url = with_sbe_query(url, cfg) if cfg.sbe_public else url
        self.venue = venue
        self.stats = WsStats()
        self._token_provider = token_provider
        self._resync = resync
        self._book_snapshot = book_snapshot
        self._connector: Connector = connector or AiohttpConnector(timeout_s=cfg.connect_timeout_s,
                                                                  heartbeat_s=cfg.heartbeat_s)
        self._clock: Clock = clock or WallClock()
        self._rng = rng or random.Random()
        self._auto_read = auto_read
        self._feed = EventFeed(cfg.queue_size)
        self._router = StreamRouter(self._feed.publish, self._request_snapshot, book_depth=cfg.book_depth,
                                    dedup_size=cfg.dedup_size)
        self._logs = ThrottledLog(log, self._clock, cfg.log_interval_s)
        self._channels: dict[str, None] = {}  # what we want, in subscription order
        self._live: set[str] = set()  # subscribed (or being subscribed) on the current connection
        self._ws: WsConnection | None = None
        self._authed = False
        self._pending = PendingRequests()
        self._token: str | None = None
        self._token_exp: float | None = None
        self._force_refresh = False
        self._cancel_on_disconnect = cfg.cancel_on_disconnect
        self._supervisor: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[str] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._connected = asyncio.Event()
        self._ever_connected = False
        self._down_since: float | None = None
        self._closing = False

    # ---- public API ---------------------------------------------------------------------------

    def events(self) -> EventFeed:
        """The one async iterator of domain events (market, private and ConnectionEvent)."""
        return self._feed

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def book(self, market: str) -> Any:
        """The local ``LocalOrderBook`` of ``market`` (None before its first book message)."""
        tracker = self._router.books.get(market)
        return tracker.book if tracker is not None and tracker.ready else None

    def publish_recovered(self, event: Event) -> bool:
        """Hand a private event read back through REST (resync) to the consumer, deduplicated against the socket."""
        return self._router.recovered(event)

    async def start(self, *, wait: bool = True, timeout_s: float | None = None) -> None:
        """Run the connection supervisor in the background; by default wait for the first CONNECTED."""
        if self._supervisor is None:
            self._closing = False
            self._supervisor = asyncio.create_task(self._supervise(), name="paradex-ws")
        if wait:
            await asyncio.wait_for(self._connected.wait(), timeout_s)

    async def close(self) -> None:
        """Stop reconnecting, close the socket and end ``events()`` after what is buffered."""
        self._closing = True
        for task in (self._supervisor, self._reader, *self._tasks):
            if task is not None:
                task.cancel()
        for task in (self._supervisor, self._reader, *self._tasks):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._supervisor = self._reader = None
        await self._drop_socket("client closed")
        close = getattr(self._connector, "close", None)
        if close is not None:
            await close()
        self._feed.close()

    async def subscribe(self, channel: str) -> None:
        """Subscribe now if connected, and again after every reconnect."""
        if is_private(channel) and self._token_provider is None:
            raise ExchangeError(f"{channel} is a private channel: pass token_provider to the client")
        self._channels.setdefault(channel, None)
        if self._ws is not None and self._authed and channel not in self._live:
            try:
                await self._subscribe_live(channel)
            except ExchangeUnavailable:
                pass  # the socket went away meanwhile; the next connection subscribes it
            except Exception:
                self._channels.pop(channel, None)
                raise

    async def unsubscribe(self, channel: str) -> None:
        self._channels.pop(channel, None)
        if channel in self._live and self._ws is not None:
            self._live.discard(channel)
            with contextlib.suppress(ExchangeUnavailable):
                await self.request("unsubscribe", {"channel": channel})

    async def subscribe_market(self, market: str, *, bbo: bool = True, trades: bool = True, book: bool = True,
                               funding: bool = False, summary: bool = True) -> None:
        """The public channels a scalper needs for one market."""
        channels = [bbo_name for bbo_name, on in ((f"bbo.{market}", bbo), (f"trades.{market}", trades)) if on]
        if book:
            channels.append(book_channel(market, "deltas", self.config.book_rate, self.config.book_depth))
        if funding:
            channels.append(f"funding_data.{market}")
        if summary:
            channels.append("markets_summary")
        for channel in channels:
            await self.subscribe(channel)

    async def subscribe_private(self) -> None:
        """orders.ALL, fills.ALL, positions, account and balance_events."""
        for channel in PRIVATE_CHANNELS:
            await self.subscribe(channel)

    async def set_cancel_on_disconnect(self, enabled: bool) -> None:
        """Arm (or disarm) cancel-on-disconnect now and after every reconnect."""
        self._cancel_on_disconnect = enabled
        if self._ws is not None and self._authed:
            await self.request("order.cancel_on_disconnect", {"enabled": enabled})

    async def request(self, method: str, params: Mapping[str, Any] | None = None, *,
                      timeout_s: float | None = None) -> Any:
        """Send one JSON-RPC request and await its result (typed error on an error answer)."""
        ws = self._ws
        if ws is None:
            raise ExchangeUnavailable(f"{method}: not connected; it will be retried after the reconnect")
        rid, future, frame = self._pending.open(method, params)
        limit = self.config.request_timeout_s if timeout_s is None else timeout_s
        try:
            await ws.send_str(frame)
            if self._auto_read:
                return await asyncio.wait_for(future, limit)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + limit
            while not future.done():  # nobody else reads the socket: pump it ourselves
                if not await self.pump_once(max(deadline - loop.time(), 0.001)):
                    break
            if not future.done():
                raise TimeoutError
            return future.result()
        except TimeoutError:
            raise ExchangeUnavailable(f"{method}: no answer within {limit:g}s") from None
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
            raise ExchangeUnavailable(f"{method}: could not send ({exc})") from None
        finally:
            self._pending.discard(rid)

    async def connect_once(self) -> None:
        """Open one connection and run the handshake (used by the supervisor and by pumped tests)."""
        reconnect = self._ever_connected
        token = await self._fresh_token() if self._token_provider is not None else None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        ws = await self._connector(self.url, headers)
        self._ws, self._authed, self._live = ws, False, set()
        if self._auto_read:
            self._reader = asyncio.create_task(self._read_loop(ws), name="paradex-ws-reader")
        try:
            if token is not None:
                await self.request("auth", {"bearer": token})
            self._authed = True
            await self._subscribe_all()
            if self._cancel_on_disconnect:
                await self.request("order.cancel_on_disconnect", {"enabled": True})
            self._ever_connected = True
            self._connected.set()
            self._emit(ConnectionState.CONNECTED, "reconnected" if reconnect else "connected")
            if reconnect and self._resync is not None:
                await self._resync()
                self._emit(ConnectionState.RESYNCED, "state re-read after reconnect")
        except BaseException:
            self._connected.clear()
            reader, self._reader = self._reader, None
            if reader is not None:
                reader.cancel()
            await self._drop_socket("handshake failed")
            raise
        if self._down_since is not None:
            self.stats.reconnect_durations.append(self._clock.monotonic() - self._down_since)
            self._down_since = None

    async def pump_once(self, timeout_s: float | None = None) -> bool:
        """Read and handle one frame from the socket (``auto_read=False``). False on close or timeout."""
        ws = self._ws
        if ws is None:
            return False
        try:
            msg = await ws.receive(timeout=timeout_s)
        except TimeoutError:
            return False
        if msg.type in _INBOUND:
            self.handle_frame(msg.data)
            return True
        return False

    def handle_frame(self, data: bytes | bytearray | str) -> None:
        """Decode and route one frame. Never raises: bad frames are counted, logged (throttled) and skipped."""
        stats = self.stats
        stats.messages += 1
        stats.bytes += len(data)
        try:
            if isinstance(data, str):
                stats.text_frames += 1
                self._on_text(data)
            else:
                stats.binary_frames += 1
                kind, payload = frame_to_payload(data)
                self._router.route(kind, payload)
        except SbeDecodeError as exc:
            stats.decode_errors += 1
            self._logs.warning("sbe", "skipped a bad SBE frame: %s", exc)
        except orjson.JSONDecodeError as exc:
            stats.decode_errors += 1
            self._logs.warning("json", "skipped a text frame that is not JSON: %s", exc)
        except MalformedMessage as exc:
            stats.mapping_errors += 1
            self._logs.warning("mapping", "skipped a message we could not map: %s", exc)
        except Exception as exc:  # a bug must not kill the feed; count it and keep reading
            stats.internal_errors += 1
            self._logs.exception("internal", "frame handler failed: %r", exc)

    # ---- frames -------------------------------------------------------------------------------

    def _on_text(self, text: str) -> None:
        msg = orjson.loads(text)
        if not isinstance(msg, dict):
            raise MalformedMessage(f"JSON-RPC frame is a {type(msg).__name__}, not an object")
        if msg.get("method") == "subscription":
            params = msg.get("params")
            if not isinstance(params, dict) or not isinstance(params.get("channel"), str):
                raise MalformedMessage("subscription frame lacks params.channel")
            self._router.route(channel_kind(params["channel"]), params.get("data"))
            return
        if "id" in msg and ("result" in msg or "error" in msg):
            error = self._pending.resolve(msg)
            if error is not None:
                self.stats.rpc_errors += 1
                if isinstance(error, WsAuthFailed) and error.rpc_code in TOKEN_ERROR_CODES:
                    self._force_refresh = True
                    if self._authed:  # a live connection lost its auth: reconnect with a fresh JWT
                        self._spawn(self._drop_socket(f"auth error {error.rpc_code}"))
            return
        raise MalformedMessage(f"unexpected JSON-RPC frame: {text[:80]}")

    async def _read_loop(self, ws: WsConnection) -> str:
        stale = self.config.stale_after_s
        handle = self.handle_frame
        while True:
            try:
                msg = await ws.receive(timeout=stale)
            except TimeoutError:
                self.stats.stale_disconnects += 1
                return f"no frame for {stale:g}s"
            if msg.type in _INBOUND:
                handle(msg.data)
            elif msg.type is aiohttp.WSMsgType.ERROR:
                return f"socket error: {msg.data!r}"
            elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                return f"closed by server (code {getattr(ws, 'close_code', None)})"

    # ---- connection supervision ---------------------------------------------------------------

    async def _supervise(self) -> None:
        failures = 0
        while not self._closing:
            try:
                await self.connect_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # refused, timed out, auth or resync failed: all mean "try again later"
                self.stats.connect_failures += 1
                if isinstance(exc, WsAuthFailed) and exc.rpc_code in TOKEN_ERROR_CODES:
                    self._force_refresh = True
                self._logs.warning("connect", "connect to %s failed (%s); retrying", self.url, exc)
                await asyncio.sleep(self._backoff(failures))
                failures += 1
                continue
            failures = 0
            reader = self._reader
            reason = await reader if reader is not None else "no reader"
            await self._on_disconnected(reason)
            if not self._closing:
                await asyncio.sleep(self._backoff(0))

    async def _on_disconnected(self, reason: str) -> None:
        self.stats.reconnects += 1
        self._down_since = self._clock.monotonic()
        self._connected.clear()
        await self._drop_socket(reason)
        self._emit(ConnectionState.DISCONNECTED, reason)
        self._logs.warning("disconnect", "Paradex WS disconnected: %s; reconnecting", reason)

    async def _drop_socket(self, reason: str) -> None:
        ws, self._ws = self._ws, None
        self._authed = False
        self._live = set()
        self._pending.fail_all(reason)
        self._router.reset_books()  # missed deltas: every book waits for a fresh snapshot
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        if ws is not None and not ws.closed:
            with contextlib.suppress(Exception):
                await ws.close()

    def _backoff(self, failures: int) -> float:
        """Equal-jitter exponential backoff: half the step fixed, half random, capped."""
        cfg = self.config
        step = min(cfg.backoff_cap_s, cfg.backoff_base_s * 2 ** min(failures, 30))
        return step / 2 + self._rng.random() * step / 2

    async def _fresh_token(self) -> str:
        assert self._token_provider is not None
        margin = self.config.jwt_refresh_margin_s
        now = self._clock.time_ms() / 1000
        stale = self._token is None or (self._token_exp is not None and self._token_exp - now < margin)
        if self._force_refresh or stale:
            self._token = await self._token_provider()
            self._token_exp = jwt_expiry(self._token)
            self._force_refresh = False
            self.stats.token_refreshes += 1
        assert self._token is not None
        return self._token

    async def _subscribe_all(self) -> None:
        pending = [ch for ch in self._channels if ch not in self._live]
        results = await asyncio.gather(*(self._subscribe_live(ch) for ch in pending), return_exceptions=True)
        for channel, result in zip(pending, results, strict=True):
            if isinstance(result, ExchangeUnavailable | WsAuthFailed):
                raise result
            if isinstance(result, BaseException):
                self._channels.pop(channel, None)
                self._logs.warning("subscribe", "dropped channel %s: %s", channel, result)

    async def _subscribe_live(self, channel: str) -> None:
        self._live.add(channel)
        try:
            await self.request("subscribe", {"channel": channel})
        except Exception as exc:
            if is_duplicate_subscription(exc):
                return
            self._live.discard(channel)
            raise

    # ---- books --------------------------------------------------------------------------------

    def _request_snapshot(self, market: str) -> None:
        self.stats.resnapshots += 1
        if self._ws is not None:
            self._spawn(self._resnapshot(market))

    async def _resnapshot(self, market: str) -> None:
        tracker = self._router.tracker(market)
        try:
            if self._book_snapshot is not None:
                update = tracker.apply_rest_snapshot(await self._book_snapshot(market))
                if update is not None:
                    self._feed.publish(update)
                return
            # No REST: borrow the snapshot feed until the book is rebuilt.
            channel = book_channel(market, "snapshot", self.config.book_rate, self.config.book_depth)
            borrowed = channel not in self._channels
            if borrowed:
                await self._subscribe_live(channel)
            try:
                loop = asyncio.get_running_loop()
                deadline = loop.time() + self.config.request_timeout_s
                # polled: the rebuild happens inside the frame handler, which must stay callback-free
                while tracker.awaiting_snapshot and loop.time() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
            finally:
                if borrowed and self._ws is not None and channel not in self._channels:
                    self._live.discard(channel)
                    with contextlib.suppress(ExchangeError):
                        await self.request("unsubscribe", {"channel": channel})
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._logs.warning("snapshot", "re-snapshot of %s failed: %s", market, exc)
        finally:
            if tracker.awaiting_snapshot:
                tracker.awaiting_snapshot = False  # let the next delta ask again

    # ---- helpers ------------------------------------------------------------------------------

    def _emit(self, state: ConnectionState, detail: str) -> None:
        self._feed.publish(ConnectionEvent(self.venue, state, self._clock.time_ms(), detail))

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def stats_snapshot(self) -> dict[str, Any]:
        """Counters of the client, its router and its event feed, as one flat dict."""
        out = self.stats.as_dict()
        rs = self._router.stats
        out.update(duplicate_fills=rs.duplicate_fills, duplicate_orders=rs.duplicate_orders,
                   unknown_channels=rs.unknown_channels,
                   book_gaps=sum(t.gaps for t in self._router.books.values()),
                   book_rebuilds=sum(t.rebuilds for t in self._router.books.values()),
                   coalesced=self._feed.coalesced, dropped_trades=self._feed.dropped_trades,
                   queue_overflows=self._feed.overflows, queued=self._feed.qsize())
        return out


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim (unix seconds) of a JWT, read without verifying it; None when absent."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, int | float) else None


def rest_seams(rest: ParadexRestClient, *, depth: int = 15) -> dict[str, Any]:
    """``token_provider`` and ``book_snapshot`` backed by a ``ParadexRestClient`` (pass as ``**kwargs``)."""

    async def token() -> str:
        return await rest.jwt()

    async def snapshot(market: str) -> BookUpdate:
        return await rest.orderbook(market, depth)

    return {"token_provider": token, "book_snapshot": snapshot}
