"""Async Paradex REST client on aiohttp (protocol/paradex.md §2–§5), speaking domain types.

Retry rule (why each request may or may not be resent):
* GET and DELETE (reads and cancels) are idempotent: network errors, timeouts and 5xx are retried with
  full-jitter exponential backoff, up to ``max_retries`` times.
* ``POST /orders`` is retried only when the request carries a ``client_id``. Before each resend the client
  looks the client id up in orders-history: if the first attempt landed, that order is returned instead of
  sending a second one (Paradex only refuses duplicate client ids among *open* orders, so a resend alone is
  not safe for an order that already filled). Orders without a client id, modifies and leverage changes are
  never resent after an unclear outcome.
* 429 means the request was refused, so every request waits until ``x-ratelimit-reset`` (bounded) and is
  resent; after ``max_retries`` it raises ``RateLimited(retry_after)``.
* One 401 on a private call drops the cached JWT, authenticates again and resends once.

The JWT and keys are never logged or put into error messages.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from statistics import median
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
import jwt
import orjson

from flashscalper.clock import Clock, WallClock
from flashscalper.domain import (
    Balance,
    BookUpdate,
    Fill,
    FundingPayment,
    Market,
    MarkPrice,
    Order,
    OrderRequest,
    OrderType,
    Position,
    Quote,
    Side,
    TimeInForce,
    Trade,
)
from flashscalper.errors import (
    AuthFailed,
    ExchangeError,
    ExchangeUnavailable,
    InvalidOrder,
    MalformedMessage,
    OrderNotFound,
    OrderRejected,
    RateLimited,
)
from flashscalper.exchanges.paradex import mapping as m
from flashscalper.exchanges.paradex.keys import ParadexIdentity
from flashscalper.exchanges.paradex.signing import ParadexSigner
from flashscalper.exchanges.paradex.validation import validate_order

log = logging.getLogger(__name__)
T = TypeVar("T")

AUTH_CODES = frozenset({
    "INVALID_TOKEN", "UNAUTHORIZED_ERROR", "NOT_ONBOARDED", "ACCOUNT_NOT_FOUND", "PUBLIC_KEY_INVALID",
    "INVALID_STARKNET_SIGNATURE", "STARKNET_SIGNATURE_VERIFICATION_FAILED", "INVALID_STARKNET_ADDRESS",
    "INVALID_SUBKEY", "INVALID_SIGNATURE_EXPIRATION",
})
NOT_FOUND_CODES = frozenset({
    "NOT_FOUND", "ORDER_ID_NOT_FOUND", "CLIENT_ORDER_ID_NOT_FOUND", "ORDER_IS_CLOSED", "ORDER_IS_NOT_OPEN",
    "ALGO_ID_NOT_FOUND",
})
UNAVAILABLE_CODES = frozenset({"INTERNAL_ERROR", "SERVICE_UNAVAILABLE"})
JWT_REFRESH_MARGIN_S = 60
JWT_DEFAULT_LIFETIME_S = 300  # the documented lifetime, used only if a token carries no exp


@dataclass(frozen=True, slots=True)
class LatencyStats:
    """Round-trip times of one endpoint over its last samples (ms)."""

    count: int
    mean_ms: float
    p50_ms: float
    max_ms: float


def new_client_id() -> str:
    """A fresh client order id (≤64 chars, unique enough to make order creation idempotent)."""
    return "fs" + secrets.token_hex(12)


def error_for(status: int, payload: Any, where: str, *, order_endpoint: bool) -> ExchangeError:
    """Map an HTTP error answer ``{"error","message","data"}`` to a typed error."""
    code, message = "", ""
    if isinstance(payload, Mapping):
        code = str(payload.get("error") or "")
        message = str(payload.get("message") or "")[:200]
    text = f"{where}: HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
    if status == 401 or code in AUTH_CODES or "missing or malformed jwt" in message.lower():
        return AuthFailed(text, code=code, status=status)
    if status >= 500 or code in UNAVAILABLE_CODES:
        return ExchangeUnavailable(text, code=code, status=status)
    if order_endpoint and (status == 404 or code in NOT_FOUND_CODES):
        return OrderNotFound(text, code=code, status=status)
    if order_endpoint and status in (400, 403, 409, 422):
        return OrderRejected(text, reason=code or f"HTTP_{status}", status=status)
    return ExchangeError(text, code=code, status=status)


class ParadexRestClient:
    """Paradex REST in domain types: market data, onboarding/auth with a cached JWT, account and orders.

    ``identity`` is None for a public-only client. ``chain_id`` (``starknet_chain_id``) is read from
    ``/system/config`` on first signing when not given. ``session`` may be injected (and is then not closed).
    """

    def __init__(
        self,
        base_url: str,
        identity: ParadexIdentity | None = None,
        *,
        chain_id: str | None = None,
        clock: Clock | None = None,
        session: aiohttp.ClientSession | None = None,
        max_retries: int = 3,
        timeout_s: float = 10.0,
        backoff_base_s: float = 0.1,
        backoff_cap_s: float = 2.0,
        rate_limit_default_wait_s: float = 1.0,
        rate_limit_max_wait_s: float = 10.0,
        auth_signature_ttl_s: int = 1800,
        auto_onboard: bool = True,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._identity = identity
        self._chain_id = chain_id
        self._clock: Clock = clock or WallClock()
        self._session = session
        self._owns_session = session is None
        self._max_retries = max_retries
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._backoff_base = backoff_base_s
        self._backoff_cap = backoff_cap_s
        self._rl_default = rate_limit_default_wait_s
        self._rl_max = rate_limit_max_wait_s
        self._auth_ttl = auth_signature_ttl_s
        self._auto_onboard = auto_onboard
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._signer: ParadexSigner | None = None
        self._jwt: str | None = None
        self._jwt_exp_s = 0
        self._auth_lock = asyncio.Lock()
        self._signer_lock = asyncio.Lock()
        self._markets: dict[str, Market] = {}
        self._latency: dict[str, deque[float]] = {}
        self.auth_count = 0  # successful /auth calls (observability)

    @property
    def identity(self) -> ParadexIdentity | None:
        return self._identity

    async def __aenter__(self) -> ParadexRestClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------------------------ transport

    def _now_s(self) -> int:
        return self._clock.time_ms() // 1000

    def latency_stats(self) -> dict[str, LatencyStats]:
        """Per endpoint ("GET /markets", "POST /orders", …): count, mean, median and max over the last 256."""
        out = {}
        for name, samples in self._latency.items():
            values = list(samples)
            out[name] = LatencyStats(len(values), sum(values) / len(values), median(values), max(values))
        return out

    async def _send(
        self, method: str, path: str, params: Mapping[str, Any] | None, body: Any, headers: dict[str, str], label: str
    ) -> tuple[int, Mapping[str, str], bytes]:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        data = None
        if body is not None:
            data = orjson.dumps(body)
            headers["Content-Type"] = "application/json"
        headers["Accept"] = "application/json"
        started = time.perf_counter()
        async with self._session.request(
            method, self._base + path, params=query, data=data, headers=headers, timeout=self._timeout
        ) as resp:
            raw = await resp.read()
            status, resp_headers = resp.status, resp.headers
        self._latency.setdefault(label, deque(maxlen=256)).append((time.perf_counter() - started) * 1000)
        return status, resp_headers, raw

    def _rate_limit_wait(self, headers: Mapping[str, str]) -> float:
        reset = headers.get("x-ratelimit-reset")
        try:
            value = float(reset) if reset is not None else None
        except ValueError:
            value = None
        if value is None:
            return self._rl_default
        # Documented as unix seconds; a small number can only be "seconds from now".
        wait = value - self._clock.time_ms() / 1000 if value > 1e9 else value
        return min(max(wait, 0.0), self._rl_max)

    async def _backoff(self, attempt: int) -> None:
        await self._sleep(self._rng.uniform(0, min(self._backoff_cap, self._backoff_base * 2**attempt)))

    async def _call(
        self,
        method: str,
        path: str,
        *,
        label: str | None = None,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        private: bool = False,
        retry: bool = True,
        order_endpoint: bool = False,
        expect_body: bool = True,
    ) -> Any:
        """One logical request with retries, rate-limit waits, one re-auth on 401 and error mapping."""
        label = label or f"{method} {path}"
        where = f"{method} {path}"
        attempt, reauthed = 0, False
        while True:
            hdrs = dict(headers or {})
            if private:
                hdrs["Authorization"] = "Bearer " + await self._token()
            try:
                status, resp_headers, raw = await self._send(method, path, params, body, hdrs, label)
            except (aiohttp.ClientError, TimeoutError) as exc:
                if retry and attempt < self._max_retries:
                    log.debug("%s: %s, retry %d", where, type(exc).__name__, attempt + 1)
                    await self._backoff(attempt)
                    attempt += 1
                    continue
                raise ExchangeUnavailable(f"{where}: {type(exc).__name__} after {attempt + 1} attempt(s)") from exc
            if status == 429:
                wait = self._rate_limit_wait(resp_headers)
                if attempt < self._max_retries:
                    log.debug("%s: rate limited, waiting %.2fs", where, wait)
                    await self._sleep(wait)
                    attempt += 1
                    continue
                raise RateLimited(f"{where}: rate limited; retry after {wait:.1f}s", retry_after=wait)
            if status >= 500 and retry and attempt < self._max_retries:
                log.debug("%s: HTTP %d, retry %d", where, status, attempt + 1)
                await self._backoff(attempt)
                attempt += 1
                continue
            if status == 401 and private and not reauthed:
                self._jwt = None  # the server no longer accepts it: get a new one and resend once
                reauthed = True
                continue
            if status >= 400:
                payload = _loads_or_none(raw)
                raise error_for(status, payload, where, order_endpoint=order_endpoint)
            if not expect_body:
                return None
            try:
                return orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise MalformedMessage(f"{where}: answer is not JSON ({len(raw)} bytes)", status=status) from None

    @staticmethod
    def _map(where: str, mapper: Callable[[Any], T], payload: Any) -> T:
        try:
            return mapper(payload)
        except MalformedMessage as exc:
            raise MalformedMessage(f"{where}: {exc}") from None

    def _map_results(self, where: str, mapper: Callable[[Any], T], payload: Any) -> list[T]:
        rows = self._map(where, lambda p: m.results(p, "response"), payload)
        return [self._map(where, mapper, row) for row in rows]

    async def _paged(
        self, path: str, params: Mapping[str, Any], mapper: Callable[[Any], T], *, private: bool, max_pages: int
    ) -> list[T]:
        """Follow ``next`` cursors for up to ``max_pages`` pages."""
        out: list[T] = []
        cursor: str | None = None
        for _ in range(max_pages):
            query = dict(params)
            if cursor:
                query["cursor"] = cursor
            payload = await self._call("GET", path, params=query, private=private)
            out.extend(self._map_results(f"GET {path}", mapper, payload))
            cursor = payload.get("next") if isinstance(payload, Mapping) else None
            if not cursor:
                break
        return out

    # -------------------------------------------------------------------------------- public data

    async def system_config(self) -> m.SystemConfig:
        """``GET /system/config`` (chain ids and account class hashes)."""
        return self._map("GET /system/config", m.system_config_from, await self._call("GET", "/system/config"))

    async def system_time(self) -> int:
        """Server time in ms."""
        payload = await self._call("GET", "/system/time")
        return self._map("GET /system/time", lambda p: m.req_int(m.require_obj(p, "time"), "server_time"), payload)

    async def markets(self) -> dict[str, Market]:
        """All markets by symbol (also refreshes the cache used by order validation)."""
        payload = await self._call("GET", "/markets")
        found = {mk.symbol: mk for mk in self._map_results("GET /markets", m.market_from, payload)}
        self._markets.update(found)
        return found

    async def market(self, symbol: str) -> Market:
        """One market's rules, from the cache or ``/markets``."""
        if symbol not in self._markets:
            await self.markets()
        if symbol not in self._markets:
            raise ExchangeError(f"market {symbol} is not listed on Paradex", code="MARKET_NOT_FOUND")
        return self._markets[symbol]

    async def markets_summary(self, market: str = "ALL") -> list[MarkPrice]:
        payload = await self._call("GET", "/markets/summary", params={"market": market})
        return self._map_results("GET /markets/summary", m.mark_price_from, payload)

    async def orderbook(self, market: str, depth: int | None = None) -> BookUpdate:
        path = f"/orderbook/{market}"
        payload = await self._call("GET", path, label="GET /orderbook/{market}", params={"depth": depth})
        return self._map(f"GET {path}", m.book_from, payload)

    async def bbo(self, market: str) -> Quote:
        path = f"/bbo/{market}"
        return self._map(f"GET {path}", m.quote_from, await self._call("GET", path, label="GET /bbo/{market}"))

    async def trades(self, market: str, page_size: int = 100) -> list[Trade]:
        """The latest public trades (one page)."""
        payload = await self._call("GET", "/trades", params={"market": market, "page_size": page_size})
        return self._map_results("GET /trades", m.trade_from, payload)

    async def funding_data(
        self, market: str, *, start_at: int | None = None, end_at: int | None = None, page_size: int = 100,
        max_pages: int = 1,
    ) -> list[m.FundingObservation]:
        params = {"market": market, "start_at": start_at, "end_at": end_at, "page_size": page_size}
        return await self._paged("/funding/data", params, m.funding_observation_from, private=False,
                                 max_pages=max_pages)

    # ---------------------------------------------------------------------------- onboarding & auth

    def _require_identity(self) -> ParadexIdentity:
        if self._identity is None:
            raise AuthFailed(
                "this Paradex client has no credentials; set PARADEX_PRIVATE_KEY or PARADEX_L2_PRIVATE_KEY"
            )
        return self._identity

    async def _signer_get(self) -> ParadexSigner:
        identity = self._require_identity()
        async with self._signer_lock:
            if self._signer is None:
                if self._chain_id is None:
                    self._chain_id = (await self.system_config()).starknet_chain_id
                self._signer = ParadexSigner(self._chain_id, identity.account_address, identity.l2_private_key)
        return self._signer

    async def onboarding_status(self) -> m.OnboardingStatus:
        """``GET /onboarding``: does the venue know this Starknet key?"""
        identity = self._require_identity()
        params = {"account_signer_type": "starknet", "public_key": identity.public_key_hex}
        return self._map("GET /onboarding", m.onboarding_from, await self._call("GET", "/onboarding", params=params))

    async def onboard(self) -> None:
        """``POST /onboarding`` (idempotent): register the account once, signed with the L2 key."""
        identity = self._require_identity()
        if identity.l1_address is None:
            raise AuthFailed(
                "the Paradex account is not onboarded and no Ethereum address is known; onboard it once "
                "in the Paradex app, or configure PARADEX_PRIVATE_KEY (the L1 key)", code="NOT_ONBOARDED"
            )
        signer = await self._signer_get()
        headers = {
            "PARADEX-ETHEREUM-ACCOUNT": identity.l1_address,
            "PARADEX-STARKNET-ACCOUNT": identity.address_hex,
            "PARADEX-STARKNET-SIGNATURE": signer.sign_onboarding(),
        }
        await self._call("POST", "/onboarding", body={"public_key": identity.public_key_hex}, headers=headers,
                         expect_body=False)

    async def _post_auth(self) -> str:
        identity = self._require_identity()
        signer = await self._signer_get()
        now = self._now_s()
        expiration = now + self._auth_ttl
        headers = {
            "PARADEX-STARKNET-ACCOUNT": identity.address_hex,
            "PARADEX-STARKNET-SIGNATURE": signer.sign_auth(now, expiration),
            "PARADEX-TIMESTAMP": str(now),
            "PARADEX-SIGNATURE-EXPIRATION": str(expiration),
        }
        try:
            payload = await self._call("POST", "/auth", headers=headers)
        except ExchangeError as exc:
            if isinstance(exc, ExchangeUnavailable | RateLimited | AuthFailed):
                raise
            raise AuthFailed(str(exc), code=exc.code, status=exc.status) from None
        return self._map("POST /auth", lambda p: m.req_str(m.require_obj(p, "auth"), "jwt_token"), payload)

    async def authenticate(self) -> None:
        """Get a fresh JWT now, onboarding first when the venue says NOT_ONBOARDED."""
        try:
            token = await self._post_auth()
        except AuthFailed as exc:
            if exc.code != "NOT_ONBOARDED" or not self._auto_onboard:
                raise
            log.info("Paradex account not onboarded yet: onboarding")
            await self.onboard()
            token = await self._post_auth()
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise MalformedMessage("POST /auth: jwt_token is not a JWT") from None
        exp = claims.get("exp")
        self._jwt_exp_s = int(exp) if isinstance(exp, int | float) else self._now_s() + JWT_DEFAULT_LIFETIME_S
        self._jwt = token
        self.auth_count += 1

    def _jwt_fresh(self) -> bool:
        return self._jwt is not None and self._jwt_exp_s - self._now_s() > JWT_REFRESH_MARGIN_S

    async def _token(self) -> str:
        if not self._jwt_fresh():
            async with self._auth_lock:
                if not self._jwt_fresh():  # another task may have refreshed while we waited
                    await self.authenticate()
        assert self._jwt is not None
        return self._jwt

    # ------------------------------------------------------------------------------------- account

    async def jwt(self) -> str:
        """The current JWT, refreshed first when it is near expiry (the WebSocket authenticates with it)."""
        return await self._token()

    async def account(self) -> Mapping[str, Any]:
        """``GET /account``: the raw account summary object (margin figures as decimal strings)."""
        return self._map("GET /account", lambda p: m.require_obj(p, "account"),
                         await self._call("GET", "/account", private=True))

    async def token_balances(self) -> dict[str, Decimal]:
        """``GET /balance``: {token: size}."""
        return self._map("GET /balance", m.token_balances_from, await self._call("GET", "/balance", private=True))

    async def balance(self) -> Balance:
        """Collateral view from ``/account`` and ``/balance`` read concurrently."""
        account, tokens = await asyncio.gather(self.account(), self.token_balances())
        return self._map("GET /account", lambda a: m.balance_from(a, tokens), account)

    async def positions(self, *, include_closed: bool = False) -> list[Position]:
        payload = await self._call("GET", "/positions", private=True)
        rows = self._map("GET /positions", lambda p: m.results(p, "response"), payload)
        keep = [r for r in rows if include_closed or not (isinstance(r, Mapping) and r.get("status") == "CLOSED")]
        return [self._map("GET /positions", m.position_from, r) for r in keep]

    async def open_positions_marked(self) -> list[Position]:
        """Open positions with their mark price, which Paradex's position object lacks (it comes from the
        markets summary; one more request, only when something is held)."""
        held = [p for p in await self.positions() if p.size != 0]
        if not held:
            return held
        marks = {m.market: m.mark for m in await self.markets_summary("ALL")}
        return [replace(p, mark_price=marks.get(p.market, p.mark_price)) for p in held]

    async def position(self, market: str) -> Position:
        """The open position in ``market``, or a flat one."""
        for pos in await self.positions():
            if pos.market == market:
                return pos
        return Position(market=market, size=Decimal(0), entry_price=Decimal(0))

    async def fills(
        self, market: str | None = None, *, start_at: int | None = None, end_at: int | None = None,
        page_size: int = 100, max_pages: int = 20,
    ) -> list[Fill]:
        """Own fills, newest first, following cursors."""
        params = {"market": market, "start_at": start_at, "end_at": end_at, "page_size": page_size}
        return await self._paged("/fills", params, m.fill_from, private=True, max_pages=max_pages)

    async def funding_payments(
        self, market: str, *, start_at: int | None = None, end_at: int | None = None, page_size: int = 100,
        max_pages: int = 20,
    ) -> list[FundingPayment]:
        params = {"market": market, "start_at": start_at, "end_at": end_at, "page_size": page_size}
        return await self._paged("/funding/payments", params, m.funding_payment_from, private=True,
                                 max_pages=max_pages)

    async def set_leverage(self, market: str, leverage: int | Decimal, margin_type: str = "CROSS") -> None:
        """``POST /account/margin/{market}``; Paradex takes whole-number leverage."""
        if Decimal(leverage) != int(leverage) or int(leverage) < 1:
            nearest = max(1, round(leverage))
            raise InvalidOrder(f"leverage {leverage} must be a whole number ≥ 1; nearest valid: {nearest}",
                               rule="leverage")
        await self._call("POST", f"/account/margin/{market}", label="POST /account/margin/{market}",
                         body={"leverage": int(leverage), "margin_type": margin_type}, private=True, retry=False)

    # -------------------------------------------------------------------------------------- orders

    async def create_order(
        self,
        request: OrderRequest,
        *,
        mark_price: Decimal | None = None,
        position_size: Decimal | None = None,
        validate: bool = True,
        recv_window_ms: int | None = None,
        stp: str | None = None,
    ) -> Order:
        """Validate, sign with a fresh ``signature_timestamp`` and ``POST /orders``. Returns the ack (NEW).

        Resent after an unclear outcome only when ``request.client_id`` is set, and only after checking
        orders-history for that client id (see the module docstring).
        """
        if validate:
            validate_order(request, await self.market(request.market), mark_price=mark_price,
                           position_size=position_size)
        signer = await self._signer_get()
        budget = self._max_retries if request.client_id else 0
        attempt = 0
        while True:
            ts = self._clock.time_ms()
            signature = signer.sign_order(request.market, request.side.value, m.venue_order_type(request),
                                          request.size, m.signed_price(request), ts)
            body = m.order_body(request, signature=signature, signature_timestamp_ms=ts,
                                recv_window_ms=recv_window_ms, stp=stp)
            try:
                payload = await self._call("POST", "/orders", body=body, private=True, retry=False,
                                           order_endpoint=True)
                return self._map("POST /orders", m.order_from, payload)
            except ExchangeUnavailable:
                if attempt >= budget:
                    raise
                await self._backoff(attempt)
                attempt += 1
                landed = await self._find_by_client_id(request.client_id, request.market)
                if landed is not None:
                    return landed
            except OrderRejected as exc:
                if attempt > 0 and exc.reason == "DUPLICATED_CLIENT_ID":
                    landed = await self._find_by_client_id(request.client_id, request.market)
                    if landed is not None:
                        return landed
                raise

    async def market_order(
        self, market: str, side: Side, size: Decimal, *, reduce_only: bool = False, client_id: str | None = None,
        mark_price: Decimal | None = None, position_size: Decimal | None = None,
    ) -> Order:
        request = OrderRequest(market, side, OrderType.MARKET, size, client_id or new_client_id(),
                               reduce_only=reduce_only)
        return await self.create_order(request, mark_price=mark_price, position_size=position_size)

    async def limit_order(
        self, market: str, side: Side, size: Decimal, price: Decimal, *, tif: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False, client_id: str | None = None, position_size: Decimal | None = None,
    ) -> Order:
        request = OrderRequest(market, side, OrderType.LIMIT, size, client_id or new_client_id(), price=price,
                               tif=tif, reduce_only=reduce_only)
        return await self.create_order(request, position_size=position_size)

    async def stop_loss_order(
        self, market: str, side: Side, trigger_price: Decimal, *, size: Decimal | None = None,
        limit_price: Decimal | None = None, client_id: str | None = None,
    ) -> Order:
        """A reduce-only stop; without ``size`` it closes the whole position (Paradex STOP_LOSS_*)."""
        kind = OrderType.STOP_LIMIT if limit_price is not None else OrderType.STOP_MARKET
        return await self.create_order(self._exit_request(market, side, kind, trigger_price, size, limit_price,
                                                          client_id))

    async def take_profit_order(
        self, market: str, side: Side, trigger_price: Decimal, *, size: Decimal | None = None,
        limit_price: Decimal | None = None, client_id: str | None = None,
    ) -> Order:
        """A reduce-only take-profit; without ``size`` it closes the whole position."""
        kind = OrderType.TAKE_PROFIT_LIMIT if limit_price is not None else OrderType.TAKE_PROFIT_MARKET
        return await self.create_order(self._exit_request(market, side, kind, trigger_price, size, limit_price,
                                                          client_id))

    @staticmethod
    def _exit_request(
        market: str, side: Side, kind: OrderType, trigger: Decimal, size: Decimal | None, limit: Decimal | None,
        client_id: str | None,
    ) -> OrderRequest:
        return OrderRequest(market, side, kind, size if size is not None else Decimal(0),
                            client_id or new_client_id(), price=limit, trigger_price=trigger, reduce_only=True,
                            close_position=size is None)

    async def modify_order(self, order_id: str, request: OrderRequest, *, validate: bool = True) -> Order:
        """``PUT /orders/{id}`` with new size/price (side and type must stay the same). Never resent."""
        if validate:
            validate_order(request, await self.market(request.market))
        signer = await self._signer_get()
        ts = self._clock.time_ms()
        venue_type = m.venue_order_type(request)
        price = m.signed_price(request)
        body: dict[str, Any] = {
            "id": order_id, "market": request.market, "side": request.side.value, "type": venue_type,
            "size": m.dec_str(request.size), "price": m.dec_str(price),
            "signature": signer.sign_modify_order(request.market, request.side.value, venue_type, request.size,
                                                  price, ts, order_id),
            "signature_timestamp": ts,
        }
        if request.trigger_price is not None:
            body["trigger_price"] = m.dec_str(request.trigger_price)
        payload = await self._call("PUT", f"/orders/{order_id}", label="PUT /orders/{id}", body=body, private=True,
                                   retry=False, order_endpoint=True)
        return self._map(f"PUT /orders/{order_id}", m.order_from, payload)

    async def cancel_order(
        self, order_id: str | None = None, *, client_id: str | None = None, market: str | None = None
    ) -> bool:
        """Cancel by venue id or client id. True when queued; False when unknown or already closed (terminal)."""
        if order_id:
            path, label, params = f"/orders/{order_id}", "DELETE /orders/{id}", None
        elif client_id:
            path, label = f"/orders/by_client_id/{quote(client_id, safe='')}", "DELETE /orders/by_client_id/{cid}"
            params = {"market": market}
        else:
            raise ValueError("cancel_order needs an order_id or a client_id")
        try:
            await self._call("DELETE", path, label=label, params=params, private=True, order_endpoint=True,
                             expect_body=False)
        except OrderNotFound:
            return False
        return True

    async def cancel_all(self, market: str | None = None) -> None:
        """``DELETE /orders``: cancel every open order (of one market)."""
        await self._call("DELETE", "/orders", params={"market": market}, private=True, order_endpoint=True,
                         expect_body=False)

    async def open_orders(self, market: str | None = None) -> list[Order]:
        payload = await self._call("GET", "/orders", params={"market": market}, private=True)
        return self._map_results("GET /orders", m.order_from, payload)

    async def orders_history(
        self, market: str | None = None, *, client_id: str | None = None, status: str | None = None,
        start_at: int | None = None, end_at: int | None = None, page_size: int = 100, max_pages: int = 1,
    ) -> list[Order]:
        params = {"market": market, "client_id": client_id, "status": status, "start_at": start_at,
                  "end_at": end_at, "page_size": page_size}
        return await self._paged("/orders-history", params, m.order_from, private=True, max_pages=max_pages)

    async def _find_by_client_id(self, client_id: str, market: str | None) -> Order | None:
        found = await self.orders_history(market, client_id=client_id, page_size=10)
        return next((o for o in found if o.client_id == client_id), None)

    async def get_order(
        self, order_id: str, *, market: str | None = None, client_id: str | None = None, history_pages: int = 5
    ) -> Order:
        """An order open or closed: ``GET /orders/{id}`` (open only), then orders-history."""
        try:
            payload = await self._call("GET", f"/orders/{order_id}", label="GET /orders/{id}", private=True,
                                       order_endpoint=True)
            return self._map(f"GET /orders/{order_id}", m.order_from, payload)
        except OrderNotFound:
            pass
        history = await self.orders_history(market, client_id=client_id, max_pages=1 if client_id else history_pages)
        for order in history:
            if order.id == order_id:
                return order
        raise OrderNotFound(f"order {order_id} is neither open nor in recent orders-history", code="NOT_FOUND")

    async def get_order_by_client_id(self, client_id: str, market: str | None = None) -> Order:
        """An order by client id: open ones directly, closed ones through orders-history."""
        try:
            payload = await self._call("GET", f"/orders/by_client_id/{quote(client_id, safe='')}",
                                       label="GET /orders/by_client_id/{cid}", private=True, order_endpoint=True)
            return self._map("GET /orders/by_client_id", m.order_from, payload)
        except OrderNotFound:
            pass
        found = await self._find_by_client_id(client_id, market)
        if found is None:
            raise OrderNotFound(f"no order with client id {client_id}", code="CLIENT_ORDER_ID_NOT_FOUND")
        return found


def _loads_or_none(raw: bytes) -> Any:
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None
