"""JSON-RPC behaviour of the simulated Paradex WebSocket: errors, auth checks and order methods."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from flashscalper.domain import OrderStatus, Side
from flashscalper.sim.server import Simulator

from .conftest import BTC, MAKER, Connect, Trader, eventually, onboard, place

D = Decimal


async def test_malformed_frames_get_errors_and_the_socket_stays_open(connect: Connect) -> None:
    ws = await connect()
    await ws.send_raw("{not json")
    parse = await ws.answer(None)
    assert parse["error"]["code"] == -32700 and parse["id"] is None
    await ws.send_raw('[1, 2]')
    assert (await ws.answer(None))["error"]["code"] == -32600
    await ws.send_raw('{"jsonrpc": "1.0", "method": "auth", "id": 7}')
    assert (await ws.answer(7))["error"]["code"] == -32600
    assert (await ws.call("order.teleport", {}))["error"]["code"] == -32601
    assert (await ws.call("subscribe", ["bbo.BTC-USD-PERP"]))["error"]["code"] == -32602
    await ws.ws.send_bytes(b"\x01\x02")
    assert (await ws.answer(None))["error"]["code"] == -32600
    # still serving after all of that
    assert await ws.result("subscribe", {"channel": f"bbo.{BTC}"}) == {"channel": f"bbo.{BTC}"}
    assert not ws.ws.closed


async def test_subscribing_twice_and_unsubscribing_unknown_channels_are_errors(connect: Connect) -> None:
    ws = await connect()
    channel = f"trades.{BTC}"
    await ws.result("subscribe", {"channel": channel})
    again = await ws.call("subscribe", {"channel": channel})
    assert "already subscribed" in again["error"]["message"]
    assert await ws.result("unsubscribe", {"channel": channel}) == {"channel": channel}
    not_there = await ws.call("unsubscribe", {"channel": channel})
    assert "not subscribed" in not_there["error"]["message"]


async def test_unsubscribed_channels_go_quiet(sim: Simulator, connect: Connect) -> None:
    ws = await connect()
    await ws.result("subscribe", {"channel": f"bbo.{BTC}"})
    place(sim, MAKER, Side.SELL, "1", "95010")
    place(sim, MAKER, Side.BUY, "1", "94990")
    await ws.pushes_on(f"bbo.{BTC}")
    await ws.result("unsubscribe", {"channel": f"bbo.{BTC}"})
    seen = len(ws.pushes)
    place(sim, MAKER, Side.BUY, "1", "94995")
    await ws.result("subscribe", {"channel": f"trades.{BTC}"})  # a round trip after the book moved
    assert len(ws.pushes) == seen


async def test_private_channels_and_order_methods_need_auth(connect: Connect, trader: Trader, sim: Simulator) -> None:
    ws = await connect()
    for channel in ("orders.ALL", "fills.ALL", "positions", "account", "balance_events", "tradebusts"):
        assert (await ws.call("subscribe", {"channel": channel}))["error"]["code"] == 40300, channel
    for method, params in (("order.create", trader.order_params(sim)), ("order.cancel", {"id": "1"}),
                           ("order.cancel_all", {}), ("order.cancel_on_disconnect", {"enabled": True})):
        assert (await ws.call(method, params))["error"]["code"] == 40300, method


async def test_bad_bearers(connect: Connect, sim: Simulator) -> None:
    ws = await connect()
    assert (await ws.call("auth", {"bearer": "not-a-jwt"}))["error"]["code"] == 40110
    assert (await ws.call("auth", {}))["error"]["code"] == 40110
    foreign = jwt.encode({"sub": "0x1", "iss": "someone-else", "exp": sim.clock.time_ms() // 1000 + 300},
                         ec.generate_private_key(ec.SECP384R1()), algorithm="ES384")
    assert (await ws.call("auth", {"bearer": foreign}))["error"]["code"] == 40111
    expired = sim.tokens.issue("0xabc")
    sim.advance(301_000)
    assert (await ws.call("auth", {"bearer": expired}))["error"]["code"] == 40111


async def test_order_create_places_a_signed_order(sim: Simulator, connect: Connect, trader: Trader) -> None:
    ws = await connect()
    await ws.result("auth", {"bearer": trader.token})
    await ws.result("subscribe", {"channel": f"orders.{BTC}"})
    params = trader.order_params(sim, side="BUY", size="0.02", price="90000", instruction="POST_ONLY")
    result = await ws.result("order.create", params)
    order = result["order"]
    assert order["status"] == "NEW" and order["client_id"] == params["client_id"]
    assert order["instruction"] == "POST_ONLY" and order["account"] == trader.id
    resting = sim.exchange.get_order(order["id"], trader.id)
    assert resting.status is OrderStatus.OPEN and resting.price == D(90000) and resting.size == D("0.02")
    pushed = await ws.pushes_on(f"orders.{BTC}", 2)
    assert [p["status"] for p in pushed] == ["NEW", "OPEN"]
    assert pushed[-1]["instruction"] == "POST_ONLY" and pushed[-1]["timestamp"] == params["signature_timestamp"]

    cancel = await ws.result("order.cancel", {"id": order["id"]})
    assert cancel == {"order_id": order["id"], "status": "QUEUED_FOR_CANCELLATION"}
    closed = (await ws.pushes_on(f"orders.{BTC}", 3))[-1]
    assert closed["status"] == "CLOSED" and closed["cancel_reason"] == "USER_CANCELED"
    again = await ws.call("order.cancel", {"id": order["id"]})
    assert again["error"]["code"] == 100 and again["error"]["message"] == "ORDER_IS_CLOSED"


async def test_order_create_refuses_a_bad_signature(sim: Simulator, connect: Connect, trader: Trader) -> None:
    ws = await connect()
    await ws.result("auth", {"bearer": trader.token})
    params = trader.order_params(sim, size="0.02", price="90000")
    params["price"] = "90001"  # signed for 90000
    answer = await ws.call("order.create", params)
    assert answer["error"]["code"] == 100 and answer["error"]["message"] == "INVALID_ORDER_SIGNATURE"
    someone_else = onboard(sim, 0x5EED_CAFE_0002)
    stolen = someone_else.order_params(sim, size="0.02", price="90000")  # valid, but not for this account
    assert (await ws.call("order.create", stolen))["error"]["message"] == "INVALID_ORDER_SIGNATURE"
    bad_shape = await ws.call("order.create", {**trader.order_params(sim), "side": "SIDEWAYS"})
    assert bad_shape["error"]["code"] == -32602
    assert sim.exchange.open_orders(trader.id) == []


async def test_cancel_all_and_by_client_id(sim: Simulator, connect: Connect, trader: Trader) -> None:
    ws = await connect()
    await ws.result("auth", {"bearer": trader.token})
    first = trader.order_params(sim, price="90000")
    await ws.result("order.create", first)
    await ws.result("order.create", trader.order_params(sim, price="89000"))
    await ws.result("order.create", trader.order_params(sim, side="SELL", price="3500", size="0.1",
                                                        market="ETH-USD-PERP"))
    by_client = await ws.result("order.cancel", {"client_id": first["client_id"], "market": BTC})
    assert by_client["status"] == "QUEUED_FOR_CANCELLATION"
    assert len(sim.exchange.open_orders(trader.id)) == 2
    assert await ws.result("order.cancel_all", {"market": BTC}) == {"status": "ok"}
    assert [o.market for o in sim.exchange.open_orders(trader.id)] == ["ETH-USD-PERP"]
    assert await ws.result("order.cancel_all", {}) == {"status": "ok"}
    assert sim.exchange.open_orders(trader.id) == []


async def test_order_methods_share_the_rate_limit(sim: Simulator, connect: Connect, trader: Trader) -> None:
    sim.limiter.set_limit("orders", 2, 60.0)
    ws = await connect()
    await ws.result("auth", {"bearer": trader.token})
    await ws.result("order.cancel_all", {})
    await ws.result("order.cancel_all", {})
    limited = await ws.call("order.cancel_all", {})
    assert limited["error"]["code"] == 42901


async def test_cancel_on_disconnect_cancels_when_armed(sim: Simulator, connect: Connect, trader: Trader) -> None:
    armed = await connect()
    await armed.result("auth", {"bearer": trader.token})
    assert await armed.result("order.cancel_on_disconnect", {"enabled": True}) == {"enabled": True}
    await armed.result("order.create", trader.order_params(sim, price="90000"))
    place(sim, trader.id, Side.SELL, "0.01", "99000")  # engine-side orders of the account go too
    assert len(sim.exchange.open_orders(trader.id)) == 2
    await armed.close()
    await eventually(lambda: not sim.exchange.open_orders(trader.id))
    reasons = {o.cancel_reason for o in sim.exchange.order_history(trader.id)}
    assert reasons == {"USER_CANCELED"}


async def test_cancel_on_disconnect_is_off_by_default_and_can_be_disarmed(sim: Simulator, connect: Connect,
                                                                          trader: Trader) -> None:
    for arm in (None, False):
        ws = await connect()
        await ws.result("auth", {"bearer": trader.token})
        if arm is False:
            await ws.result("order.cancel_on_disconnect", {"enabled": True})
            await ws.result("order.cancel_on_disconnect", {"enabled": False})
        await ws.result("order.create", trader.order_params(sim, price="90000"))
        await ws.close()
    # give the server a moment to run its close handling for both sockets
    probe = await connect()
    await probe.result("subscribe", {"channel": f"bbo.{BTC}"})
    await asyncio.sleep(0.05)
    assert len(sim.exchange.open_orders(trader.id)) == 2
