"""The simulator's Aster WebSocket dialect (protocol/aster.md §11–§12).

* ``/aster/ws/<stream>`` raw (bare payloads), ``/aster/stream?streams=a/b`` combined (``{stream, data}``),
  ``/aster/ws`` with SUBSCRIBE control messages;
* ``/aster/ws/<listenKey>`` user data: ORDER_TRADE_UPDATE, ACCOUNT_UPDATE and, once the key expires,
  one ``listenKeyExpired`` after which nothing more is sent on that connection.

One engine listener renders each event once and queues it for the sessions that want it; each session
has its own writer task, which honours the fault switches (refused upgrades, stalls, delays, drops).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import WSMsgType, web

from flashscalper.sim.aster.gate import json_response
from flashscalper.sim.aster.registry import AsterRegistry, registry_of
from flashscalper.sim.aster.streams import MarketRenderer, Outgoing, UserRenderer
from flashscalper.sim.events import BookDeltaEvent, MarkPriceEvent, SimEvent, TradeEvent

if TYPE_CHECKING:
    from flashscalper.sim.server import Simulator

PREFIX = "/aster"
HEARTBEAT_S = 300.0  # the server pings every 5 minutes
MAX_STREAMS = 200
_PUBLIC = (BookDeltaEvent, TradeEvent, MarkPriceEvent)


@dataclass(eq=False)
class Session:
    """One client socket: the streams it wants (market) or the listenKey it follows (user)."""

    ws: web.WebSocketResponse
    combined: bool
    streams: set[str] = field(default_factory=set)
    listen_key: str | None = None
    account: str | None = None
    expired: bool = False
    queue: asyncio.Queue[Outgoing | None] = field(default_factory=asyncio.Queue)


class StreamHub:
    """Every live Aster socket of one simulator, fed by one engine listener."""

    def __init__(self, reg: AsterRegistry, expiry_check_s: float = 0.05) -> None:
        self.reg = reg
        self.sessions: set[Session] = set()
        self.market = MarketRenderer(reg)
        self.user = UserRenderer(reg)
        self.expiry_check_s = expiry_check_s
        self._watchdog: asyncio.Task[None] | None = None
        reg.sim.exchange.subscribe(self.on_event)
        reg.sim.faults.drop_hooks.append(self.drop_all)
        reg.sim.on_stop(self.close)

    def on_event(self, event: SimEvent) -> None:
        if not self.sessions:
            return
        if isinstance(event, _PUBLIC):
            wanted = set().union(*(s.streams for s in self.sessions))
            if not wanted:
                return
            for out in self.market.render(event, wanted):
                for session in self.sessions:
                    if out.stream in session.streams:
                        session.queue.put_nowait(out)
            return
        account = getattr(event, "account", None)
        for out in self.user.render(event):
            for session in self.sessions:
                if session.account == account and not session.expired:
                    session.queue.put_nowait(out)

    def check_expiry(self) -> None:
        """Send listenKeyExpired to user sessions whose key lapsed (once) and stop feeding them."""
        now = self.reg.sim.clock.time_ms()
        for session in self.sessions:
            if session.listen_key and not session.expired and self.reg.live_listen_key(session.listen_key) is None:
                session.expired = True
                session.queue.put_nowait(Outgoing("", {"e": "listenKeyExpired", "E": now,
                                                       "listenKey": session.listen_key}, public=False))

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.expiry_check_s)
            self.check_expiry()

    def _ensure_watchdog(self) -> None:
        if self._watchdog is None or self._watchdog.done():
            self._watchdog = asyncio.create_task(self._watch(), name="aster-listenkey-watchdog")

    async def drop_all(self) -> None:
        for session in list(self.sessions):
            await session.ws.close(code=1001, message=b"dropped by the simulator")

    async def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        await self.drop_all()

    # ---- one connection ------------------------------------------------------------------------

    async def serve(self, request: web.Request, session: Session) -> web.WebSocketResponse:
        ws = session.ws
        await ws.prepare(request)
        self.sessions.add(session)
        if session.listen_key:
            self._ensure_watchdog()
        writer = asyncio.create_task(self._write(session))
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    reply = self._control(session, msg.data)
                    if reply is not None:
                        session.queue.put_nowait(Outgoing("", reply, public=False))
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            self.sessions.discard(session)
            session.queue.put_nowait(None)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
        return ws

    async def _write(self, session: Session) -> None:
        faults = self.reg.sim.faults
        while True:
            item = await session.queue.get()
            if item is None:
                return
            if item.order_id and self.reg.extras_of(item.order_id).hidden:
                continue  # REST answered this order with an error: Aster shows no such order
            if faults.ws_stalled():  # hold frames until the stall is over
                await asyncio.sleep(max(faults.stall_until_ms - self.reg.sim.clock.time_ms(), 0) / 1000)
            if item.public and faults.settings.market_data_delay_ms:
                await asyncio.sleep(faults.settings.market_data_delay_ms / 1000)
            data = {"stream": item.stream, "data": item.payload} if session.combined and item.stream else item.payload
            try:
                await session.ws.send_str(orjson.dumps(data).decode())
            except (ConnectionError, RuntimeError):
                return

    def _control(self, session: Session, text: str) -> dict[str, Any] | None:
        """SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY (§11)."""
        try:
            msg = orjson.loads(text)
        except orjson.JSONDecodeError:
            return {"code": 3, "msg": "Invalid JSON"}
        if not isinstance(msg, dict):
            return {"code": 2, "msg": "Invalid request"}
        method, ident, params = msg.get("method"), msg.get("id"), msg.get("params", [])
        if not isinstance(ident, int) or ident < 0 or not isinstance(params, list):
            return {"code": 2, "msg": "Invalid request: id must be an unsigned integer", "id": ident}
        if method == "SUBSCRIBE":
            names = [str(p) for p in params]
            if len(session.streams | set(names)) > MAX_STREAMS:
                return {"code": 2, "msg": f"Invalid request: at most {MAX_STREAMS} streams", "id": ident}
            session.streams.update(names)
            return {"result": None, "id": ident}
        if method == "UNSUBSCRIBE":
            session.streams.difference_update(str(p) for p in params)
            return {"result": None, "id": ident}
        if method == "LIST_SUBSCRIPTIONS":
            return {"result": sorted(session.streams), "id": ident}
        if method == "SET_PROPERTY":
            if len(params) != 2 or params[0] != "combined":
                return {"code": 0, "msg": "Unknown property", "id": ident}
            if not isinstance(params[1], bool):
                return {"code": 1, "msg": "Invalid value type: expected Boolean", "id": ident}
            session.combined = params[1]
            return {"result": None, "id": ident}
        if method == "GET_PROPERTY":
            if params != ["combined"]:
                return {"code": 0, "msg": "Unknown property", "id": ident}
            return {"result": session.combined, "id": ident}
        return {"code": 2, "msg": f"Invalid request: unknown method {method!r}", "id": ident}


def register(app: web.Application, sim: Simulator) -> None:
    """Mount the Aster WebSocket dialect on ``app``."""
    reg = registry_of(sim)
    hub_box: list[StreamHub] = []

    def hub() -> StreamHub:
        if not hub_box:  # created inside the running loop (its watchdog is a task)
            hub_box.append(StreamHub(reg))
            sim.aster_streams = hub_box[0]  # type: ignore[attr-defined]
        return hub_box[0]

    def socket() -> web.WebSocketResponse:
        return web.WebSocketResponse(heartbeat=HEARTBEAT_S, autoping=True)

    async def raw(request: web.Request) -> web.StreamResponse:
        if sim.faults.ws_refused():
            return web.Response(status=503, text="service unavailable")
        name = request.match_info.get("name", "")
        if not name or "@" in name:
            return await hub().serve(request, Session(socket(), combined=False, streams={name} if name else set()))
        lk = reg.live_listen_key(name)
        if lk is None:
            return json_response({"code": -1125, "msg": "This listenKey does not exist."}, 400)
        return await hub().serve(request, Session(socket(), combined=False, listen_key=name, account=lk.account))

    async def combined(request: web.Request) -> web.StreamResponse:
        if sim.faults.ws_refused():
            return web.Response(status=503, text="service unavailable")
        names = {n for n in request.query.get("streams", "").split("/") if n}
        if len(names) > MAX_STREAMS:
            return json_response({"code": 2, "msg": f"at most {MAX_STREAMS} streams"}, 400)
        return await hub().serve(request, Session(socket(), combined=True, streams=names))

    app.router.add_get(f"{PREFIX}/ws", raw)
    app.router.add_get(PREFIX + "/ws/{name}", raw)
    app.router.add_get(f"{PREFIX}/stream", combined)
