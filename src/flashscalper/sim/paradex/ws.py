"""The simulator's Paradex WebSocket at ``/v1/ws`` (protocol/paradex.md §6): JSON-RPC 2.0 control plane,
public channels as SBE binary frames (``?sbeSchemaId=1&sbeSchemaVersion=0..2``) or JSON text (no query:
the simulator's test mode), private channels after ``auth``, and the fault hooks.

    register(app, sim)            # mounts GET /v1/ws; Simulator does this for every dialect
    hub = ws_hub(sim)             # the ParadexWsHub: settings, connections, counters
    hub.settings.slow_consumer_limit = 200   # before connecting (tests)

One engine listener fans every event out to the subscribed connections. It only enqueues (per
connection, see :mod:`.ws_session`); each connection has one sender task, so a slow socket never blocks
the engine. The listener is attached while at least one connection is open, so an idle simulator's
engine builds no events for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import WSCloseCode, WSMsgType, web

from flashscalper.domain import ZERO
from flashscalper.exchanges.paradex import sbe_schema
from flashscalper.sim.events import (
    AccountEvent,
    BookDeltaEvent,
    FillEvent,
    FundingEvent,
    FundingRateEvent,
    MarkPriceEvent,
    OrderEvent,
    PositionEvent,
    SimEvent,
    TradeEvent,
)
from flashscalper.sim.paradex import render
from flashscalper.sim.paradex.registry import ParadexRegistry, registry_of
from flashscalper.sim.paradex.ws_channels import PRIVATE_MARKET_KINDS, PRIVATE_PLAIN_KINDS, Channel, parse_channel
from flashscalper.sim.paradex.ws_market import MarketFeeds
from flashscalper.sim.paradex.ws_rpc import INVALID_REQUEST, RpcDispatcher
from flashscalper.sim.paradex.ws_session import Payload, WsSession
from flashscalper.sim.tokens import TokenError

if TYPE_CHECKING:
    from flashscalper.sim.server import Simulator

log = logging.getLogger(__name__)

WS_PATH = "/v1/ws"
SBE_VERSIONS = range(0, sbe_schema.SCHEMA_VERSION + 1)
_BOOK_TICK_S = 0.05  # the fastest book rate; 100 ms feeds flush every other tick


@dataclass(slots=True)
class WsSettings:
    """Knobs of the WebSocket dialect. Change them before the connections they should apply to."""

    heartbeat_s: float = 55.0  # protocol ping interval (Paradex: 55 s; a missing pong closes the socket)
    slow_consumer_limit: int = 2000  # unread frames that get a connection closed
    node_id: str = "flashscalper-sim-1"
    max_message_bytes: int = 1 << 20


class ParadexWsHub:
    """Connections, subscriptions and the engine fan-out of the Paradex WebSocket dialect."""

    def __init__(self, sim: Simulator, settings: WsSettings | None = None) -> None:
        self.sim = sim
        self.settings = settings or WsSettings()
        self.registry: ParadexRegistry = registry_of(sim)
        self.sessions: set[WsSession] = set()
        self.subs: dict[str, set[WsSession]] = {}  # public channel name -> subscribed sessions
        self.by_account: dict[str, set[WsSession]] = {}  # engine account -> its authenticated sessions
        self.feeds = MarketFeeds(sim.exchange, self.subs, self._open_interest)
        self.rpc = RpcDispatcher(self)
        self.counters: dict[str, int] = {"connections": 0, "slow_consumer_closes": 0, "dropped": 0,
                                         "cancel_on_disconnect": 0}
        self._pending_fills: dict[str, list[FillEvent]] = {}  # account -> fills awaiting their account event
        self._detach: Callable[[], None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._next_id = 0

    # ---- connections ------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """``GET /v1/ws``: refuse (fault), check the SBE query, upgrade and serve until closed."""
        if self.sim.faults.ws_refused():
            return web.json_response({"error": "SERVICE_UNAVAILABLE", "message": "WebSocket upgrades refused "
                                      "(injected fault)", "data": None}, status=503)
        sbe_version = _sbe_version(request)
        if isinstance(sbe_version, web.Response):
            return sbe_version
        ws = web.WebSocketResponse(heartbeat=self.settings.heartbeat_s or None,
                                   max_msg_size=self.settings.max_message_bytes)
        await ws.prepare(request)
        self._next_id += 1
        faults = self.sim.faults
        session = WsSession(ws, conn_id=self._next_id, sbe_version=sbe_version,
                            limit=self.settings.slow_consumer_limit, stalled=faults.ws_stalled,
                            delay_s=lambda: faults.settings.market_data_delay_ms / 1000,
                            transport=request.transport)
        self.counters["connections"] += 1
        self._open(session)
        account = self._header_account(request)
        if account is not None:
            self.authenticate(session, account)
        session.start()
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self.rpc.dispatch(session, msg.data)
                elif msg.type is WSMsgType.BINARY:  # clients always send JSON text
                    self.rpc.reject(session, INVALID_REQUEST, "Invalid Request", "send JSON-RPC as text frames")
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            await self._closed(session)
        return ws

    def _header_account(self, request: web.Request) -> str | None:
        """An ``Authorization: Bearer`` header at connect authenticates the connection (as paradex-py
        sends it); a bad one is ignored, and the ``auth`` method then answers 40111."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            return self.sim.tokens.verify(token.strip())
        except TokenError:
            return None

    def _open(self, session: WsSession) -> None:
        if not self.sessions:
            self.feeds.reload()  # the mirror only follows deltas while attached
            self._detach = self.sim.exchange.subscribe(self._on_event)
            self._ticker = asyncio.create_task(self._tick_books(), name="paradex-ws-books")
        self.sessions.add(session)

    async def _closed(self, session: WsSession) -> None:
        """The connection ended (either side): cancel-on-disconnect, then forget the session."""
        if session.cancel_on_disconnect and session.account is not None:
            self.counters["cancel_on_disconnect"] += 1
            with contextlib.suppress(Exception):
                self.sim.exchange.cancel_all(session.account)
        if session.close_reason.startswith("slow consumer"):
            self.counters["slow_consumer_closes"] += 1
        for name in list(session.subscriptions):
            self._unindex(session, name)
        if session.account is not None:
            peers = self.by_account.get(session.account)
            if peers is not None:
                peers.discard(session)
                if not peers:
                    del self.by_account[session.account]
        self.sessions.discard(session)
        await session.stop_sender()
        if not self.sessions:
            self._stop_fanout()

    def _stop_fanout(self) -> None:
        if self._detach is not None:
            self._detach()
            self._detach = None
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        self._pending_fills.clear()

    async def drop_all(self) -> None:
        """Fault hook: close every connection (clients see the socket go away and must reconnect)."""
        sessions = list(self.sessions)
        self.counters["dropped"] += len(sessions)
        await asyncio.gather(*(s.close("dropped by fault injection", WSCloseCode.GOING_AWAY) for s in sessions),
                             return_exceptions=True)

    async def close_all(self) -> None:
        """Shutdown hook: close every connection before the HTTP server stops."""
        sessions = list(self.sessions)
        await asyncio.gather(*(s.close("simulator shutting down", WSCloseCode.GOING_AWAY) for s in sessions),
                             return_exceptions=True)
        self._stop_fanout()

    def log_exception(self, what: str) -> None:
        log.exception(what)

    # ---- auth and subscriptions (called by the RPC methods) ---------------------------------------

    def authenticate(self, session: WsSession, account: str) -> None:
        if session.account == account:
            return
        if session.account is not None:  # re-auth as someone else: private channels do not carry over
            self.by_account.get(session.account, set()).discard(session)
            for name in [n for n in session.subscriptions if _is_private_name(n)]:
                session.subscriptions.discard(name)
        session.account = account
        self.by_account.setdefault(account, set()).add(session)

    def subscribe(self, session: WsSession, channel: Channel) -> list[Callable[[], None]]:
        """Add the subscription; returns what to queue right after the answer (a book's snapshot...)."""
        session.subscriptions.add(channel.name)
        if channel.private:
            return []
        subscribers = self.subs.setdefault(channel.name, set())
        if not subscribers:
            self.feeds.track(channel)
        subscribers.add(session)
        payload, floor = self.feeds.initial(channel)
        if channel.feed == "deltas":
            session.book_floor[channel.name] = floor
        if payload is None:
            return []
        return [lambda: session.push_public((channel.name, payload))]

    def unsubscribe(self, session: WsSession, channel: Channel) -> None:
        session.subscriptions.discard(channel.name)
        self._unindex(session, channel.name, channel)

    def _unindex(self, session: WsSession, name: str, channel: Channel | None = None) -> None:
        session.book_floor.pop(name, None)
        subscribers = self.subs.get(name)
        if subscribers is None:
            return
        subscribers.discard(session)
        if not subscribers:
            del self.subs[name]
            if channel is None:
                channel = parse_channel(name, self.sim.exchange.specs)
            self.feeds.forget(channel)

    # ---- engine fan-out ---------------------------------------------------------------------------

    def _on_event(self, event: SimEvent) -> None:
        """The engine listener: runs synchronously inside engine operations, so it only enqueues."""
        try:
            if isinstance(event, BookDeltaEvent):
                self.feeds.on_book(event)
            elif isinstance(event, TradeEvent):
                self.feeds.on_trade(event)
            elif isinstance(event, MarkPriceEvent):
                self.feeds.on_mark(event)
            elif isinstance(event, FundingRateEvent):
                self.feeds.on_funding(event)
            elif event.account in self.by_account:
                self._on_private(event)
        except Exception:  # never break the engine's delivery loop
            log.exception("paradex ws fan-out failed for %s", type(event).__name__)

    def _on_private(self, event: Any) -> None:
        acct = event.account
        if isinstance(event, OrderEvent):
            o = event.order
            meta = self.registry.meta
            self._push_private(acct, (f"orders.{o.market}", "orders.ALL"),
                               Payload(lambda: render.order(o, meta(o.id, acct), account=acct)))
        elif isinstance(event, FillEvent):
            self._push_private(acct, (f"fills.{event.fill.market}", "fills.ALL"),
                               Payload(lambda: render.fill(event, account=acct)))
            self._pending_fills.setdefault(acct, []).append(event)
        elif isinstance(event, PositionEvent):
            index = self.sim.exchange.funding_index.get(event.position.market, ZERO)
            self._push_private(acct, ("positions",),
                               Payload(lambda: render.position(event.position, account=acct, funding_index=index)))
        elif isinstance(event, AccountEvent):
            self._push_private(acct, ("account",), Payload(lambda: render.account_summary(event.summary)))
            fills = self._pending_fills.pop(acct, None)
            if fills:  # balance_events need the collateral after the fill, which this event carries
                after = event.summary.total_collateral
                for fill_event in reversed(fills):
                    payload = _balance_event(fill_event, after, self.sim.exchange.funding_index)
                    after = Decimal(payload["settlement_asset_balance_before"])
                    self._push_private(acct, ("balance_events",), Payload(lambda p=payload: p))
        elif isinstance(event, FundingEvent):
            market = event.payment.market
            index = self.sim.exchange.funding_index.get(market, ZERO)
            self._push_private(acct, (f"funding_payments.{market}", "funding_payments.ALL"),
                               Payload(lambda: render.funding_payment(event, funding_index=index)))

    def _push_private(self, account: str, names: tuple[str, ...], payload: Payload) -> None:
        for session in self.by_account.get(account, ()):
            subscribed = session.subscriptions
            for name in names:
                if name in subscribed:
                    session.push_control((name, payload))

    async def _tick_books(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(_BOOK_TICK_S)
            try:
                self.feeds.flush_books(loop.time())
            except Exception:
                log.exception("paradex ws book flush failed")

    def _open_interest(self, market: str) -> Decimal:
        total = ZERO
        for account in self.registry.accounts():
            for pos in self.sim.exchange.positions(account.id):
                if pos.market == market and pos.size > 0:
                    total += pos.size
        return total


def _is_private_name(name: str) -> bool:
    kind = name.partition(".")[0]
    return kind in PRIVATE_MARKET_KINDS or kind in PRIVATE_PLAIN_KINDS


def _balance_event(event: FillEvent, after: Decimal, funding_index: dict[str, Decimal]) -> dict[str, Any]:
    """A ``balance_events`` row for one fill: the USDC balance moved by realized P&L minus the fee."""
    fill = event.fill
    before = after - fill.realized_pnl + fill.fee
    return {
        "type": "TRANSACTION_FILL", "fill_id": fill.id, "market": fill.market, "status": "ON_BLOCKCHAIN",
        "settlement_asset_name": "USDC", "settlement_asset_address": "0x0",
        "settlement_asset_balance_before": render.dec(before), "settlement_asset_balance_after": render.dec(after),
        "settlement_asset_price": "1", "funding_index": render.dec(funding_index.get(fill.market, ZERO)),
        "realized_pnl": render.dec(fill.realized_pnl), "realized_funding": "0", "fees": render.dec(fill.fee),
        "created_at": fill.ts,
    }


def _sbe_version(request: web.Request) -> int | web.Response | None:
    """None for JSON mode; the SBE schema version asked for; or the HTTP 400 answer for a bad query."""
    schema_id, version = request.query.get("sbeSchemaId"), request.query.get("sbeSchemaVersion")
    if schema_id is None and version is None:
        return None
    if schema_id != str(sbe_schema.SCHEMA_ID) or version is None or not version.isdigit() \
            or int(version) not in SBE_VERSIONS:
        return web.json_response(
            {"error": "UNSUPPORTED_SBE_SCHEMA", "message": f"sbeSchemaId must be {sbe_schema.SCHEMA_ID} and "
             f"sbeSchemaVersion one of {list(SBE_VERSIONS)}", "data": None}, status=400)
    return int(version)


def ws_hub(sim: Simulator) -> ParadexWsHub:
    """The hub ``register`` mounted on ``sim``."""
    return sim.app[HUB_KEY]


HUB_KEY = web.AppKey("paradex_ws_hub", ParadexWsHub)


def register(app: web.Application, sim: Simulator) -> None:
    """Mount ``GET /v1/ws`` and hook the fault switchboard (drop) and shutdown (close) to this dialect."""
    hub = ParadexWsHub(sim)
    app[HUB_KEY] = hub
    app.router.add_get(WS_PATH, hub.handle)
    sim.faults.drop_hooks.append(hub.drop_all)
    sim.on_stop(hub.close_all)
