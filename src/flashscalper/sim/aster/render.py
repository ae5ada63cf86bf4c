"""Engine objects seen through the Aster dialect: Aster symbols, USDT, and Aster's status vocabulary."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from flashscalper.domain import Balance, Fill, Order, OrderStatus, Position, Trade
from flashscalper.exchanges.aster.mapping import order_to_json
from flashscalper.sim.aster.registry import ASSET
from flashscalper.sim.orders import CancelReason

if TYPE_CHECKING:
    from flashscalper.sim.accounts import AccountSummary
    from flashscalper.sim.aster.registry import AsterRegistry


def order_view(reg: AsterRegistry, order: Order) -> Order:
    """The engine order under its Aster symbol; a post-only order that would cross is EXPIRED on Aster."""
    symbol = reg.aster_symbol(order.market) or order.market
    status = order.status
    if status is OrderStatus.REJECTED and order.cancel_reason == CancelReason.POST_ONLY_WOULD_CROSS:
        status = OrderStatus.EXPIRED
    return replace(order, market=symbol, status=status)


def order_json(reg: AsterRegistry, order: Order) -> dict[str, Any]:
    return order_to_json(order_view(reg, order), close_position=reg.extras_of(order.id).close_position)


def fill_view(reg: AsterRegistry, fill: Fill) -> Fill:
    return replace(fill, market=reg.aster_symbol(fill.market) or fill.market)


def position_view(reg: AsterRegistry, position: Position) -> Position:
    return replace(position, market=reg.aster_symbol(position.market) or position.market)


def trade_view(reg: AsterRegistry, trade: Trade) -> Trade:
    return replace(trade, market=reg.aster_symbol(trade.market) or trade.market)


def balance_view(summary: AccountSummary) -> Balance:
    return replace(summary.to_balance(), asset=ASSET)
