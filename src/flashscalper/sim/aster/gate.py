"""The front door of every simulated Aster REST call: faults, request weight, auth, and error bodies.

``endpoint(weight, security)`` wraps a handler ``async (request, AsterCall) -> JSON``. It answers like the
venue does (protocol/aster.md §2, §10):

* every answer carries ``X-MBX-USED-WEIGHT-1M``; over the weight limit → HTTP 429 ``-1003`` with
  ``Retry-After``; an IP that keeps sending through 429s gets HTTP 418 (banned for ``ban_ms``);
* V1 (``/fapi/v1``, ``v2``, ``v4``): ``X-MBX-APIKEY`` + HMAC-SHA256 over query+body, with the
  timestamp/recvWindow rule (``-1021``); USER_STREAM needs only the key;
* V3 (``/fapi/v3``): ``user``/``signer``/``nonce``/``signature`` with an EIP-712 signature recovered to
  ``signer`` and a per-user nonce window (``-4225``);
* errors are ``{"code": <negative>, "msg": …}`` with the code's HTTP status.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from flashscalper.exchanges.aster.auth import (
    MAINNET_CHAIN_ID,
    MAX_RECV_WINDOW_MS,
    NonceVerdict,
    split_signature,
    timestamp_within_window,
    verify_agent_signature,
    verify_hmac,
)
from flashscalper.exchanges.aster.errors import AsterApiError

if TYPE_CHECKING:
    from flashscalper.sim.aster.registry import AsterRegistry

WEIGHT_LIMIT = (2400, 60.0)  # REQUEST_WEIGHT per IP per minute (the docs' sample value)
ORDER_LIMIT = (1200, 60.0)  # ORDERS per account per minute

NONE, USER_STREAM, SIGNED = "NONE", "USER_STREAM", "SIGNED"


@dataclass(slots=True)
class AsterCall:
    """One authenticated request: merged params (query wins over body) and the engine account, if any."""

    params: dict[str, str]
    account: str | None
    v3: bool
    headers: dict[str, str] = field(default_factory=dict)

    def require(self, key: str) -> str:
        value = self.params.get(key)
        if not value:
            raise AsterApiError(-1102, f"Mandatory parameter '{key}' was not sent, was empty/null, or malformed.")
        return value

    @property
    def account_id(self) -> str:
        assert self.account is not None
        return self.account


Handler = Callable[[web.Request, AsterCall], Awaitable[Any]]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json", headers=headers)


def error_response(error: AsterApiError, headers: dict[str, str] | None = None) -> web.Response:
    return json_response(error.body(), error.http_status, headers)


class Gate:
    """Limits, bans and auth of one simulator's Aster dialect."""

    def __init__(self, registry: AsterRegistry, chain_id: int = MAINNET_CHAIN_ID) -> None:
        self.registry = registry
        self.chain_id = chain_id
        sim = registry.sim
        self.sim = sim
        sim.limiter.set_limit("aster_weight", *WEIGHT_LIMIT)
        sim.limiter.set_limit("aster_orders", *ORDER_LIMIT)
        self._strikes: dict[str, int] = {}
        self._banned_until: dict[str, int] = {}

    def endpoint(self, weight: int, security: str = NONE, *, order: bool = False) -> Callable[[Handler], Any]:
        def wrap(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
            async def serve(request: web.Request) -> web.Response:
                return await self._serve(request, handler, weight, security, order)

            return serve

        return wrap

    async def _serve(self, request: web.Request, handler: Handler, weight: int, security: str,
                     order: bool) -> web.Response:
        ip = request.remote or "?"
        now = self.sim.clock.time_ms()
        banned = self._banned_until.get(ip, 0)
        if banned > now:
            wait = str(max(1, (banned - now + 999) // 1000))
            return error_response(AsterApiError(-1003, f"Way too many requests; IP banned until {banned}.",
                                                http_status=418), {"Retry-After": wait})
        fault = self.sim.faults.rest_fault()
        if fault == 429:
            return self._limited(ip, 1.0, "0")
        if fault is not None:
            return error_response(AsterApiError(-1001, http_status=fault))
        state = self.sim.limiter.take("aster_weight", ip, weight)
        used = str(state.limit - state.remaining)
        if not state.allowed:
            return self._limited(ip, state.retry_after_s, used)
        self._strikes.pop(ip, None)
        headers = {"X-MBX-USED-WEIGHT-1M": used}
        try:
            call = await self._authenticate(request, security)
            if order:
                await self._order_gate(call, headers)
            data = await handler(request, call)
        except AsterApiError as exc:
            return error_response(exc, headers)
        return json_response(data, headers=headers)

    def _limited(self, ip: str, retry_after_s: float, used: str) -> web.Response:
        strikes = self._strikes[ip] = self._strikes.get(ip, 0) + 1
        headers = {"Retry-After": str(max(1, int(retry_after_s + 0.999))), "X-MBX-USED-WEIGHT-1M": used}
        if strikes >= self.registry.ban_after_429:
            until = self.sim.clock.time_ms() + self.registry.ban_ms
            self._banned_until[ip] = until
            self._strikes.pop(ip, None)
            headers["Retry-After"] = str(self.registry.ban_ms // 1000)
            return error_response(AsterApiError(-1003, f"Way too many requests; IP banned until {until}.",
                                                http_status=418), headers)
        return error_response(AsterApiError(-1003, "Too many requests; current limit is 2400 requests per minute.",
                                            http_status=429), headers)

    async def _order_gate(self, call: AsterCall, headers: dict[str, str]) -> None:
        state = self.sim.limiter.take("aster_orders", call.account_id, 1)
        headers["X-MBX-ORDER-COUNT-1M"] = str(state.limit - state.remaining)
        if not state.allowed:
            raise AsterApiError(-1015, http_status=429)
        delay = self.sim.faults.settings.ack_delay_ms
        if delay:
            await asyncio.sleep(delay / 1000)

    # ---- auth ----------------------------------------------------------------------------------

    async def _authenticate(self, request: web.Request, security: str) -> AsterCall:
        query = request.rel_url.raw_query_string
        body = (await request.text()) if request.can_read_body else ""
        params = dict(parse_qsl(body, keep_blank_values=True))
        params.update(parse_qsl(query, keep_blank_values=True))  # on a clash the query string wins
        v3 = "/fapi/v3/" in request.path
        call = AsterCall(params, None, v3)
        if security == NONE:
            return call
        if v3:
            call.account = self._check_v3(params, query, body)
        elif security == USER_STREAM:
            call.account = self._api_key(request)[1]
        else:
            call.account = self._check_v1(request, params, query, body)
        return call

    def _api_key(self, request: web.Request) -> tuple[str, str]:
        key = request.headers.get("X-MBX-APIKEY", "")
        if not key:
            raise AsterApiError(-2014, "API-key format invalid.", http_status=401)
        found = self.registry.v1_credentials(key)
        if found is None:
            raise AsterApiError(-2015)
        return found

    def _check_v1(self, request: web.Request, params: dict[str, str], query: str, body: str) -> str:
        secret, account = self._api_key(request)
        payload, signature = split_signature(query, body)
        if not signature:
            raise AsterApiError(-1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
        try:
            timestamp = int(params.get("timestamp", ""))
            recv_window = int(params.get("recvWindow", "5000"))
        except ValueError:
            raise AsterApiError(-1102, "Parameter 'timestamp' or 'recvWindow' was malformed.") from None
        if not 0 < recv_window <= MAX_RECV_WINDOW_MS:
            raise AsterApiError(-1102, f"recvWindow must be in 1..{MAX_RECV_WINDOW_MS}.")
        if not timestamp_within_window(timestamp, self.sim.clock.time_ms(), recv_window):
            raise AsterApiError(-1021)
        if not verify_hmac(secret, payload, signature):
            raise AsterApiError(-1022)
        return self.registry.ensure_account(account)

    def _check_v3(self, params: dict[str, str], query: str, body: str) -> str:
        for key in ("user", "signer", "nonce", "signature"):
            if not params.get(key):
                raise AsterApiError(-1102, f"Mandatory parameter '{key}' was not sent, was empty/null, or malformed.")
        msg, signature = split_signature(query, body)
        user, signer = params["user"], params["signer"]
        if not verify_agent_signature(msg, signature, signer, self.chain_id):
            raise AsterApiError(-1022)
        if not self.registry.may_sign(user, signer):
            raise AsterApiError(-2015, f"Signer {signer} is not an approved agent of {user}.")
        try:
            nonce = int(params["nonce"])
        except ValueError:
            raise AsterApiError(-1102, "Parameter 'nonce' was malformed.") from None
        verdict = self.registry.nonces.accept(user, nonce, self.sim.clock.time_ms() * 1000)
        if verdict is NonceVerdict.DUPLICATE:
            raise AsterApiError(-4225, "Nonce Expired (duplicate nonce).")
        if verdict is not NonceVerdict.OK:
            raise AsterApiError(-4225)
        return self.registry.v3_account(user)
