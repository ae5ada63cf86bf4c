"""ParadexRestClient ↔ simulator over loopback: every client method against the real dialect."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flashscalper.domain import Liquidity, OrderStatus, Side, TimeInForce
from flashscalper.errors import ExchangeError
from flashscalper.sim.server import Simulator
from tests.sim_paradex.conftest import BTC, FUND

D = Decimal


async def test_public_market_data_matches_the_engine(sim: Simulator, make_trader) -> None:
    client = make_trader().client
    config = await client.system_config()
    assert config.starknet_chain_id == sim.system["starknet_chain_id"]
    assert config.account_proxy_hash == sim.system["paraclear_account_proxy_hash"]
    assert await client.system_time() == sim.clock.time_ms()

    markets = await client.markets()
    spec = sim.exchange.specs[BTC].market
    assert set(markets) == set(sim.exchange.specs)
    btc = markets[BTC]
    assert (btc.tick_size, btc.step_size, btc.min_notional) == (spec.tick_size, spec.step_size, spec.min_notional)
    assert btc.max_leverage == spec.max_leverage

    summary = {m.market: m for m in await client.markets_summary()}
    assert summary[BTC].mark == sim.exchange.mark_price(BTC)
    only_eth = await client.markets_summary("ETH-USD-PERP")
    assert [m.market for m in only_eth] == ["ETH-USD-PERP"]


async def test_book_bbo_and_trades_show_resting_orders_and_prints(make_trader) -> None:
    maker, taker = make_trader(), make_trader()
    await maker.client.limit_order(BTC, Side.SELL, D("0.002"), D("95100"))
    await maker.client.limit_order(BTC, Side.BUY, D("0.003"), D("94900"))
    book = await taker.client.orderbook(BTC)
    assert [(lv.price, lv.size) for lv in book.bids] == [(D("94900"), D("0.003"))]
    assert [(lv.price, lv.size) for lv in book.asks] == [(D("95100"), D("0.002"))]
    quote = await taker.client.bbo(BTC)
    assert (quote.bid, quote.ask, quote.ask_size) == (D("94900"), D("95100"), D("0.002"))

    await taker.client.market_order(BTC, Side.BUY, D("0.001"))
    trades = await taker.client.trades(BTC)
    assert [(t.price, t.size, t.taker_side) for t in trades] == [(D("95100"), D("0.001"), Side.BUY)]


async def test_fresh_identity_onboards_on_first_auth_and_is_funded(make_trader) -> None:
    trader = make_trader()
    status = await trader.client.onboarding_status()
    assert not status.exists
    assert int(status.address, 16) == trader.identity.account_address

    balance = await trader.client.balance()
    assert balance.wallet == FUND and balance.equity == FUND and balance.available == FUND
    assert (await trader.client.onboarding_status()).exists
    assert await trader.client.positions() == []
    assert trader.client.auth_count == 1


async def test_limit_order_lifecycle_open_then_cancelled_by_id(make_trader) -> None:
    client = make_trader().client
    ack = await client.limit_order(BTC, Side.BUY, D("0.001"), D("90000"), client_id="bid-1")
    assert ack.status is OrderStatus.NEW and ack.client_id == "bid-1"

    live = await client.get_order(ack.id)
    assert live.status is OrderStatus.OPEN and live.price == D("90000")
    assert [o.id for o in await client.open_orders(BTC)] == [ack.id]
    assert (await client.get_order_by_client_id("bid-1")).id == ack.id

    assert await client.cancel_order(ack.id) is True
    closed = await client.get_order(ack.id)
    assert closed.status is OrderStatus.CANCELED and closed.cancel_reason == "USER_CANCELED"
    assert await client.open_orders() == []
    assert await client.cancel_order(ack.id) is False  # already closed: terminal, not a failure


async def test_market_order_fills_and_both_sides_see_fills_and_signed_positions(make_trader) -> None:
    maker, taker = make_trader(), make_trader()
    await maker.client.limit_order(BTC, Side.SELL, D("0.01"), D("95000"))
    ack = await taker.client.market_order(BTC, Side.BUY, D("0.01"), client_id="mkt-1")
    assert ack.status is OrderStatus.NEW

    done = await taker.client.get_order(ack.id, client_id="mkt-1")
    assert done.status is OrderStatus.FILLED and done.avg_fill_price == D("95000")
    taker_fills = await taker.client.fills(BTC)
    maker_fills = await maker.client.fills(BTC)
    assert [(f.side, f.liquidity, f.size) for f in taker_fills] == [(Side.BUY, Liquidity.TAKER, D("0.01"))]
    assert [(f.side, f.liquidity, f.size) for f in maker_fills] == [(Side.SELL, Liquidity.MAKER, D("0.01"))]
    assert taker_fills[0].order_id == ack.id and taker_fills[0].client_id == "mkt-1"

    assert (await taker.client.position(BTC)).size == D("0.01")
    assert (await maker.client.position(BTC)).size == D("-0.01")
    assert (await taker.client.position(BTC)).entry_price == D("95000")


async def test_partial_fill_leaves_the_rest_open(make_trader) -> None:
    maker, taker = make_trader(), make_trader()
    resting = await maker.client.limit_order(BTC, Side.SELL, D("0.005"), D("95050"))
    await taker.client.limit_order(BTC, Side.BUY, D("0.002"), D("95050"), tif=TimeInForce.IOC)

    partly = await maker.client.get_order(resting.id)
    assert partly.status is OrderStatus.OPEN
    assert (partly.filled_size, partly.remaining_size) == (D("0.002"), D("0.003"))
    assert [f.size for f in await maker.client.fills()] == [D("0.002")]


async def test_cancel_by_client_id_and_cancel_all(make_trader) -> None:
    client = make_trader().client
    a = await client.limit_order(BTC, Side.BUY, D("0.001"), D("90000"), client_id="a")
    await client.limit_order(BTC, Side.BUY, D("0.001"), D("90100"), client_id="b")
    await client.limit_order("ETH-USD-PERP", Side.BUY, D("0.01"), D("3000"), client_id="c")

    assert await client.cancel_order(client_id="a", market=BTC) is True
    assert (await client.get_order(a.id, client_id="a")).status is OrderStatus.CANCELED
    assert await client.cancel_order(client_id="a") is False

    await client.cancel_all(BTC)
    assert [o.client_id for o in await client.open_orders()] == ["c"]
    await client.cancel_all()
    assert await client.open_orders() == []


async def test_modify_keeps_the_id_and_moves_the_price(make_trader) -> None:
    from flashscalper.domain import OrderRequest, OrderType

    client = make_trader().client
    ack = await client.limit_order(BTC, Side.BUY, D("0.002"), D("90000"), client_id="mod")
    changed = await client.modify_order(ack.id, OrderRequest(BTC, Side.BUY, OrderType.LIMIT, D("0.003"), "mod",
                                                             price=D("90500")))
    assert changed.id == ack.id and changed.price == D("90500") and changed.size == D("0.003")
    book = await client.orderbook(BTC)
    assert [(lv.price, lv.size) for lv in book.bids] == [(D("90500"), D("0.003"))]


async def test_close_position_stop_and_take_profit_are_an_oco_pair(sim: Simulator, make_trader) -> None:
    long, street = make_trader(), make_trader()
    await street.client.limit_order(BTC, Side.SELL, D("0.01"), D("95000"))
    await long.client.market_order(BTC, Side.BUY, D("0.01"))
    stop = await long.client.stop_loss_order(BTC, Side.SELL, D("94000"))
    take = await long.client.take_profit_order(BTC, Side.SELL, D("97000"))
    waiting = {o.id: o for o in await long.client.open_orders()}
    assert {o.status for o in waiting.values()} == {OrderStatus.UNTRIGGERED}
    assert waiting[stop.id].reduce_only and waiting[stop.id].size == 0
    _, raw_open, _ = await long.raw("GET", "/orders")
    assert {o["type"]: (o["size"], o["flags"]) for o in raw_open["results"]} == {
        "STOP_LOSS_MARKET": ("0", ["REDUCE_ONLY"]), "TAKE_PROFIT_MARKET": ("0", ["REDUCE_ONLY"])}

    await street.client.limit_order(BTC, Side.BUY, D("0.02"), D("93900"))
    sim.exchange.set_mark_price(BTC, D("93950"))  # the oracle drops through the stop
    assert (await long.client.position(BTC)).size == 0
    fired = await long.client.get_order(stop.id)
    assert fired.status is OrderStatus.FILLED and fired.filled_size == D("0.01")
    other = await long.client.get_order(take.id)
    assert other.status is OrderStatus.CANCELED and other.cancel_reason
    assert await long.client.open_orders() == []
    _, history, _ = await long.raw("GET", "/orders-history", params={"type": "STOP_LOSS_MARKET"})
    assert [o["id"] for o in history["results"]] == [stop.id] and history["results"][0]["status"] == "CLOSED"


async def test_set_leverage_shows_in_margin_config(make_trader) -> None:
    trader = make_trader()
    await trader.client.set_leverage(BTC, 5)
    status, payload, _ = await trader.raw("GET", "/account/margin", params={"market": BTC})
    assert status == 200 and payload["configs"] == [{"market": BTC, "leverage": 5, "margin_type": "CROSS"}]
    with pytest.raises(ExchangeError) as refused:  # above the market's 50x
        await trader.client.set_leverage(BTC, 51)
    assert refused.value.code == "VALIDATION_ERROR" and refused.value.status == 400


async def test_funding_payments_after_a_settlement(sim: Simulator, make_trader) -> None:
    long, short, quoter = make_trader(), make_trader(), make_trader()
    await short.client.limit_order(BTC, Side.SELL, D("0.1"), D("95000"))
    await long.client.market_order(BTC, Side.BUY, D("0.1"))
    # a book whose mid sits above mark: longs pay shorts
    await quoter.client.limit_order(BTC, Side.BUY, D("0.001"), D("95900"))
    await quoter.client.limit_order(BTC, Side.SELL, D("0.001"), D("96100"))
    sim.advance(3_600_000)

    paid = await long.client.funding_payments(BTC)
    received = await short.client.funding_payments(BTC)
    assert len(paid) == len(received) == 1
    assert paid[0].amount < 0 and received[0].amount == -paid[0].amount
    rows = await long.client.funding_data(BTC)
    assert rows and rows[0].funding_rate > 0
    assert long.client.auth_count == 2  # the hour also expired the first JWT


async def test_fills_follow_opaque_cursors_both_ways(make_trader) -> None:
    maker, taker = make_trader(), make_trader()
    await maker.client.limit_order(BTC, Side.SELL, D("0.007"), D("95000"))
    for _ in range(7):
        await taker.client.market_order(BTC, Side.BUY, D("0.001"))
    everything = await taker.client.fills(page_size=100)
    paged = await taker.client.fills(page_size=2)
    assert len(everything) == 7 and [f.id for f in paged] == [f.id for f in everything]
    assert [int(f.id) for f in everything] == sorted((int(f.id) for f in everything), reverse=True)

    status, first, _ = await taker.raw("GET", "/fills", params={"page_size": "3"})
    assert first["prev"] is None and len(first["results"]) == 3
    _, second, _ = await taker.raw("GET", "/fills", params={"page_size": "3", "cursor": first["next"]})
    _, back, _ = await taker.raw("GET", "/fills", params={"page_size": "3", "cursor": second["prev"]})
    assert [r["id"] for r in back["results"]] == [r["id"] for r in first["results"]]
    forged = first["next"][:-2] + ("AA" if not first["next"].endswith("AA") else "BB")
    status, error, _ = await taker.raw("GET", "/fills", params={"cursor": forged})
    assert status == 400 and error["error"] == "INVALID_REQUEST_PARAMETER"
