"""Small order helpers for simulator scenarios."""

from __future__ import annotations

from decimal import Decimal

from flashscalper.domain import Order, OrderRequest, OrderType, Side, TimeInForce
from flashscalper.sim.engine import SimExchange

BTC = "BTC-USD-PERP"
ETH = "ETH-USD-PERP"

_counter = iter(range(1, 10**9))


def limit(ex: SimExchange, account: str, side: Side, size: str, price: str, *, market: str = BTC,
          tif: TimeInForce = TimeInForce.GTC, reduce_only: bool = False, client_id: str | None = None,
          **kw: object) -> Order:
    req = OrderRequest(market, side, OrderType.LIMIT, Decimal(size), client_id or f"c{next(_counter)}",
                       price=Decimal(price), tif=tif, reduce_only=reduce_only)
    return ex.submit_order(account, req, **kw)  # type: ignore[arg-type]


def market(ex: SimExchange, account: str, side: Side, size: str, *, mkt: str = BTC,
           reduce_only: bool = False, **kw: object) -> Order:
    req = OrderRequest(mkt, side, OrderType.MARKET, Decimal(size), f"c{next(_counter)}", reduce_only=reduce_only)
    return ex.submit_order(account, req, **kw)  # type: ignore[arg-type]


def conditional(ex: SimExchange, account: str, side: Side, type_: OrderType, size: str, trigger: str, *,
                price: str | None = None, close_position: bool = False, reduce_only: bool = False,
                **kw: object) -> Order:
    req = OrderRequest(BTC, side, type_, Decimal(size), f"c{next(_counter)}",
                       price=Decimal(price) if price else None, trigger_price=Decimal(trigger),
                       close_position=close_position, reduce_only=reduce_only)
    return ex.submit_order(account, req, **kw)  # type: ignore[arg-type]
