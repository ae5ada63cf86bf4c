"""Auth, private channels and JSON-RPC answers of the simulated Paradex WebSocket."""

from __future__ import annotations

from decimal import Decimal

from flashscalper.domain import Side
from flashscalper.sim.server import Simulator

from .conftest import BTC, MAKER, Connect, Trader, place

PRIVATE = ("orders.ALL", f"fills.{BTC}", "positions", "account", "balance_events", "tradebusts")


async def test_auth_answers_node_id_and_answers_carry_timings(connect: Connect, trader: Trader) -> None:
    ws = await connect()
    answer = await ws.call("auth", {"bearer": trader.token})
    assert answer["jsonrpc"] == "2.0" and answer["id"] == 1
    assert answer["result"]["node_id"]
    assert answer["usOut"] - answer["usIn"] == answer["usDiff"] >= 0


async def test_private_channels_follow_a_trade_in_engine_order(sim: Simulator, connect: Connect,
                                                               trader: Trader) -> None:
    ws = await connect()
    await ws.result("auth", {"bearer": trader.token})
    for channel in PRIVATE:
        assert await ws.result("subscribe", {"channel": channel}) == {"channel": channel}

    place(sim, MAKER, Side.SELL, "0.5", "95000")
    taker = place(sim, trader.id, Side.BUY, "0.2", "95000")

    fills = await ws.pushes_on(f"fills.{BTC}")
    await ws.pushes_on("balance_events")
    orders = ws.on("orders.ALL")
    positions, accounts = ws.on("positions"), ws.on("account")

    assert [o["id"] for o in orders] == [taker.id] * len(orders)
    assert orders[-1]["status"] == "CLOSED" and orders[-1]["remaining_size"] == "0"
    assert orders[-1]["cancel_reason"] == "" and orders[-1]["account"] == trader.id
    assert fills[0]["order_id"] == taker.id and fills[0]["side"] == "BUY" and fills[0]["liquidity"] == "TAKER"
    assert Decimal(fills[0]["size"]) == Decimal("0.2") and Decimal(fills[0]["price"]) == Decimal(95000)
    assert Decimal(positions[-1]["size"]) == Decimal("0.2") and positions[-1]["side"] == "LONG"
    summary = sim.exchange.account_summary(trader.id)
    assert Decimal(accounts[-1]["account_value"]) == summary.account_value
    balance = ws.on("balance_events")[-1]
    assert balance["fill_id"] == fills[0]["id"] and balance["type"] == "TRANSACTION_FILL"
    assert Decimal(balance["settlement_asset_balance_after"]) == summary.total_collateral
    assert ws.on("tradebusts") == []

    # one account's events reach the socket in the engine's order: seq_no only grows across channels
    seqs = [data["seq_no"] for name, data in ws.pushes if name in ("orders.ALL", "positions", "account")]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


async def test_other_accounts_events_stay_private(sim: Simulator, connect: Connect, trader: Trader) -> None:
    ws = await connect()
    await ws.result("auth", {"bearer": trader.token})
    await ws.result("subscribe", {"channel": "orders.ALL"})
    await ws.result("subscribe", {"channel": f"trades.{BTC}"})
    place(sim, MAKER, Side.SELL, "0.5", "95000")
    place(sim, MAKER, Side.BUY, "0.5", "94000")
    mine = place(sim, trader.id, Side.BUY, "0.1", "93000")
    await ws.pushes_on("orders.ALL")
    assert {o["id"] for o in ws.on("orders.ALL")} == {mine.id}


async def test_market_scoped_order_channel_filters_markets(sim: Simulator, connect: Connect, trader: Trader) -> None:
    ws = await connect()
    await ws.result("auth", {"bearer": trader.token})
    await ws.result("subscribe", {"channel": "orders.ETH-USD-PERP"})
    await ws.result("subscribe", {"channel": "orders.ALL"})
    btc = place(sim, trader.id, Side.BUY, "0.1", "90000")
    eth = place(sim, trader.id, Side.BUY, "1", "3000", market="ETH-USD-PERP")
    await ws.wait_for(lambda: any(o["id"] == eth.id for o in ws.on("orders.ALL")))
    await ws.pushes_on("orders.ETH-USD-PERP")
    assert {o["id"] for o in ws.on("orders.ETH-USD-PERP")} == {eth.id}
    assert {o["id"] for o in ws.on("orders.ALL")} == {btc.id, eth.id}


async def test_bearer_header_at_connect_authenticates(sim: Simulator, connect: Connect, trader: Trader) -> None:
    ws = await connect(headers={"Authorization": f"Bearer {trader.token}"})
    assert await ws.result("subscribe", {"channel": "account"}) == {"channel": "account"}
    sim.exchange.fund_account(trader.id, Decimal(5))
    pushed = await ws.pushes_on("account")
    assert Decimal(pushed[-1]["total_collateral"]) == sim.exchange.account_summary(trader.id).total_collateral
