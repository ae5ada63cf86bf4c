"""Async Paradex REST client on aiohttp (protocol/paradex.md §2–§5), speaking domain types.

Retry rule (why each request may or may not be resent; the policy is :mod:`flashscalper.exchanges.retry`):
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

Transport (sending, retries, error mapping, latency) is in :mod:`.http`; onboarding and the JWT in :mod:`.auth`.
The JWT and keys are never logged or put into error messages.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import aiohttp

from flashscalper.clock import Clock, WallClock
from flashscalper.domain import (
    Balance,
    Fill,
    FundingPayment,
    Order,
    OrderRequest,
    OrderType,
    Position,
    Side,
    TimeInForce,
)
from flashscalper.errors import ExchangeError, InvalidOrder, OrderNotFound, OrderRejected
from flashscalper.exchanges.paradex import mapping as m
from flashscalper.exchanges.paradex.auth import ParadexAuth
from flashscalper.exchanges.paradex.http import LatencyStats, ParadexHttp, error_for, map_answer, map_results
from flashscalper.exchanges.paradex.keys import ParadexIdentity
from flashscalper.exchanges.paradex.market_data import ParadexMarketData
from flashscalper.exchanges.paradex.validation import validate_order
from flashscalper.exchanges.retry import RetryPolicy, create_once

__all__ = ["LatencyStats", "ParadexRestClient", "error_for", "new_client_id"]


def new_client_id() -> str:
    """A fresh client order id (≤64 chars, unique enough to make order creation idempotent)."""
    return "fs" + secrets.token_hex(12)


class ParadexRestClient(ParadexMarketData):
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
        self._clock: Clock = clock or WallClock()
        self._retry = RetryPolicy(max_retries, backoff_base_s, backoff_cap_s, rate_limit_max_wait_s, sleep=sleep,
                                  rng=rng or random.Random())
        http = ParadexHttp(base_url, clock=self._clock, policy=self._retry, session=session,
                           timeout_s=timeout_s, rate_limit_default_wait_s=rate_limit_default_wait_s)
        super().__init__(http, ParadexAuth(http, identity, clock=self._clock, chain_id=chain_id,
                                           auth_signature_ttl_s=auth_signature_ttl_s, auto_onboard=auto_onboard))

    @property
    def identity(self) -> ParadexIdentity | None:
        return self._auth.identity

    @property
    def auth_count(self) -> int:
        """Successful ``/auth`` calls so far (observability)."""
        return self._auth.auth_count

    async def __aenter__(self) -> ParadexRestClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this client created it."""
        await self._http.close()

    def latency_stats(self) -> dict[str, LatencyStats]:
        """Per endpoint ("GET /markets", "POST /orders", …): count, mean, median and max over the last 256."""
        return self._http.latency_stats()

    # ---------------------------------------------------------------------------- onboarding & auth

    async def onboarding_status(self) -> m.OnboardingStatus:
        """``GET /onboarding``: does the venue know this Starknet key?"""
        return await self._auth.onboarding_status()

    async def onboard(self) -> None:
        """``POST /onboarding`` (idempotent): register the account once, signed with the L2 key."""
        await self._auth.onboard()

    async def authenticate(self) -> None:
        """Get a fresh JWT now, onboarding first when the venue says NOT_ONBOARDED."""
        await self._auth.authenticate()

    # ------------------------------------------------------------------------------------- account

    async def jwt(self) -> str:
        """The current JWT, refreshed first when it is near expiry (the WebSocket authenticates with it)."""
        return await self._auth.token()

    async def account(self) -> Mapping[str, Any]:
        """``GET /account``: the raw account summary object (margin figures as decimal strings)."""
        return map_answer("GET /account", lambda p: m.require_obj(p, "account"),
                         await self._call("GET", "/account", private=True))

    async def token_balances(self) -> dict[str, Decimal]:
        """``GET /balance``: {token: size}."""
        return map_answer("GET /balance", m.token_balances_from, await self._call("GET", "/balance", private=True))

    async def balance(self) -> Balance:
        """Collateral view from ``/account`` and ``/balance`` read concurrently."""
        account, tokens = await asyncio.gather(self.account(), self.token_balances())
        return map_answer("GET /account", lambda a: m.balance_from(a, tokens), account)

    async def positions(self, *, include_closed: bool = False) -> list[Position]:
        payload = await self._call("GET", "/positions", private=True)
        rows = map_answer("GET /positions", lambda p: m.results(p, "response"), payload)
        keep = [r for r in rows if include_closed or not (isinstance(r, Mapping) and r.get("status") == "CLOSED")]
        return [map_answer("GET /positions", m.position_from, r) for r in keep]

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
        signer = await self._auth.signer()

        async def send() -> Order:
            ts = self._clock.time_ms()  # every resend is signed afresh
            signature = signer.sign_order(request.market, request.side.value, m.venue_order_type(request),
                                          request.size, m.signed_price(request), ts)
            body = m.order_body(request, signature=signature, signature_timestamp_ms=ts,
                                recv_window_ms=recv_window_ms, stp=stp)
            payload = await self._call("POST", "/orders", body=body, private=True, retry=False,
                                       order_endpoint=True)
            return map_answer("POST /orders", m.order_from, payload)

        cid = request.client_id
        find = (lambda: self._find_by_client_id(cid, request.market)) if cid else None
        return await create_once(self._retry, send, find, is_duplicate=_duplicate_client_id)

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
        signer = await self._auth.signer()
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
        return map_answer(f"PUT /orders/{order_id}", m.order_from, payload)

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
        return map_results("GET /orders", m.order_from, payload)

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
            return map_answer(f"GET /orders/{order_id}", m.order_from, payload)
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
            return map_answer("GET /orders/by_client_id", m.order_from, payload)
        except OrderNotFound:
            pass
        found = await self._find_by_client_id(client_id, market)
        if found is None:
            raise OrderNotFound(f"no order with client id {client_id}", code="CLIENT_ORDER_ID_NOT_FOUND")
        return found


def _duplicate_client_id(exc: ExchangeError) -> bool:
    """Paradex refuses a resend whose first attempt is still open with DUPLICATED_CLIENT_ID."""
    return isinstance(exc, OrderRejected) and exc.reason == "DUPLICATED_CLIENT_ID"
