"""ParadexRestClient against a small Paradex-shaped aiohttp server on 127.0.0.1 (port 0).

The server verifies the client's real Starknet signatures (auth, onboarding, orders) and issues HS256 JWTs
with a short ``exp``; both sides share a ManualClock so JWT expiry and rate-limit resets run in virtual time.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import Counter
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import jwt
import pytest
from aiohttp import web

from flashscalper.clock import ManualClock
from flashscalper.domain import OrderRequest, OrderStatus, OrderType, Side
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
from flashscalper.exchanges.paradex import signing
from flashscalper.exchanges.paradex.keys import ParadexIdentity
from flashscalper.exchanges.paradex.rest import ParadexRestClient

D = Decimal
CHAIN = "PRIVATE_SN_PARACLEAR_TESTNET"
SECRET = "venue-test-secret-of-at-least-32-bytes"
IDENTITY = ParadexIdentity.from_l2_key(0x3C1E9550E66958296D11B60F8E8E7A7AD990D07FA65D5F7652C4A6C87D4E3CC,
                                       "0x5F1A9E0C2B7D4E", l1_address="0x" + "ab" * 20)
MARKET = {
    "symbol": "BTC-USD-PERP", "base_currency": "BTC", "quote_currency": "USD", "order_size_increment": "0.001",
    "price_tick_size": "0.1", "min_notional": "10", "max_order_size": "100", "position_limit": "500",
    "max_open_orders": 100, "funding_period_hours": 8,
    "delta1_cross_margin_params": {"imf_base": "0.05", "mmf_factor": "0.5"},
}

Reply = Callable[[web.Request], Any]


def error(status: int, code: str, message: str = "", headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": code, "message": message, "data": None}, status=status, headers=headers)


class FakeParadex:
    """Just enough of the venue: scripted failures first, then default behaviour per route."""

    def __init__(self, clock: ManualClock, *, onboarded: bool = True, jwt_lifetime_s: int = 300) -> None:
        self.clock = clock
        self.onboarded = onboarded
        self.jwt_lifetime_s = jwt_lifetime_s
        self.script: dict[str, list[Reply]] = {}
        self.hits: Counter[str] = Counter()
        self.orders: dict[str, dict[str, Any]] = {}
        self.order_bodies: list[dict[str, Any]] = []
        self.auth_tokens_seen: list[str] = []

    def fail_next(self, route: str, *replies: Reply) -> None:
        self.script.setdefault(route, []).extend(replies)

    def now_s(self) -> int:
        return self.clock.time_ms() // 1000

    # -- plumbing
    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path.removeprefix("/v1")
        route = f"{request.method} {path}"
        self.hits[route] += 1
        scripted = self.script.get(route)
        if scripted:
            reply = scripted.pop(0)(request)
            return await reply if inspect.isawaitable(reply) else reply
        if path not in {"/system/config", "/markets", "/auth", "/onboarding", "/markets/summary"}:
            problem = self.check_jwt(request)
            if problem is not None:
                return problem
        handler = getattr(self, "on_" + request.method.lower() + path.replace("/", "_").replace("-", "_"), None)
        if handler is None and path.startswith("/orders/"):
            handler = self.on_order_by_id
        if handler is None:
            return error(404, "NOT_FOUND", f"no route {route}")
        return await handler(request)

    def check_jwt(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return error(401, "UNAUTHORIZED_ERROR", "missing or malformed jwt")
        token = header.removeprefix("Bearer ")
        self.auth_tokens_seen.append(token)
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
        if claims["exp"] <= self.now_s():
            return error(401, "INVALID_TOKEN", "token expired")
        return None

    # -- system, auth
    async def on_get_system_config(self, request: web.Request) -> web.Response:
        return web.json_response({"starknet_chain_id": CHAIN, "l1_chain_id": "11155111",
                                  "paraclear_account_hash": "0x1", "paraclear_account_proxy_hash": "0x2",
                                  "paraclear_decimals": 8})

    async def on_get_markets(self, request: web.Request) -> web.Response:
        return web.json_response({"results": [MARKET]})

    async def on_post_onboarding(self, request: web.Request) -> web.Response:
        account = int(request.headers["PARADEX-STARKNET-ACCOUNT"], 16)
        digest = signing.onboarding_message_hash(CHAIN, account)
        body = await request.json()
        if not signing.verify_signature(digest, request.headers["PARADEX-STARKNET-SIGNATURE"], body["public_key"]):
            return error(400, "INVALID_STARKNET_SIGNATURE")
        self.onboarded = True
        return web.Response(status=200)

    async def on_post_auth(self, request: web.Request) -> web.Response:
        account = int(request.headers["PARADEX-STARKNET-ACCOUNT"], 16)
        ts, exp = int(request.headers["PARADEX-TIMESTAMP"]), int(request.headers["PARADEX-SIGNATURE-EXPIRATION"])
        digest = signing.auth_message_hash(CHAIN, account, ts, exp)
        if not signing.verify_signature(digest, request.headers["PARADEX-STARKNET-SIGNATURE"], IDENTITY.l2_public_key):
            return error(400, "STARKNET_SIGNATURE_VERIFICATION_FAILED")
        if not ts <= self.now_s() <= exp:
            return error(400, "INVALID_TIMESTAMP")
        if not self.onboarded:
            return error(400, "NOT_ONBOARDED", "User has never called /onboarding endpoint")
        now = self.now_s()
        token = jwt.encode({"sub": hex(account), "iat": now, "exp": now + self.jwt_lifetime_s}, SECRET, "HS256")
        return web.json_response({"jwt_token": token})

    # -- account
    async def on_get_account(self, request: web.Request) -> web.Response:
        return web.json_response({"account": IDENTITY.address_hex, "account_value": "1000.5",
                                  "free_collateral": "900", "initial_margin_requirement": "100.5",
                                  "maintenance_margin_requirement": "50", "settlement_asset": "USDC",
                                  "updated_at": 1})

    async def on_get_balance(self, request: web.Request) -> web.Response:
        return web.json_response({"results": [{"token": "USDC", "size": "990.25", "last_updated_at": 1}]})

    async def on_get_fills(self, request: web.Request) -> web.Response:
        page = int(request.query.get("cursor", "0"))
        rows = [{"id": f"f{page}{i}", "order_id": "o1", "client_id": "c1", "market": "BTC-USD-PERP", "side": "BUY",
                 "liquidity": "TAKER", "price": "65000", "size": "0.001", "fee": "0.03", "realized_pnl": "0",
                 "created_at": 1000 + page} for i in range(2)]
        return web.json_response({"results": rows, "next": str(page + 1) if page < 2 else None, "prev": None})

    # -- orders
    async def on_post_orders(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.order_bodies.append(body)
        account = IDENTITY.account_address
        digest = signing.order_message_hash(CHAIN, account, body["market"], body["side"], body["type"], body["size"],
                                            body.get("price"), body["signature_timestamp"])
        if not signing.verify_signature(digest, body["signature"], IDENTITY.l2_public_key):
            return error(400, "INVALID_ORDER_SIGNATURE")
        return web.json_response(self.accept(body), status=201)

    def accept(self, body: dict[str, Any]) -> dict[str, Any]:
        order_id = str(1_000 + len(self.orders))
        order = {"id": order_id, "client_id": body.get("client_id", ""), "market": body["market"],
                 "side": body["side"], "type": body["type"], "size": body["size"], "remaining_size": body["size"],
                 "price": body.get("price", "0"), "status": "NEW", "cancel_reason": "",
                 "instruction": body["instruction"], "flags": body.get("flags", []), "created_at": 5,
                 "last_updated_at": 5, "seq_no": 1}
        self.orders[order_id] = order
        return order

    async def on_get_orders_history(self, request: web.Request) -> web.Response:
        cid = request.query.get("client_id")
        rows = [o for o in self.orders.values() if cid is None or o["client_id"] == cid]
        return web.json_response({"results": rows, "next": None, "prev": None})

    async def on_order_by_id(self, request: web.Request) -> web.Response:
        order_id = request.path.rsplit("/", 1)[1]
        order = self.orders.get(order_id)
        if order is None or order["status"] == "CLOSED":
            return error(404, "ORDER_ID_NOT_FOUND" if order is None else "ORDER_IS_CLOSED")
        if request.method == "PUT":
            body = await request.json()
            digest = signing.modify_order_message_hash(CHAIN, IDENTITY.account_address, body["market"], body["side"],
                                                       body["type"], body["size"], body["price"],
                                                       body["signature_timestamp"], body["id"])
            if not signing.verify_signature(digest, body["signature"], IDENTITY.l2_public_key):
                return error(400, "INVALID_ORDER_SIGNATURE")
            order.update(size=body["size"], remaining_size=body["size"], price=body["price"])
            return web.json_response(order)
        if request.method == "DELETE":
            order["status"], order["cancel_reason"] = "CLOSED", "USER_CANCELED"
            return web.Response(status=204)
        return web.json_response(order)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start_ms=1_764_000_000_000)


@pytest.fixture
async def venue(clock: ManualClock) -> AsyncIterator[tuple[FakeParadex, str]]:
    fake = FakeParadex(clock)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.dispatch)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield fake, f"http://127.0.0.1:{port}/v1"
    await runner.cleanup()


class VirtualSleep:
    """Records each wait and moves the shared clock instead of really sleeping."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(int(seconds * 1000))
        await asyncio.sleep(0)


@pytest.fixture
async def client(venue, clock) -> AsyncIterator[tuple[ParadexRestClient, FakeParadex, VirtualSleep]]:
    fake, url = venue
    sleep = VirtualSleep(clock)
    async with ParadexRestClient(url, IDENTITY, clock=clock, sleep=sleep, max_retries=3) as rest:
        yield rest, fake, sleep


def limit_buy(client_id: str = "cid-1") -> OrderRequest:
    return OrderRequest("BTC-USD-PERP", Side.BUY, OrderType.LIMIT, D("0.010"), client_id, price=D("65000.1"))


# ---- retries and rate limits --------------------------------------------------------------------------


async def test_5xx_is_retried_with_backoff_then_succeeds(client):
    rest, fake, sleep = client
    fake.fail_next("GET /markets", lambda r: error(503, "SERVICE_UNAVAILABLE"), lambda r: web.Response(status=502))
    markets = await rest.markets()
    assert markets["BTC-USD-PERP"].tick_size == D("0.1")
    assert fake.hits["GET /markets"] == 3
    assert len(sleep.waits) == 2 and all(0 <= w <= 2.0 for w in sleep.waits)
    assert rest.latency_stats()["GET /markets"].count == 3


async def test_5xx_beyond_the_retry_budget_is_exchange_unavailable(client):
    rest, fake, _ = client
    fake.fail_next("GET /markets", *[lambda r: error(500, "INTERNAL_ERROR")] * 4)
    with pytest.raises(ExchangeUnavailable) as info:
        await rest.markets()
    assert info.value.status == 500 and fake.hits["GET /markets"] == 4


async def test_dropped_connection_is_retried(client):
    rest, fake, _ = client

    def hang_up(request: web.Request) -> web.Response:
        request.transport.close()
        return web.Response()

    fake.fail_next("GET /markets", hang_up)
    assert "BTC-USD-PERP" in await rest.markets()
    assert fake.hits["GET /markets"] == 2


async def test_timeout_is_exchange_unavailable(venue, clock):
    fake, url = venue

    async def too_slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.5)
        return web.json_response({"results": [MARKET]})

    fake.fail_next("GET /markets", too_slow)
    async with ParadexRestClient(url, clock=clock, timeout_s=0.1, max_retries=0) as rest:
        with pytest.raises(ExchangeUnavailable, match=r"GET /markets: .*Timeout"):
            await rest.markets()


async def test_429_waits_until_the_reset_header_then_retries(client, clock):
    rest, fake, sleep = client
    reset = str(clock.time_ms() // 1000 + 3)
    fake.fail_next("GET /markets", lambda r: error(429, "RATE_LIMIT", headers={"x-ratelimit-reset": reset}))
    await rest.markets()
    assert sleep.waits == [pytest.approx(3.0)]


async def test_persistent_429_raises_rate_limited_with_retry_after(client, clock):
    rest, fake, sleep = client
    fake.fail_next("GET /markets", *[lambda r: error(429, "", headers={"x-ratelimit-reset": "2"})] * 4)
    with pytest.raises(RateLimited) as info:
        await rest.markets()
    assert info.value.retry_after == pytest.approx(2.0)
    assert sleep.waits == [pytest.approx(2.0)] * 3


async def test_429_without_reset_uses_the_bounded_default(client):
    rest, fake, sleep = client
    fake.fail_next("GET /markets", lambda r: web.Response(status=429))
    await rest.markets()
    assert sleep.waits == [1.0]


# ---- error bodies -------------------------------------------------------------------------------------


async def test_order_error_body_becomes_order_rejected_with_the_venue_code(client):
    rest, fake, _ = client
    fake.fail_next("POST /orders", lambda r: error(400, "INVALID_ORDER_SIZE", "size too small"))
    with pytest.raises(OrderRejected) as info:
        await rest.create_order(limit_buy())
    assert info.value.reason == "INVALID_ORDER_SIZE" and "size too small" in str(info.value)


async def test_non_order_400_is_a_plain_exchange_error(client):
    rest, fake, _ = client
    fake.fail_next("GET /markets/summary", lambda r: error(400, "VALIDATION_ERROR", "market is required"))
    with pytest.raises(ExchangeError) as info:
        await rest.markets_summary("NOPE")
    assert type(info.value) is ExchangeError and info.value.code == "VALIDATION_ERROR"


async def test_persistent_401_is_auth_failed_after_one_reauth(client):
    rest, fake, _ = client
    fake.fail_next("GET /account", *[lambda r: error(401, "INVALID_TOKEN")] * 2)
    with pytest.raises(AuthFailed):
        await rest.account()
    assert fake.hits["POST /auth"] == 2  # the first token, then one forced refresh


async def test_balance_combines_account_and_balance(client):
    rest, _, _ = client
    balance = await rest.balance()
    assert (balance.wallet, balance.equity, balance.available) == (D("990.25"), D("1000.5"), D(900))


async def test_non_json_and_wrong_shapes_are_malformed_with_the_path(client):
    rest, fake, _ = client
    fake.fail_next("GET /markets", lambda r: web.Response(text="<html>oops</html>", content_type="text/html"))
    with pytest.raises(MalformedMessage, match="GET /markets: answer is not JSON"):
        await rest.markets()
    fake.fail_next("GET /markets", lambda r: web.json_response({"results": {"BTC": 1}}))
    with pytest.raises(MalformedMessage, match=r"GET /markets: .*results"):
        await rest.markets()
    fake.fail_next("GET /markets", lambda r: web.json_response({"results": [dict(MARKET, price_tick_size=None)]}))
    with pytest.raises(MalformedMessage, match=r"GET /markets: .*price_tick_size"):
        await rest.markets()


# ---- auth, JWT lifetime and onboarding ---------------------------------------------------------------


async def test_jwt_is_reused_then_refreshed_once_when_near_expiry(client, clock):
    rest, fake, _ = client
    await rest.account()
    await rest.account()
    assert fake.hits["POST /auth"] == 1
    clock.advance(250_000)  # 50 s left on a 300 s token: inside the 60 s margin
    await asyncio.gather(*(rest.account() for _ in range(10)))
    assert fake.hits["POST /auth"] == 2 and rest.auth_count == 2
    assert len(set(fake.auth_tokens_seen)) == 2


async def test_expired_token_rejected_by_server_triggers_reauth(venue, clock):
    fake, url = venue
    fake.jwt_lifetime_s = 90  # valid for 30 s beyond the refresh margin
    async with ParadexRestClient(url, IDENTITY, chain_id=CHAIN, clock=clock) as rest:
        await rest.account()
        fake.jwt_lifetime_s = 300
        clock.advance(20_000)
        fake.fail_next("GET /account", lambda r: error(401, "INVALID_TOKEN", "revoked"))
        await rest.account()
        assert fake.hits["POST /auth"] == 2 and fake.hits["GET /system/config"] == 0


async def test_not_onboarded_account_is_onboarded_then_authenticated(venue, clock):
    fake, url = venue
    fake.onboarded = False
    async with ParadexRestClient(url, IDENTITY, clock=clock) as rest:
        await rest.account()
    assert fake.onboarded
    assert fake.hits["POST /auth"] == 2 and fake.hits["POST /onboarding"] == 1


async def test_public_client_refuses_private_calls(venue):
    _, url = venue
    async with ParadexRestClient(url) as rest:
        assert "BTC-USD-PERP" in await rest.markets()
        with pytest.raises(AuthFailed, match="no credentials"):
            await rest.account()


# ---- orders ------------------------------------------------------------------------------------------


async def test_create_order_sends_a_signed_section5_body(client):
    rest, fake, _ = client
    order = await rest.create_order(limit_buy())
    assert order.status is OrderStatus.NEW and order.client_id == "cid-1"
    body = fake.order_bodies[-1]
    assert body["price"] == "65000.1" and body["size"] == "0.010" and body["instruction"] == "GTC"
    assert isinstance(body["signature_timestamp"], int)


async def test_modify_order_is_signed_and_keeps_the_id(client):
    rest, _, _ = client
    order = await rest.create_order(limit_buy())
    moved = OrderRequest("BTC-USD-PERP", Side.BUY, OrderType.LIMIT, D("0.020"), "cid-1", price=D("64990.5"))
    modified = await rest.modify_order(order.id, moved)
    assert modified.id == order.id and modified.price == D("64990.5") and modified.size == D("0.020")


async def test_stop_loss_without_size_closes_the_whole_position(client):
    rest, fake, _ = client
    order = await rest.stop_loss_order("BTC-USD-PERP", Side.SELL, D("60000.0"))
    body = fake.order_bodies[-1]
    assert body["type"] == "STOP_LOSS_MARKET" and body["size"] == "0" and body["flags"] == ["REDUCE_ONLY"]
    assert "price" not in body and body["trigger_price"] == "60000.0"
    assert order.type is OrderType.STOP_MARKET and order.reduce_only


async def test_create_order_validates_before_signing(client):
    rest, fake, _ = client
    bad = OrderRequest("BTC-USD-PERP", Side.BUY, OrderType.LIMIT, D("0.010"), "c", price=D("65000.03"))
    with pytest.raises(InvalidOrder, match=r"nearest valid: 65000\.0"):
        await rest.create_order(bad)
    assert fake.hits["POST /orders"] == 0


async def test_order_with_client_id_that_landed_before_a_5xx_is_not_sent_twice(client):
    rest, fake, _ = client

    def landed_then_503(request: web.Request) -> web.Response:
        return error(503, "SERVICE_UNAVAILABLE")

    # The venue accepted the order but the answer was lost.
    fake.fail_next("POST /orders", landed_then_503)
    fake.accept({"client_id": "cid-9", "market": "BTC-USD-PERP", "side": "BUY", "type": "LIMIT", "size": "0.010",
                 "price": "65000.1", "instruction": "GTC"})
    order = await rest.create_order(limit_buy("cid-9"))
    assert order.client_id == "cid-9" and len(fake.orders) == 1
    assert fake.hits["POST /orders"] == 1 and fake.hits["GET /orders-history"] == 1


async def test_order_with_client_id_that_did_not_land_is_resent(client):
    rest, fake, _ = client
    fake.fail_next("POST /orders", lambda r: error(503, "SERVICE_UNAVAILABLE"))
    order = await rest.create_order(limit_buy("cid-10"))
    assert order.client_id == "cid-10" and fake.hits["POST /orders"] == 2


async def test_order_without_client_id_is_never_resent(client):
    rest, fake, _ = client
    fake.fail_next("POST /orders", lambda r: error(503, "SERVICE_UNAVAILABLE"))
    with pytest.raises(ExchangeUnavailable):
        await rest.create_order(limit_buy(client_id=""))
    assert fake.hits["POST /orders"] == 1


async def test_cancel_of_an_unknown_or_closed_order_returns_false(client):
    rest, _, _ = client
    order = await rest.create_order(limit_buy())
    assert await rest.cancel_order(order.id) is True
    assert await rest.cancel_order(order.id) is False  # ORDER_IS_CLOSED
    assert await rest.cancel_order("999999") is False  # ORDER_ID_NOT_FOUND


async def test_cancel_by_client_id_not_found_returns_false(client):
    rest, fake, _ = client
    fake.fail_next("DELETE /orders/by_client_id/nope", lambda r: error(404, "CLIENT_ORDER_ID_NOT_FOUND"))
    assert await rest.cancel_order(client_id="nope", market="BTC-USD-PERP") is False


async def test_get_order_falls_back_to_history_for_closed_orders(client):
    rest, _, _ = client
    order = await rest.create_order(limit_buy())
    await rest.cancel_order(order.id)
    closed = await rest.get_order(order.id)
    assert closed.status is OrderStatus.CANCELED and closed.cancel_reason == "USER_CANCELED"
    with pytest.raises(OrderNotFound):
        await rest.get_order("424242")


async def test_fills_follow_cursors(client):
    rest, fake, _ = client
    fills = await rest.fills("BTC-USD-PERP")
    assert [f.id for f in fills] == ["f00", "f01", "f10", "f11", "f20", "f21"]
    assert fake.hits["GET /fills"] == 3
