"""A small Paradex WebSocket venue for the client tests: real aiohttp server on loopback.

It speaks the JSON-RPC of protocol/paradex.md §6 (auth, subscribe/unsubscribe with the
duplicate-subscribe error, cancel-on-disconnect), pushes ``"method":"subscription"`` frames (SBE
binary for public channels when the URL asks for it, via ``sbe.payload_to_frame``), serves
``GET /v1/orderbook/{market}`` for re-snapshots, and can drop or refuse connections.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from flashscalper.exchanges.paradex.sbe import payload_to_frame

PUBLIC_SBE_KINDS = {"bbo", "trades", "order_book", "markets_summary", "funding_data"}
PRIVATE_KINDS = {"orders", "fills", "positions", "account", "balance_events"}


@dataclass
class Conn:
    ws: web.WebSocketResponse
    sbe: bool
    authed: bool = False
    token: str = ""
    subs: set[str] = field(default_factory=set)
    cancel_on_disconnect: bool = False


class FakeParadexVenue:
    """Loopback WebSocket venue; ``accept_token`` decides which bearer tokens are valid."""

    def __init__(self, accept_token: Callable[[str], bool] = lambda t: t.startswith("jwt")) -> None:
        self.accept_token = accept_token
        self.refuse = False
        self.refused = 0
        self.connections: list[Conn] = []
        self.requests: list[tuple[int, str, Any]] = []  # (connection number, method, params)
        self.books: dict[str, dict[str, Any]] = {}  # REST /orderbook answers
        self.cancels_on_disconnect = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- lifecycle ----
    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/v1/ws", self._ws_handler)
        app.router.add_get("/v1/orderbook/{market}", self._orderbook)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        await self.drop_all()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/ws"

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def live(self) -> list[Conn]:
        return [c for c in self.connections if not c.ws.closed]

    # ---- control ----
    async def push(self, channel: str, data: Any) -> int:
        """Send ``data`` on ``channel`` to every connection subscribed to it; returns how many got it."""
        kind = channel.split(".", 1)[0]
        sent = 0
        for conn in self.live:
            if channel not in conn.subs:
                continue
            if conn.sbe and kind in PUBLIC_SBE_KINDS:
                await conn.ws.send_bytes(payload_to_frame(kind, data))
            else:
                frame = {"jsonrpc": "2.0", "method": "subscription", "params": {"channel": channel, "data": data}}
                await conn.ws.send_str(json.dumps(frame))
            sent += 1
        return sent

    async def send_raw(self, frame: str | bytes) -> None:
        for conn in self.live:
            if isinstance(frame, bytes):
                await conn.ws.send_bytes(frame)
            else:
                await conn.ws.send_str(frame)

    async def drop_all(self) -> None:
        for conn in self.live:
            await conn.ws.close()

    async def wait_for(self, predicate: Callable[[], bool], within_s: float = 5.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while not predicate():
            if loop.time() > deadline:
                raise AssertionError("venue condition not reached in time")
            await asyncio.sleep(0.005)

    def subscribed(self, channel: str) -> bool:
        return any(channel in c.subs for c in self.live)

    # ---- handlers ----
    async def _orderbook(self, request: web.Request) -> web.Response:
        book = self.books.get(request.match_info["market"])
        if book is None:
            return web.json_response({"error": "MARKET_NOT_FOUND", "message": "no book"}, status=404)
        return web.json_response(book)

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        if self.refuse:
            self.refused += 1
            return web.Response(status=503, text="maintenance")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = Conn(ws, sbe="sbeSchemaId" in request.query)
        self.connections.append(conn)
        number = len(self.connections)
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            req = json.loads(msg.data)
            method, params, rid = req.get("method"), req.get("params") or {}, req.get("id")
            self.requests.append((number, method, params))
            result, error = self._answer(conn, method, params)
            answer: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "usIn": 1, "usOut": 2, "usDiff": 1}
            if error is not None:
                answer["error"] = error
            else:
                answer["result"] = result
            await ws.send_str(json.dumps(answer))
        if conn.cancel_on_disconnect:
            self.cancels_on_disconnect += 1
        return ws

    def _answer(self, conn: Conn, method: str, params: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
        if method == "auth":
            token = params.get("bearer", "")
            if not self.accept_token(token):
                return None, {"code": 40111, "message": "invalid bearer jwt"}
            conn.authed, conn.token = True, token
            return {"node_id": "fake-node"}, None
        if method == "subscribe":
            channel = params.get("channel", "")
            if channel.split(".", 1)[0] in PRIVATE_KINDS and not conn.authed:
                return None, {"code": 40300, "message": "not authenticated"}
            if channel in conn.subs:
                return None, {"code": 100, "message": f"already subscribed to {channel}"}
            conn.subs.add(channel)
            return {"channel": channel}, None
        if method == "unsubscribe":
            channel = params.get("channel", "")
            if channel not in conn.subs:
                return None, {"code": 100, "message": f"not subscribed to {channel}"}
            conn.subs.discard(channel)
            return {"channel": channel}, None
        if method == "order.cancel_on_disconnect":
            if not conn.authed:
                return None, {"code": 40300, "message": "not authenticated"}
            conn.cancel_on_disconnect = bool(params.get("enabled"))
            return {"enabled": conn.cancel_on_disconnect}, None
        return None, {"code": -32601, "message": "method not found"}
