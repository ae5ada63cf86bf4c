"""JSON-RPC 2.0 methods of the simulated Paradex WebSocket (protocol/paradex.md §6.2, error codes §3).

Every answer carries ``usIn``/``usOut``/``usDiff`` (µs). Errors use the documented codes: -32700 parse,
-32600 invalid request, -32601 unknown method, -32602 bad params, 40110 malformed bearer, 40111 invalid
bearer, 40300 not authenticated, 42901 rate limit, and 100 for a venue error from an order method (its
``message`` is the venue code such as ``INVALID_ORDER_SIGNATURE``, ``data`` the explanation).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson

from flashscalper.sim.orders import SimRequestError
from flashscalper.sim.paradex import render
from flashscalper.sim.paradex.orders_in import check_timestamp, parse_order, verify_order
from flashscalper.sim.paradex.registry import ParadexAccount
from flashscalper.sim.paradex.wire import ApiError
from flashscalper.sim.paradex.ws_channels import ChannelError, parse_channel
from flashscalper.sim.paradex.ws_session import WsSession
from flashscalper.sim.tokens import TokenError

if TYPE_CHECKING:
    from flashscalper.sim.paradex.ws import ParadexWsHub

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
METHOD_ERROR = 100
BEARER_MALFORMED = 40110
BEARER_INVALID = 40111
NOT_AUTHENTICATED = 40300
RATE_LIMITED = 42901

# venue codes that mean "the params are wrong" rather than "the venue refused the order"
_PARAM_CODES = frozenset({"BINDING_ERROR", "VALIDATION_ERROR", "INVALID_REQUEST_PARAMETER", "MARKET_NOT_FOUND"})


class RpcError(Exception):
    """An error answer: JSON-RPC ``code``, ``message`` and optional ``data``."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.data = data


Method = Callable[[WsSession, Any], Awaitable[Any]]


def _now_us() -> int:
    return time.time_ns() // 1000


class RpcDispatcher:
    """Parses requests, runs methods and queues the answers on the session's control queue."""

    def __init__(self, hub: ParadexWsHub) -> None:
        self.hub = hub
        self.methods: dict[str, Method] = {
            "auth": self.auth,
            "subscribe": self.subscribe,
            "unsubscribe": self.unsubscribe,
            "order.create": self.order_create,
            "order.cancel": self.order_cancel,
            "order.cancel_all": self.order_cancel_all,
            "order.cancel_on_disconnect": self.cancel_on_disconnect,
        }

    def reject(self, session: WsSession, code: int, message: str, data: Any = None) -> None:
        """Answer a frame that is not a request at all (id null)."""
        now = _now_us()
        error = {"code": code, "message": message, **({"data": data} if data is not None else {})}
        session.push_control(orjson.dumps({"jsonrpc": "2.0", "id": None, "error": error, "usIn": now,
                                           "usOut": now, "usDiff": 0}).decode())

    async def dispatch(self, session: WsSession, text: str | bytes) -> None:
        """Handle one text frame; always answers requests that carry an id, and every malformed frame."""
        us_in = _now_us()
        started = time.perf_counter_ns()
        rid: Any = None
        after: list[Callable[[], None]] = []
        try:
            try:
                message = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                raise RpcError(PARSE_ERROR, "Parse error", str(exc)[:120]) from None
            if not isinstance(message, dict):
                raise RpcError(INVALID_REQUEST, "Invalid Request", "a request must be a JSON object")
            rid = message.get("id")
            if not isinstance(rid, int | str) or isinstance(rid, bool):
                rid = None
            method = message.get("method")
            if message.get("jsonrpc") != "2.0" or not isinstance(method, str):
                raise RpcError(INVALID_REQUEST, "Invalid Request", 'expected {"jsonrpc":"2.0","method":...,"id":...}')
            handler = self.methods.get(method)
            if handler is None:
                raise RpcError(METHOD_NOT_FOUND, "Method not found", f"unknown method {method[:60]!r}")
            params = message.get("params", {})
            if params is None:
                params = {}
            if not isinstance(params, dict):
                raise RpcError(INVALID_PARAMS, "Invalid params", "params must be a JSON object")
            result = await handler(session, params)
            if isinstance(result, tuple):  # (result, things to queue after the answer)
                result, after = result[0], result[1]
            body: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "result": result}
        except RpcError as exc:
            error: dict[str, Any] = {"code": exc.code, "message": exc.message}
            if exc.data is not None:
                error["data"] = exc.data
            body = {"jsonrpc": "2.0", "id": rid, "error": error}
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug here must not kill the connection
            self.hub.log_exception("paradex ws request failed")
            body = {"jsonrpc": "2.0", "id": rid,
                    "error": {"code": INTERNAL_ERROR, "message": "Internal error", "data": type(exc).__name__}}
        diff = (time.perf_counter_ns() - started) // 1000
        body.update(usIn=us_in, usOut=us_in + diff, usDiff=diff)
        session.push_control(orjson.dumps(body, default=str).decode())
        for push in after:
            push()

    # ---- auth and subscriptions -----------------------------------------------------------------

    async def auth(self, session: WsSession, params: dict[str, Any]) -> Any:
        bearer = params.get("bearer")
        if not isinstance(bearer, str) or bearer.count(".") != 2:
            raise RpcError(BEARER_MALFORMED, "malformed bearer token", "params.bearer must be a JWT")
        try:
            account = self.hub.sim.tokens.verify(bearer.removeprefix("Bearer ").strip())
        except TokenError as exc:
            raise RpcError(BEARER_INVALID, "invalid bearer token", str(exc)[:160]) from None
        self.hub.authenticate(session, account)
        return {"node_id": self.hub.settings.node_id}

    async def subscribe(self, session: WsSession, params: dict[str, Any]) -> Any:
        channel = self._channel(params)
        if channel.private and session.account is None:
            raise RpcError(NOT_AUTHENTICATED, "not authenticated", f"call auth before subscribing to {channel.name}")
        if channel.name in session.subscriptions:
            raise RpcError(METHOD_ERROR, f"already subscribed to {channel.name}")
        initial = self.hub.subscribe(session, channel)
        return {"channel": channel.name}, initial

    async def unsubscribe(self, session: WsSession, params: dict[str, Any]) -> Any:
        channel = self._channel(params)
        if channel.name not in session.subscriptions:
            raise RpcError(METHOD_ERROR, f"not subscribed to {channel.name}")
        self.hub.unsubscribe(session, channel)
        return {"channel": channel.name}

    def _channel(self, params: dict[str, Any]) -> Any:
        try:
            return parse_channel(params.get("channel"), self.hub.sim.exchange.specs)
        except ChannelError as exc:
            raise RpcError(INVALID_PARAMS, "Invalid params", str(exc)) from None

    # ---- order entry ----------------------------------------------------------------------------

    def _trader(self, session: WsSession) -> ParadexAccount:
        """The session's onboarded account, after the auth and rate-limit checks of order methods."""
        if session.account is None:
            raise RpcError(NOT_AUTHENTICATED, "not authenticated", "call auth before order methods")
        account = self.hub.registry.by_id(session.account)
        if account is None:
            raise RpcError(METHOD_ERROR, "NOT_ONBOARDED", "User has never called /onboarding endpoint")
        state = self.hub.sim.limiter.take("orders", account.id)
        if not state.allowed:
            raise RpcError(RATE_LIMITED, "rate limit exceeded", f"retry in {state.retry_after_s:.3f}s")
        return account

    async def _venue(self, call: Callable[[], Any]) -> Any:
        """Run an engine/venue call, mapping its errors; holds the answer for the ack-delay fault."""
        try:
            result = call()
        except ApiError as exc:
            code = INVALID_PARAMS if exc.code in _PARAM_CODES else METHOD_ERROR
            raise RpcError(code, exc.code, exc.message) from None
        except SimRequestError as exc:
            raise RpcError(METHOD_ERROR, exc.code, exc.message) from None
        delay = self.hub.sim.faults.settings.ack_delay_ms
        if delay > 0:
            await asyncio.sleep(delay / 1000)
        return result

    async def order_create(self, session: WsSession, params: dict[str, Any]) -> Any:
        account = self._trader(session)
        sim, registry = self.hub.sim, self.hub.registry

        def create() -> dict[str, Any]:
            now = sim.clock.time_ms()
            incoming = parse_order(params, sim.exchange.specs, account.id, now)
            check_timestamp(incoming.timestamp_ms, incoming.recv_window_ms, now)
            verify_order(incoming, registry.chain_id, account)
            with registry.submitting(incoming.meta):
                order = sim.exchange.submit_order(account.id, incoming.request, stp=incoming.stp)
            registry.remember(order.id, incoming.meta)
            return {"order": render.order_ack(order, incoming.meta), "created_at": order.created_at,
                    "received_at": now}

        return await self._venue(create)

    async def order_cancel(self, session: WsSession, params: dict[str, Any]) -> Any:
        account = self._trader(session)
        ex = self.hub.sim.exchange
        order_id, client_id, market = params.get("id"), params.get("client_id"), params.get("market")
        if isinstance(order_id, str) and order_id:
            order = await self._venue(lambda: ex.cancel_order(account.id, order_id))
        elif isinstance(client_id, str) and client_id:
            _check_market(market, ex.specs)
            order = await self._venue(lambda: ex.cancel_order_by_client_id(account.id, client_id, market))
        else:
            raise RpcError(INVALID_PARAMS, "Invalid params", "give id, or client_id (and market)")
        return {"order_id": order.id, "status": "QUEUED_FOR_CANCELLATION"}

    async def order_cancel_all(self, session: WsSession, params: dict[str, Any]) -> Any:
        account = self._trader(session)
        ex = self.hub.sim.exchange
        market = params.get("market")
        _check_market(market, ex.specs)
        await self._venue(lambda: ex.cancel_all(account.id, market))
        return {"status": "ok"}

    async def cancel_on_disconnect(self, session: WsSession, params: dict[str, Any]) -> Any:
        if session.account is None:
            raise RpcError(NOT_AUTHENTICATED, "not authenticated", "call auth before order methods")
        enabled = params.get("enabled")
        if not isinstance(enabled, bool):
            raise RpcError(INVALID_PARAMS, "Invalid params", "params.enabled must be true or false")
        session.cancel_on_disconnect = enabled
        return {"enabled": enabled}


def _check_market(market: Any, markets: dict[str, Any]) -> None:
    """An optional ``market`` param must be a known symbol."""
    if market is not None and (not isinstance(market, str) or market not in markets):
        raise RpcError(INVALID_PARAMS, "MARKET_NOT_FOUND", f"unknown market {str(market)[:40]!r}")
