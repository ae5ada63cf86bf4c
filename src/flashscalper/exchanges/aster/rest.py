"""Async Aster REST client on aiohttp (protocol/aster.md §2–§10), in domain types, both auth dialects.

Retry rule (the policy shared with the Paradex client, :mod:`flashscalper.exchanges.retry`):
* GET and DELETE are idempotent: network errors, timeouts and 5xx are retried with full-jitter backoff,
  up to ``max_retries`` times.
* ``POST /order`` is resent after an unclear outcome only when it carries a client id, and only after
  looking that id up (``GET /order?origClientOrderId``): if the first attempt landed, that order is returned.
  Leverage and margin changes are never resent after an unclear outcome.
* 429/418 mean the request was refused: wait ``Retry-After`` (bounded by ``rate_limit_max_wait_s``) and
  resend; a longer ban, or running out of attempts, raises ``RateLimited(retry_after)``.
* ``-1021`` (timestamp outside recvWindow) and ``-4225`` (nonce expired) were refused as well: resync the
  clock offset from ``/fapi/v1/time`` once and resend with a fresh signature.

Every resend is signed afresh (new timestamp / nonce). Keys and secrets never appear in logs or errors.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aiohttp
import orjson
from yarl import URL

from flashscalper.clock import Clock, WallClock
from flashscalper.domain import (
    Balance,
    BookUpdate,
    Fill,
    Market,
    MarkPrice,
    Order,
    OrderRequest,
    Position,
    Quote,
    Trade,
)
from flashscalper.errors import (
    ExchangeError,
    ExchangeUnavailable,
    InvalidOrder,
    MalformedMessage,
    OrderNotFound,
    RateLimited,
)
from flashscalper.exchanges.aster import mapping as m
from flashscalper.exchanges.aster.auth import (
    MAINNET_CHAIN_ID,
    AgentSigner,
    HmacSigner,
    MicrosecondNonces,
    SignedRequest,
    encode_params,
)
from flashscalper.exchanges.aster.errors import error_from_response
from flashscalper.exchanges.retry import TRANSPORT_ERRORS, RetryPolicy, create_once, idempotent

NONE, USER_STREAM, SIGNED = "NONE", "USER_STREAM", "SIGNED"
_CLOCK_CODES = frozenset({-1021, -4225})
_V1_PATHS = {"account": "/fapi/v4/account", "balance": "/fapi/v2/balance", "positionRisk": "/fapi/v2/positionRisk"}


class OffsetClock:
    """A clock corrected by the measured offset to the venue's server time (what signatures are stamped with)."""

    def __init__(self, base: Clock | None = None) -> None:
        self.base: Clock = base or WallClock()
        self.offset_ms = 0

    def time_ms(self) -> int:
        return self.base.time_ms() + self.offset_ms

    def monotonic(self) -> float:
        return self.base.monotonic()


@dataclass(frozen=True, slots=True)
class HmacCredentials:
    """V1: API key + HMAC secret."""

    api_key: str
    api_secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class AgentCredentials:
    """V3: main wallet ``user``, API-wallet ``signer`` and the signer's private key."""

    user: str
    signer: str
    private_key: str = field(repr=False)
    chain_id: int = MAINNET_CHAIN_ID


Credentials = HmacCredentials | AgentCredentials


class AsterRestClient:
    """Aster REST: market data, account, orders and listenKeys. ``credentials`` None → public only."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials | None = None,
        *,
        clock: Clock | None = None,
        session: aiohttp.ClientSession | None = None,
        recv_window_ms: int = 10_000,
        max_retries: int = 3,
        timeout_s: float = 10.0,
        backoff_base_s: float = 0.1,
        backoff_cap_s: float = 2.0,
        rate_limit_max_wait_s: float = 10.0,
        rng: random.Random | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self.clock = OffsetClock(clock)
        self._signer: HmacSigner | AgentSigner | None = None
        if isinstance(credentials, HmacCredentials):
            self._signer = HmacSigner(credentials.api_key, credentials.api_secret, clock=self.clock,
                                      recv_window_ms=recv_window_ms)
        elif isinstance(credentials, AgentCredentials):
            self._signer = AgentSigner(credentials.user, credentials.private_key, signer=credentials.signer,
                                       chain_id=credentials.chain_id, nonces=MicrosecondNonces(self.clock))
        self.v3 = isinstance(self._signer, AgentSigner)
        self._session = session
        self._owns_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._retry = RetryPolicy(max_retries, backoff_base_s, backoff_cap_s, rate_limit_max_wait_s,
                                  rng=rng or random.Random())
        self._markets: dict[str, Market] = {}
        self.used_weight = 0  # the last X-MBX-USED-WEIGHT-1M seen
        self.time_syncs = 0

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    # ---- transport -----------------------------------------------------------------------------

    def path(self, name: str, version: str = "v1") -> str:
        """The path of a private endpoint in this client's dialect (§3 path map)."""
        if self.v3:
            return f"/fapi/v3/{name}"
        return _V1_PATHS.get(name, f"/fapi/{version}/{name}")

    def _build(self, method: str, path: str, params: Mapping[str, Any], security: str) -> SignedRequest:
        if security == NONE or self._signer is None:
            if security != NONE:
                raise ExchangeError("this Aster client has no credentials; set ASTER_API_KEY/ASTER_API_SECRET "
                                    "or the ASTER_USER_ADDRESS/ASTER_SIGNER_* trio", code="NO_CREDENTIALS")
            return SignedRequest(method, path, encode_params(params), "")
        if security == USER_STREAM and isinstance(self._signer, HmacSigner):
            return SignedRequest(method, path, encode_params(params), "", self._signer.api_key_headers())
        return self._signer.sign(method, path, params)

    async def _send(self, req: SignedRequest) -> tuple[int, Mapping[str, str], bytes]:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        url = URL(self._base + req.url_path, encoded=True)  # send the signed bytes exactly as signed
        async with self._session.request(req.method, url, data=req.body or None, headers=req.headers,
                                         timeout=self._timeout) as resp:
            return resp.status, resp.headers, await resp.read()

    async def call(self, method: str, path: str, params: Mapping[str, Any] | None = None, *,
                   security: str = NONE, retry: bool | None = None) -> Any:
        """One logical request: signing, retries, rate-limit waits, clock resync and error mapping."""
        where = f"{method} {path}"
        attempts = self._retry.attempts(where, retry=idempotent(method) if retry is None else retry)
        resynced = False
        while True:
            req = self._build(method, path, params or {}, security)
            try:
                status, headers, raw = await self._send(req)
            except TRANSPORT_ERRORS as exc:
                await attempts.network_error(exc)
                continue
            weight = headers.get("X-MBX-USED-WEIGHT-1M")
            if weight and weight.isdigit():
                self.used_weight = int(weight)
            error = error_from_response(status, raw, headers, now_ms=self.clock.time_ms())
            if error is None:
                try:
                    return orjson.loads(raw) if raw else None
                except orjson.JSONDecodeError:
                    raise MalformedMessage(f"{where}: answer is not JSON ({len(raw)} bytes)", status=status) from None
            code = getattr(error, "aster_code", None)
            if isinstance(error, RateLimited):
                if await attempts.wait_rate_limit(error.retry_after):  # a longer ban is not waited out
                    continue
                raise error
            if code in _CLOCK_CODES and not resynced:
                resynced = True
                await self.sync_time()
                continue
            if isinstance(error, ExchangeUnavailable) and await attempts.backoff(f"HTTP {status}"):
                continue
            raise error

    def _map(self, where: str, mapper: Any, payload: Any) -> Any:
        try:
            return mapper(payload)
        except MalformedMessage as exc:
            raise MalformedMessage(f"{where}: {exc}") from None

    # ---- time and reference data ---------------------------------------------------------------

    async def server_time(self) -> int:
        payload = await self.call("GET", "/fapi/v1/time")
        if not isinstance(payload, dict) or not isinstance(payload.get("serverTime"), int):
            raise MalformedMessage("GET /fapi/v1/time: no integer 'serverTime'")
        return payload["serverTime"]

    async def sync_time(self) -> int:
        """Measure the offset to server time (midpoint of the round trip); returns it in ms."""
        before = self.clock.base.time_ms()
        server = await self.server_time()
        after = self.clock.base.time_ms()
        self.clock.offset_ms = server - (before + after) // 2
        self.time_syncs += 1
        return self.clock.offset_ms

    async def markets(self) -> dict[str, Market]:
        payload = await self.call("GET", "/fapi/v1/exchangeInfo")
        found = self._map("exchangeInfo", m.markets_from_exchange_info, payload)
        self._markets.update(found)
        return found

    async def market(self, symbol: str) -> Market:
        if symbol not in self._markets:
            await self.markets()
        if symbol not in self._markets:
            raise ExchangeError(f"market {symbol} is not listed on Aster (or not TRADING)", code="-1121")
        return self._markets[symbol]

    async def depth(self, symbol: str, limit: int = 1000) -> BookUpdate:
        """A REST snapshot; ``seq_no`` is its ``lastUpdateId``."""
        payload = await self.call("GET", "/fapi/v1/depth", {"symbol": symbol, "limit": limit})
        return self._map("depth", lambda p: m.book_from_depth(p, symbol), payload)

    async def book_ticker(self, symbol: str) -> Quote:
        payload = await self.call("GET", "/fapi/v1/ticker/bookTicker", {"symbol": symbol})
        return self._map("bookTicker", m.quote_from_book_ticker, payload)

    async def trades(self, symbol: str, limit: int = 100) -> list[Trade]:
        payload = await self.call("GET", "/fapi/v1/trades", {"symbol": symbol, "limit": limit})
        return [self._map("trades", lambda r: m.trade_from_rest(symbol, r), row) for row in payload]

    async def premium_index(self, symbol: str) -> MarkPrice:
        payload = await self.call("GET", "/fapi/v1/premiumIndex", {"symbol": symbol})
        return self._map("premiumIndex", m.mark_price_from_json, payload)

    # ---- account -------------------------------------------------------------------------------

    async def account(self) -> dict[str, Any]:
        return await self.call("GET", self.path("account"), security=SIGNED)

    async def balance(self) -> Balance:
        return self._map("account", m.balance_from_account, await self.account())

    async def positions(self, symbol: str | None = None) -> list[Position]:
        """Non-flat positions (positionRisk lists every symbol)."""
        payload = await self.call("GET", self.path("positionRisk"), {"symbol": symbol}, security=SIGNED)
        rows = [self._map("positionRisk", m.position_from_risk, r) for r in payload]
        return [p for p in rows if p.size != 0]

    async def user_trades(self, symbol: str, *, start_time: int | None = None, from_id: int | None = None,
                          limit: int = 1000) -> list[Fill]:
        params = {"symbol": symbol, "startTime": start_time, "fromId": from_id, "limit": limit}
        payload = await self.call("GET", self.path("userTrades"), params, security=SIGNED)
        return [self._map("userTrades", m.fill_from_user_trade, r) for r in payload]

    async def set_leverage(self, symbol: str, leverage: int) -> dict[str, Any]:
        return await self.call("POST", self.path("leverage"), {"symbol": symbol, "leverage": leverage},
                               security=SIGNED, retry=False)

    async def set_margin_type(self, symbol: str, margin_type: str) -> None:
        """``ISOLATED`` or ``CROSSED``; "no need to change" (-4046) counts as done."""
        try:
            await self.call("POST", self.path("marginType"), {"symbol": symbol, "marginType": margin_type},
                            security=SIGNED, retry=False)
        except ExchangeError as exc:
            if getattr(exc, "aster_code", None) != -4046:
                raise

    # ---- orders --------------------------------------------------------------------------------

    async def create_order(self, request: OrderRequest) -> Order:
        """``POST /order`` (already validated). Resent after an unclear outcome only with a client id."""
        params = m.order_request_to_params(request)
        params["newOrderRespType"] = "RESULT"
        if request.type.is_conditional:
            # trigger on the mark like every other venue (Aster's default, the last trade, lets one thin
            # print fire a stop-loss); the exit logic above reasons in mark prices
            params["workingType"] = "MARK_PRICE"
        cid = request.client_id
        find = (lambda: self._find(request.market, cid)) if cid else None
        return await create_once(self._retry, lambda: self._post_order(params), find,
                                 is_duplicate=_duplicate_client_id)

    async def _post_order(self, params: Mapping[str, Any]) -> Order:
        payload = await self.call("POST", self.path("order"), params, security=SIGNED, retry=False)
        return self._map("order", m.order_from_json, payload)

    async def _find(self, symbol: str, client_id: str) -> Order | None:
        try:
            return await self.get_order(symbol, client_id=client_id)
        except OrderNotFound:
            return None

    async def get_order(self, symbol: str, *, order_id: str | None = None, client_id: str | None = None) -> Order:
        params = {"symbol": symbol, "orderId": order_id, "origClientOrderId": None if order_id else client_id}
        payload = await self.call("GET", self.path("order"), params, security=SIGNED)
        return self._map("order", m.order_from_json, payload)

    async def cancel_order(self, symbol: str, *, order_id: str | None = None, client_id: str | None = None) -> Order:
        if not order_id and not client_id:
            raise ValueError("cancel_order needs an order_id or a client_id")
        params = {"symbol": symbol, "orderId": order_id, "origClientOrderId": None if order_id else client_id}
        payload = await self.call("DELETE", self.path("order"), params, security=SIGNED)
        return self._map("order", m.order_from_json, payload)

    async def cancel_all(self, symbol: str) -> None:
        await self.call("DELETE", self.path("allOpenOrders"), {"symbol": symbol}, security=SIGNED)

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        payload = await self.call("GET", self.path("openOrders"), {"symbol": symbol}, security=SIGNED)
        return [self._map("openOrders", m.order_from_json, r) for r in payload]

    # ---- user data stream ----------------------------------------------------------------------

    async def new_listen_key(self) -> str:
        payload = await self.call("POST", self.path("listenKey"), security=USER_STREAM, retry=True)
        key = payload.get("listenKey") if isinstance(payload, dict) else None
        if not isinstance(key, str) or not key:
            raise MalformedMessage("POST listenKey: no 'listenKey' in the answer")
        return key

    async def keep_alive_listen_key(self, key: str) -> None:
        await self.call("PUT", self.path("listenKey"), {"listenKey": key}, security=USER_STREAM, retry=True)

    async def close_listen_key(self, key: str) -> None:
        await self.call("DELETE", self.path("listenKey"), {"listenKey": key}, security=USER_STREAM)


def leverage_int(value: Decimal) -> int:
    """Aster takes whole-number leverage 1..125."""
    if value != int(value) or not 1 <= int(value) <= 125:
        raise InvalidOrder(f"leverage {value} must be a whole number in 1..125; nearest valid: "
                           f"{min(max(round(value), 1), 125)}", rule="leverage")
    return int(value)


def _duplicate_client_id(exc: ExchangeError) -> bool:
    """-4116: the client order id is already used, i.e. an earlier attempt of this order landed."""
    return getattr(exc, "aster_code", None) == -4116
