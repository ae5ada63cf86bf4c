"""Error paths end to end: what the simulated venue answers, and what the client makes of it."""

from __future__ import annotations

import time
from decimal import Decimal

import aiohttp
import pytest
from eth_account import Account

from flashscalper.clock import WallClock
from flashscalper.domain import OrderRequest, OrderType, Side
from flashscalper.errors import AuthFailed, ExchangeError, InvalidOrder, OrderNotFound, OrderRejected, RateLimited
from flashscalper.exchanges.aster.auth import AgentSigner, HmacSigner
from flashscalper.exchanges.aster.errors import error_from_response
from flashscalper.exchanges.aster.rest import AgentCredentials, AsterRestClient, HmacCredentials
from flashscalper.sim.aster.registry import AsterRegistry
from flashscalper.sim.server import Simulator
from tests.aster_sim.conftest import v1_credentials, v3_credentials


async def _raw(sim: Simulator, signed) -> tuple[int, dict, bytes]:  # type: ignore[no-untyped-def]
    """Send an already-signed request exactly as signed and return (status, headers, body)."""
    from yarl import URL

    assert sim.urls is not None
    async with aiohttp.ClientSession() as session, session.request(
            signed.method, URL(sim.urls.aster_rest + signed.url_path, encoded=True), data=signed.body or None,
            headers=signed.headers) as resp:
        return resp.status, dict(resp.headers), await resp.read()


def _code(error: Exception | None) -> int | None:
    return getattr(error, "aster_code", None)


async def test_wrong_hmac_secret_is_an_invalid_signature(sim: Simulator, registry: AsterRegistry) -> None:
    key, _secret, _ = registry.add_api_key()
    client = AsterRestClient(sim.urls.aster_rest, HmacCredentials(key, "not-the-secret"))  # type: ignore[union-attr]
    with pytest.raises(AuthFailed) as caught:
        await client.balance()
    assert _code(caught.value) == -1022
    await client.close()


async def test_unknown_api_key_is_refused(sim: Simulator) -> None:
    client = AsterRestClient(sim.urls.aster_rest, HmacCredentials("nobody", "x"))  # type: ignore[union-attr]
    with pytest.raises(AuthFailed) as caught:
        await client.balance()
    assert _code(caught.value) == -2015
    await client.close()


async def test_v3_signature_for_another_chain_or_by_a_stranger(sim: Simulator, registry: AsterRegistry) -> None:
    good = v3_credentials(registry)
    testnet = AgentCredentials(good.user, good.signer, good.private_key, chain_id=714)
    client = AsterRestClient(sim.urls.aster_rest, testnet)  # type: ignore[union-attr]
    with pytest.raises(AuthFailed) as caught:
        await client.balance()
    assert _code(caught.value) == -1022
    await client.close()

    stranger = Account.create()  # signs correctly, but was never approved as the user's agent
    client = AsterRestClient(sim.urls.aster_rest, AgentCredentials(good.user, stranger.address,  # type: ignore[union-attr]
                                                                   stranger.key.hex()))
    with pytest.raises(AuthFailed) as caught:
        await client.balance()
    assert _code(caught.value) == -2015
    await client.close()


async def test_stale_timestamp_is_refused_and_the_client_resyncs(sim: Simulator, registry: AsterRegistry) -> None:
    creds = v1_credentials(registry)
    stale = HmacSigner(creds.api_key, creds.api_secret, clock=WallClock(offset_ms=-30_000))
    status, headers, body = await _raw(sim, stale.sign("GET", "/fapi/v2/balance"))
    error = error_from_response(status, body, headers)
    assert status == 400 and isinstance(error, AuthFailed) and _code(error) == -1021
    ahead = HmacSigner(creds.api_key, creds.api_secret, clock=WallClock(offset_ms=5_000))
    status, headers, body = await _raw(sim, ahead.sign("GET", "/fapi/v2/balance"))
    assert _code(error_from_response(status, body, headers)) == -1021

    client = AsterRestClient(sim.urls.aster_rest, creds)  # type: ignore[union-attr]
    client.clock.offset_ms = -30_000  # a skewed local clock
    assert (await client.balance()).wallet == sim.fund_usdc
    assert client.time_syncs == 1 and abs(client.clock.offset_ms) < 1000
    await client.close()


async def test_expired_and_duplicate_nonces(sim: Simulator, registry: AsterRegistry) -> None:
    creds = v3_credentials(registry)
    signer = AgentSigner(creds.user, creds.private_key, signer=creds.signer)
    now_us = time.time_ns() // 1000
    status, headers, body = await _raw(sim, signer.sign("GET", "/fapi/v3/balance", nonce=now_us - 20_000_000))
    error = error_from_response(status, body, headers)
    assert isinstance(error, AuthFailed) and _code(error) == -4225

    fresh = signer.sign("GET", "/fapi/v3/balance", nonce=now_us)
    assert (await _raw(sim, fresh))[0] == 200
    status, headers, body = await _raw(sim, fresh)  # replayed byte for byte
    assert _code(error_from_response(status, body, headers)) == -4225

    client = AsterRestClient(sim.urls.aster_rest, creds)  # type: ignore[union-attr]
    client.clock.offset_ms = -60_000
    assert (await client.balance()).wallet == sim.fund_usdc
    assert client.time_syncs == 1
    await client.close()


async def test_min_notional_before_signing_and_at_the_venue(make_exchange, credentials) -> None:  # type: ignore[no-untyped-def]
    exchange = await make_exchange(credentials)
    tiny = OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, Decimal("0.00001"), "tiny")
    quote = await exchange.quote("BTCUSDT")
    tiny_limit = OrderRequest("BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal("0.00001"), "tiny-l",
                              price=(quote.bid * Decimal("0.99")).quantize(Decimal("0.1")))
    with pytest.raises(InvalidOrder) as caught:
        await exchange.place_order(tiny_limit)
    assert caught.value.rule == "min_notional"
    with pytest.raises(OrderRejected) as rejected:
        await exchange.rest.create_order(tiny)  # straight to the venue, no pre-trade check
    assert rejected.value.reason == "MIN_NOTIONAL" and _code(rejected.value) == -4164


async def test_unknown_symbol(make_exchange, credentials) -> None:  # type: ignore[no-untyped-def]
    exchange = await make_exchange(credentials)
    with pytest.raises(ExchangeError) as caught:
        await exchange.quote("DOGEUSDT")
    assert _code(caught.value) == -1121
    with pytest.raises(ExchangeError):
        await exchange.place_order(OrderRequest("DOGEUSDT", Side.BUY, OrderType.MARKET, Decimal(1), "doge"))
    with pytest.raises(ExchangeError) as caught:
        await exchange.rest.create_order(OrderRequest("DOGEUSDT", Side.BUY, OrderType.MARKET, Decimal(1), "doge"))
    assert _code(caught.value) == -1121


async def test_margin_insufficient(make_exchange, credentials) -> None:  # type: ignore[no-untyped-def]
    exchange = await make_exchange(credentials)
    with pytest.raises(OrderRejected) as caught:
        await exchange.place_order(OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, Decimal("3"), "whale"))
    assert caught.value.reason == "MARGIN_NOT_SUFFICIENT" and _code(caught.value) == -2019
    with pytest.raises(OrderNotFound):  # a synchronous reject leaves no order behind
        await exchange.get_order("BTCUSDT", client_id="whale")


async def test_order_not_found(make_exchange, credentials) -> None:  # type: ignore[no-untyped-def]
    exchange = await make_exchange(credentials)
    with pytest.raises(OrderNotFound) as caught:
        await exchange.get_order("BTCUSDT", order_id="424242")
    assert _code(caught.value) == -2013
    assert await exchange.cancel_order("BTCUSDT", order_id="424242") is False
    with pytest.raises(OrderNotFound) as caught:
        await exchange.rest.cancel_order("BTCUSDT", client_id="never-sent")
    assert _code(caught.value) == -2011


async def test_429_waits_retry_after_then_succeeds(sim: Simulator) -> None:
    client = AsterRestClient(sim.urls.aster_rest)  # type: ignore[union-attr]
    sim.faults.apply({"rest_429_burst": 1})
    started = time.monotonic()
    assert await client.server_time() > 0
    assert time.monotonic() - started >= 0.9  # Retry-After: 1
    assert sim.faults.counters["rest_429"] == 1
    await client.close()


async def test_418_ban_longer_than_we_wait_raises(sim: Simulator, registry: AsterRegistry) -> None:
    registry.ban_after_429 = 1
    client = AsterRestClient(sim.urls.aster_rest)  # type: ignore[union-attr]
    sim.faults.apply({"rest_429_burst": 1})
    with pytest.raises(RateLimited) as caught:
        await client.server_time()
    assert caught.value.status == 418 and caught.value.retry_after >= 100
    await client.close()


async def test_weight_limit_answers_429_with_headers(sim: Simulator) -> None:
    sim.limiter.set_limit("aster_weight", 3, 60.0)
    client = AsterRestClient(sim.urls.aster_rest, max_retries=0)  # type: ignore[union-attr]
    for _ in range(3):
        await client.server_time()
    assert client.used_weight == 3
    with pytest.raises(RateLimited) as caught:
        await client.server_time()
    assert caught.value.status == 429 and _code(caught.value) == -1003 and caught.value.retry_after > 0
    await client.close()


async def test_5xx_on_a_read_is_retried(sim: Simulator) -> None:
    client = AsterRestClient(sim.urls.aster_rest, backoff_base_s=0.01)  # type: ignore[union-attr]
    sim.faults.apply({"rest_5xx_burst": 2})
    assert await client.server_time() > 0
    assert sim.faults.counters["rest_5xx"] == 2
    await client.close()


async def test_order_post_lost_to_a_503_is_resent_once(make_exchange, credentials, sim: Simulator) -> None:  # type: ignore[no-untyped-def]
    exchange = await make_exchange(credentials)
    sim.faults.apply({"rest_5xx_burst": 1})  # the first POST never reaches the matching engine
    order = await exchange.place_order(OrderRequest("SOLUSDT", Side.BUY, OrderType.MARKET, Decimal("1"), "retry-1"))
    assert order.client_id == "retry-1" and order.filled_size == Decimal(1)
    assert [f.order_id for f in await exchange.fills("SOLUSDT")] == [order.id]  # exactly one order executed
