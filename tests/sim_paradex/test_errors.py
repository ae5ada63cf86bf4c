"""Every error path of the dialect, with hand-made requests: exact HTTP status and Paradex error code."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flashscalper.clock import ManualClock
from flashscalper.domain import Side
from flashscalper.exchanges.paradex.signing import ParadexSigner
from flashscalper.sim.server import Simulator
from tests.sim_paradex.conftest import BTC, Trader

D = Decimal


@pytest.fixture
async def trader(make_trader) -> Trader:
    t = make_trader()
    await t.client.authenticate()  # onboards on the way
    return t


async def post_order(trader: Trader, body: object) -> tuple[int, dict]:
    status, payload, _ = await trader.raw("POST", "/orders", body=body)
    return status, payload


async def test_malformed_json_is_a_binding_error(trader: Trader) -> None:
    status, payload, _ = await trader.raw("POST", "/orders", data=b"{not json",
                                          headers={"Content-Type": "application/json"})
    assert (status, payload["error"]) == (400, "BINDING_ERROR")
    assert set(payload) == {"error", "message", "data"}
    status, payload = await post_order(trader, ["not", "an", "object"])
    assert (status, payload["error"]) == (400, "BINDING_ERROR")


async def test_signature_over_other_values_is_refused(trader: Trader, clock: ManualClock) -> None:
    body = trader.order_body(ts=clock.time_ms())
    body["size"] = "0.002"  # signed for 0.001
    assert (await post_order(trader, body))[1]["error"] == "INVALID_ORDER_SIGNATURE"
    body = trader.order_body(ts=clock.time_ms(), signature='["1","2"]')
    status, payload = await post_order(trader, body)
    assert (status, payload["error"]) == (400, "INVALID_ORDER_SIGNATURE")
    body = trader.order_body(ts=clock.time_ms(), signature="garbage")
    assert (await post_order(trader, body))[1]["error"] == "INVALID_ORDER_SIGNATURE"


async def test_a_key_of_another_account_cannot_sign(trader: Trader, make_trader, clock: ManualClock) -> None:
    other = make_trader()
    forged = ParadexSigner(trader.signer.chain_id, trader.identity.account_address, other.identity.l2_private_key)
    ts = clock.time_ms()
    body = trader.order_body(ts=ts, signature=forged.sign_order(BTC, "BUY", "LIMIT", "0.001", "90000", ts))
    status, payload = await post_order(trader, body)
    assert (status, payload["error"]) == (400, "INVALID_ORDER_SIGNATURE")


async def test_hex_signatures_from_other_clients_verify(trader: Trader, clock: ManualClock) -> None:
    ts = clock.time_ms()
    r, s = trader.signer.sign_hash(trader.signer.order_hash(BTC, "BUY", "LIMIT", "0.001", "90000", ts))
    body = trader.order_body(ts=ts, signature=f'["{hex(r)}","{hex(s)}"]')
    status, payload = await post_order(trader, body)
    assert status == 201 and payload["status"] == "NEW"


async def test_missing_and_expired_jwt(trader: Trader, sim: Simulator, clock: ManualClock) -> None:
    status, payload, _ = await trader.raw("GET", "/account", auth=False)
    assert (status, payload["error"]) == (401, "INVALID_TOKEN")
    assert "missing or malformed jwt" in payload["message"]
    status, payload, _ = await trader.raw("GET", "/account", auth=False, headers={"Authorization": "Bearer x.y.z"})
    assert (status, payload["error"]) == (401, "INVALID_TOKEN")

    token = await trader.client.jwt()
    clock.advance(301_000)
    status, payload, _ = await trader.raw("GET", "/account", auth=False, headers={"Authorization": f"Bearer {token}"})
    assert (status, payload["error"]) == (401, "INVALID_TOKEN")


async def test_jwt_expiry_on_the_virtual_clock_makes_the_client_refresh(trader: Trader, clock: ManualClock) -> None:
    first = await trader.client.jwt()
    await trader.client.balance()
    clock.advance(301_000)
    balance = await trader.client.balance()
    assert balance.wallet > 0
    assert trader.client.auth_count == 2 and await trader.client.jwt() != first


async def test_stale_or_future_signature_timestamp(trader: Trader, clock: ManualClock) -> None:
    now = clock.time_ms()
    status, payload = await post_order(trader, trader.order_body(ts=now - 300_001))
    assert (status, payload["error"]) == (400, "INVALID_TIMESTAMP")
    status, payload = await post_order(trader, trader.order_body(ts=now - 2_000, recv_window=1_000))
    assert (status, payload["error"]) == (400, "INVALID_TIMESTAMP")
    status, payload = await post_order(trader, trader.order_body(ts=now + 600_000))
    assert (status, payload["error"]) == (400, "INVALID_TIMESTAMP")
    status, _ = await post_order(trader, trader.order_body(ts=now - 2_000, recv_window=5_000))
    assert status == 201


async def test_tick_step_and_notional_rules(trader: Trader, clock: ManualClock) -> None:
    ts = clock.time_ms()
    status, payload = await post_order(trader, trader.order_body(ts=ts, price="90000.05"))
    assert (status, payload["error"]) == (400, "VALIDATION_ERROR")
    status, payload = await post_order(trader, trader.order_body(ts=ts, size="0.000015"))
    assert (status, payload["error"]) == (400, "INVALID_ORDER_SIZE")
    status, payload = await post_order(trader, trader.order_body(ts=ts, size="0.00001"))  # 0.95 USD notional
    assert (status, payload["error"]) == (400, "INVALID_ORDER_SIZE")


async def test_unknown_market(trader: Trader, clock: ManualClock) -> None:
    status, payload = await post_order(trader, trader.order_body(ts=clock.time_ms(), market="DOGE-USD-PERP"))
    assert (status, payload["error"]) == (400, "MARKET_NOT_FOUND")
    status, payload, _ = await trader.raw("GET", "/bbo/DOGE-USD-PERP", auth=False)
    assert (status, payload["error"]) == (400, "MARKET_NOT_FOUND")
    status, payload, _ = await trader.raw("GET", "/markets/summary", auth=False)
    assert (status, payload["error"]) == (400, "VALIDATION_ERROR")


async def test_auth_before_onboarding_and_with_a_bad_signature(make_trader, clock: ManualClock) -> None:
    newcomer = make_trader()
    now = clock.time_ms() // 1000
    headers = {
        "PARADEX-STARKNET-ACCOUNT": newcomer.identity.address_hex,
        "PARADEX-STARKNET-SIGNATURE": newcomer.signer.sign_auth(now, now + 600),
        "PARADEX-TIMESTAMP": str(now), "PARADEX-SIGNATURE-EXPIRATION": str(now + 600),
    }
    status, payload, _ = await newcomer.raw("POST", "/auth", auth=False, headers=headers)
    assert (status, payload["error"]) == (400, "NOT_ONBOARDED")

    await newcomer.client.onboard()
    status, payload, _ = await newcomer.raw("POST", f"/auth/{newcomer.identity.public_key_hex}", auth=False,
                                            headers=headers)
    assert status == 200 and payload["jwt_token"].count(".") == 2
    wrong = dict(headers, **{"PARADEX-SIGNATURE-EXPIRATION": str(now + 601)})  # signed for +600
    status, payload, _ = await newcomer.raw("POST", "/auth", auth=False, headers=wrong)
    assert (status, payload["error"]) == (400, "STARKNET_SIGNATURE_VERIFICATION_FAILED")
    week = dict(headers, **{"PARADEX-SIGNATURE-EXPIRATION": str(now + 8 * 86400),
                            "PARADEX-STARKNET-SIGNATURE": newcomer.signer.sign_auth(now, now + 8 * 86400)})
    status, payload, _ = await newcomer.raw("POST", "/auth", auth=False, headers=week)
    assert (status, payload["error"]) == (400, "INVALID_SIGNATURE_EXPIRATION")


async def test_onboarding_checks_address_and_signature(make_trader) -> None:
    newcomer, other = make_trader(), make_trader()
    headers = {"PARADEX-ETHEREUM-ACCOUNT": newcomer.identity.l1_address or "",
               "PARADEX-STARKNET-ACCOUNT": newcomer.identity.address_hex,
               "PARADEX-STARKNET-SIGNATURE": other.signer.sign_onboarding()}
    body = {"public_key": newcomer.identity.public_key_hex}
    status, payload, _ = await newcomer.raw("POST", "/onboarding", auth=False, headers=headers, body=body)
    assert (status, payload["error"]) == (400, "STARKNET_SIGNATURE_VERIFICATION_FAILED")
    elsewhere = dict(headers, **{"PARADEX-STARKNET-ACCOUNT": other.identity.address_hex})
    status, payload, _ = await newcomer.raw("POST", "/onboarding", auth=False, headers=elsewhere, body=body)
    assert (status, payload["error"]) == (400, "INVALID_STARKNET_ADDRESS")
    assert not (await newcomer.client.onboarding_status()).exists


async def test_order_not_found_by_id_and_client_id(trader: Trader) -> None:
    for method in ("GET", "DELETE"):
        status, payload, _ = await trader.raw(method, "/orders/123456789")
        assert (status, payload["error"]) == (404, "ORDER_ID_NOT_FOUND")
        status, payload, _ = await trader.raw(method, "/orders/by_client_id/nope")
        assert (status, payload["error"]) == (404, "CLIENT_ORDER_ID_NOT_FOUND")


async def test_someone_elses_order_is_not_found(trader: Trader, make_trader) -> None:
    ack = await trader.client.limit_order(BTC, Side.BUY, D("0.001"), D("90000"))
    intruder = make_trader()
    status, payload, _ = await intruder.raw("DELETE", f"/orders/{ack.id}")
    assert (status, payload["error"]) == (404, "ORDER_ID_NOT_FOUND")


async def test_duplicate_client_id_among_open_orders(trader: Trader, clock: ManualClock) -> None:
    assert (await post_order(trader, trader.order_body(ts=clock.time_ms(), client_id="dup")))[0] == 201
    status, payload = await post_order(trader, trader.order_body(ts=clock.time_ms() + 1, client_id="dup"))
    assert (status, payload["error"]) == (400, "DUPLICATED_CLIENT_ID")


async def test_market_orders_accept_price_omitted_or_zero(trader: Trader, make_trader, clock: ManualClock) -> None:
    maker = make_trader()
    await maker.client.limit_order(BTC, Side.SELL, D("0.01"), D("95000"))
    ts = clock.time_ms()
    omitted = trader.order_body(ts=ts, type="MARKET", price=None)
    assert "price" not in omitted
    status, payload = await post_order(trader, omitted)
    assert status == 201 and payload["price"] == "0" and payload["status"] == "NEW"
    zero = trader.order_body(ts=ts + 1, type="MARKET", price=None, instruction="GTC")
    zero["price"] = "0"
    assert (await post_order(trader, zero))[0] == 201
    assert (await trader.client.position(BTC)).size == D("0.002")


async def test_cancel_answers_204_and_cancel_all_200_without_body(trader: Trader) -> None:
    ack = await trader.client.limit_order(BTC, Side.BUY, D("0.001"), D("90000"))
    status, payload, _ = await trader.raw("DELETE", f"/orders/{ack.id}")
    assert (status, payload) == (204, None)
    status, payload, _ = await trader.raw("DELETE", "/orders")
    assert (status, payload) == (200, None)


async def test_batch_create_and_batch_cancel(trader: Trader, clock: ManualClock) -> None:
    ts = clock.time_ms()
    bodies = [trader.order_body(ts=ts + i, price=str(90000 + i), client_id=f"b{i}") for i in range(3)]
    status, payload, _ = await trader.raw("POST", "/orders/batch", body=bodies)
    assert status == 201 and [o["client_id"] for o in payload["orders"]] == ["b0", "b1", "b2"]
    assert payload["errors"] == []
    first = payload["orders"][0]["id"]
    await trader.raw("DELETE", f"/orders/{first}")
    status, payload, _ = await trader.raw("DELETE", "/orders/batch",
                                          body={"order_ids": [first, "999"], "client_order_ids": ["b1", "b2"]})
    assert status == 200
    assert [r["status"] for r in payload["results"]] == [
        "ALREADY_CLOSED", "NOT_FOUND", "QUEUED_FOR_CANCELLATION", "QUEUED_FOR_CANCELLATION"]

    bad = [trader.order_body(ts=ts + 10), dict(trader.order_body(ts=ts + 11), signature='["1","2"]')]
    status, payload, _ = await trader.raw("POST", "/orders/batch", body=bad)
    assert (status, payload["error"]) == (400, "INVALID_ORDER_SIGNATURE")
    assert await trader.client.open_orders() == []  # the whole batch was refused
    status, payload, _ = await trader.raw("POST", "/orders/batch", body=[])
    assert (status, payload["error"]) == (400, "BATCH_SIZE_OUT_OF_RANGE")


async def test_injected_429_burst_makes_the_client_wait_then_succeed(sim: Simulator, make_trader) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    client = make_trader(sleep=record).client
    sim.faults.apply({"rest_429_burst": 2})
    markets = await client.markets()
    assert BTC in markets
    assert len(waits) == 2 and all(0 < w <= 1.0 for w in waits)
    assert sim.faults.counters["rest_429"] == 2


async def test_injected_503_burst_is_retried_for_reads(sim: Simulator, make_trader) -> None:
    async def no_wait(_: float) -> None:
        return None

    client = make_trader(sleep=no_wait).client
    sim.faults.apply({"rest_5xx_burst": 2})
    assert await client.system_time() == sim.clock.time_ms()


async def test_token_bucket_answers_429_with_headers(sim: Simulator, trader: Trader, clock: ManualClock) -> None:
    sim.limiter.set_limit("private_get", 2, 1.0)
    answers = [await trader.raw("GET", "/balance") for _ in range(3)]
    assert [a[0] for a in answers] == [200, 200, 429]
    headers = answers[2][2]
    assert headers["x-ratelimit-limit"] == "2" and headers["x-ratelimit-remaining"] == "0"
    assert int(headers["x-ratelimit-reset"]) >= clock.time_ms() // 1000
    assert headers["x-ratelimit-window"] == "1"
    clock.advance(1_000)
    assert (await trader.raw("GET", "/balance"))[0] == 200


async def test_unknown_route_answers_json(trader: Trader) -> None:
    status, payload, _ = await trader.raw("GET", "/no-such-thing", auth=False)
    assert (status, payload["error"]) == (404, "NOT_FOUND")
