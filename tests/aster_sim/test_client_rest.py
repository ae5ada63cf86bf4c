"""AsterExchange against the simulator over loopback HTTP, every REST-backed method, V1 and V3 credentials."""

from __future__ import annotations

from decimal import Decimal

from flashscalper.domain import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from flashscalper.exchanges.aster.client import AsterExchange
from flashscalper.sim.aster.registry import AsterRegistry
from flashscalper.sim.server import Simulator


def _resting_buy_price(bid: Decimal) -> Decimal:
    return (bid * Decimal("0.98")).quantize(Decimal("0.1"))


async def test_reference_and_market_data(exchange: AsterExchange) -> None:
    markets = await exchange.markets()
    assert set(markets) == {"BTCUSDT", "ETHUSDT", "SOLUSDT"}
    btc = markets["BTCUSDT"]
    assert (btc.tick_size, btc.step_size, btc.min_notional) == (Decimal("0.1"), Decimal("0.00001"), Decimal(10))

    quote = await exchange.quote("BTCUSDT")
    assert 0 < quote.bid < quote.ask

    book = await exchange.order_book("BTCUSDT", depth=7)
    assert 0 < len(book.bids) <= 7 and 0 < len(book.asks) <= 7
    assert book.bids[0].price < book.asks[0].price
    assert list(book.bids) == sorted(book.bids, key=lambda lv: lv.price, reverse=True)

    trades = await exchange.recent_trades("BTCUSDT", limit=20)
    assert len(trades) <= 20
    assert all(t.market == "BTCUSDT" and t.size > 0 for t in trades)


async def test_a_new_account_is_funded_and_flat(exchange: AsterExchange, sim: Simulator) -> None:
    balance = await exchange.balance()
    assert balance.asset == "USDT"
    assert balance.wallet == balance.available == sim.fund_usdc
    assert await exchange.positions() == []
    assert await exchange.open_orders() == []
    assert await exchange.fills() == []


async def test_order_lifecycle_position_and_fills(exchange: AsterExchange) -> None:
    await exchange.set_leverage("BTCUSDT", Decimal(20))

    bought = await exchange.place_order(OrderRequest("BTCUSDT", Side.BUY, OrderType.MARKET, Decimal("0.002"), "mkt-1"))
    assert bought.status is OrderStatus.FILLED and bought.filled_size == Decimal("0.002")
    assert bought.avg_fill_price is not None and bought.avg_fill_price > 0

    [position] = await exchange.positions()
    assert position.market == "BTCUSDT" and position.size == Decimal("0.002")
    assert position.leverage == Decimal(20)

    quote = await exchange.quote("BTCUSDT")
    resting = await exchange.place_order(OrderRequest("BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal("0.001"), "lmt-1",
                                                      price=_resting_buy_price(quote.bid)))
    assert resting.status is OrderStatus.OPEN
    stop = await exchange.place_order(OrderRequest(
        "BTCUSDT", Side.SELL, OrderType.STOP_MARKET, Decimal(0), "sl-1",
        trigger_price=(quote.bid * Decimal("0.9")).quantize(Decimal("0.1")), reduce_only=True, close_position=True))
    assert stop.status is OrderStatus.UNTRIGGERED

    open_ids = {o.client_id for o in await exchange.open_orders("BTCUSDT")}
    assert open_ids == {"lmt-1", "sl-1"}
    assert (await exchange.get_order("BTCUSDT", order_id=resting.id)).client_id == "lmt-1"
    assert (await exchange.get_order("BTCUSDT", client_id="sl-1")).id == stop.id

    snapshot = await exchange.snapshot()
    assert snapshot.balance.initial_margin > 0
    assert {o.client_id for o in snapshot.open_orders} == {"lmt-1", "sl-1"}
    assert [p.market for p in snapshot.positions] == ["BTCUSDT"]

    assert await exchange.cancel_order("BTCUSDT", client_id="lmt-1") is True
    assert await exchange.cancel_order("BTCUSDT", client_id="lmt-1") is False  # already closed: terminal
    assert (await exchange.get_order("BTCUSDT", order_id=resting.id)).status is OrderStatus.CANCELED

    await exchange.cancel_all("BTCUSDT")
    assert await exchange.open_orders() == []
    assert (await exchange.get_order("BTCUSDT", order_id=stop.id)).status is OrderStatus.CANCELED

    fills = await exchange.fills("BTCUSDT")
    assert [f.order_id for f in fills] == [bought.id]
    assert sum(f.size for f in fills) == Decimal("0.002")
    assert await exchange.fills("BTCUSDT", since_ms=fills[0].ts + 1) == []


async def test_post_only_that_would_cross_expires(exchange: AsterExchange) -> None:
    quote = await exchange.quote("ETHUSDT")
    # well through the ask (the simulated market keeps moving between the quote and the order)
    price = quote.ask + Decimal(2)
    order = await exchange.place_order(OrderRequest("ETHUSDT", Side.BUY, OrderType.LIMIT, Decimal("0.01"), "gtx-1",
                                                    price=price, tif=TimeInForce.POST_ONLY))
    assert order.status is OrderStatus.EXPIRED and order.filled_size == 0


async def test_fill_or_kill_is_accepted_by_pre_trade_validation(exchange: AsterExchange) -> None:
    quote = await exchange.quote("SOLUSDT")
    order = await exchange.place_order(OrderRequest("SOLUSDT", Side.BUY, OrderType.LIMIT, Decimal("0.1"), "fok-1",
                                                    price=quote.ask, tif=TimeInForce.FOK))
    assert order.status in (OrderStatus.FILLED, OrderStatus.EXPIRED)
    assert order.tif is TimeInForce.FOK


async def test_a_wallet_may_sign_for_itself(make_exchange, registry: AsterRegistry) -> None:  # type: ignore[no-untyped-def]
    from tests.aster_sim.conftest import v3_credentials

    exchange = await make_exchange(v3_credentials(registry, self_signed=True))
    assert (await exchange.balance()).wallet > 0


async def test_public_only_client_reads_market_data(make_exchange) -> None:  # type: ignore[no-untyped-def]
    exchange = await make_exchange(None)
    assert "BTCUSDT" in await exchange.markets()
    assert (await exchange.quote("BTCUSDT")).ask > 0
