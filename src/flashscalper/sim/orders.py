"""The simulator's working order record, Paradex's closing reasons and the synchronous request errors."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from flashscalper.domain import ZERO, Order, OrderStatus, OrderType, Side, TimeInForce, TriggerSource
from flashscalper.errors import ExchangeError, OrderNotFound


class SelfTradePrevention(StrEnum):
    """What happens when two orders of the same account meet (Paradex ``stp``)."""

    EXPIRE_TAKER = "EXPIRE_TAKER"
    EXPIRE_MAKER = "EXPIRE_MAKER"
    EXPIRE_BOTH = "EXPIRE_BOTH"


class CancelReason:
    """``cancel_reason`` strings. The first group is observed on Paradex; the rest are the simulator's own
    names for cases whose Paradex string is not published (the field is an open string)."""

    USER_CANCELED = "USER_CANCELED"
    NOT_ENOUGH_MARGIN = "NOT_ENOUGH_MARGIN"
    ORDER_EXCEEDS_POSITION_LIMIT = "ORDER_EXCEEDS_POSITION_LIMIT"
    POST_ONLY_WOULD_CROSS = "POST_ONLY_WOULD_CROSS"
    EXPIRED = "EXPIRED"  # IOC / FOK / MARKET remainder, slippage guard
    SELF_TRADE = "SELF_TRADE"
    # simulator names
    REDUCE_ONLY_WOULD_INCREASE = "REDUCE_ONLY_WOULD_INCREASE"
    REDUCE_ONLY_EXCEEDS_POSITION = "REDUCE_ONLY_EXCEEDS_POSITION"
    MAX_OPEN_ORDERS_EXCEEDED = "MAX_OPEN_ORDERS_EXCEEDED"
    NO_POSITION = "NO_POSITION"  # close-position order triggered while flat
    LIQUIDATION = "LIQUIDATION"
    OCO = "OCO"  # the other leg of a close-position TP/SL pair triggered


_STATUS_OF_REASON: dict[str, OrderStatus] = {
    CancelReason.NOT_ENOUGH_MARGIN: OrderStatus.REJECTED,
    CancelReason.ORDER_EXCEEDS_POSITION_LIMIT: OrderStatus.REJECTED,
    CancelReason.POST_ONLY_WOULD_CROSS: OrderStatus.REJECTED,
    CancelReason.REDUCE_ONLY_WOULD_INCREASE: OrderStatus.REJECTED,
    CancelReason.MAX_OPEN_ORDERS_EXCEEDED: OrderStatus.REJECTED,
    CancelReason.EXPIRED: OrderStatus.EXPIRED,
    CancelReason.SELF_TRADE: OrderStatus.EXPIRED,
}


def status_for_reason(reason: str) -> OrderStatus:
    """The domain status of an order that closed unfilled-or-partly with venue ``reason``."""
    return _STATUS_OF_REASON.get(reason, OrderStatus.CANCELED)


class SimRequestError(ExchangeError):
    """A request the venue answers synchronously with an error (HTTP 400/404); ``code`` is Paradex's."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(f"{code}: {message}", code=code, status=status)
        self.message = message


class OrderValidationError(SimRequestError):
    """Order rejected before acceptance: INVALID_ORDER_SIZE, VALIDATION_ERROR, DUPLICATED_CLIENT_ID,
    MARKET_NOT_FOUND, ..."""


class SimOrderNotFound(SimRequestError, OrderNotFound):
    """ORDER_ID_NOT_FOUND / CLIENT_ORDER_ID_NOT_FOUND / ORDER_IS_CLOSED."""

    def __init__(self, code: str, message: str) -> None:
        SimRequestError.__init__(self, code, message, status=404 if code != "ORDER_IS_CLOSED" else 400)


class SimOrder:
    """Mutable engine-side order. Published to listeners as an immutable copy (``snapshot``)."""

    __slots__ = (
        "account", "avg_fill_price", "cancel_reason", "client_id", "close_position", "created_at", "filled_size",
        "filled_value", "id", "market", "price", "reduce_only", "seq_no", "side", "size", "status", "stp",
        "tif", "trigger_price", "trigger_source", "triggered", "type", "updated_at",
    )

    def __init__(
        self,
        *,
        id: str,
        account: str,
        client_id: str,
        market: str,
        side: Side,
        type: OrderType,
        size: Decimal,
        price: Decimal | None,
        trigger_price: Decimal | None,
        tif: TimeInForce,
        reduce_only: bool,
        close_position: bool,
        stp: SelfTradePrevention,
        trigger_source: TriggerSource,
        ts: int,
    ) -> None:
        self.id = id
        self.account = account
        self.client_id = client_id
        self.market = market
        self.side = side
        self.type = type
        self.size = size
        self.price = price
        self.trigger_price = trigger_price
        self.tif = tif
        self.reduce_only = reduce_only
        self.close_position = close_position
        self.stp = stp
        self.trigger_source = trigger_source
        self.triggered = False
        self.status = OrderStatus.NEW
        self.filled_size = ZERO
        self.filled_value = ZERO
        self.avg_fill_price: Decimal | None = None
        self.cancel_reason = ""
        self.created_at = ts
        self.updated_at = ts
        self.seq_no = 0

    @property
    def remaining(self) -> Decimal:
        return self.size - self.filled_size

    @property
    def is_open(self) -> bool:
        return not self.status.is_terminal

    def record_fill(self, price: Decimal, size: Decimal) -> None:
        self.filled_size += size
        self.filled_value += price * size
        self.avg_fill_price = self.filled_value / self.filled_size

    def snapshot(self) -> Order:
        """An immutable-by-convention domain copy of the current state."""
        return Order(
            id=self.id, client_id=self.client_id, market=self.market, side=self.side, type=self.type,
            size=self.size, status=self.status, price=self.price, trigger_price=self.trigger_price,
            tif=self.tif, reduce_only=self.reduce_only, filled_size=self.filled_size,
            avg_fill_price=self.avg_fill_price, cancel_reason=self.cancel_reason, created_at=self.created_at,
            updated_at=self.updated_at, seq_no=self.seq_no,
        )
