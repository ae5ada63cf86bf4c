"""Venue-neutral trading types.

Everything above the venue layer (strategy, risk, executor, positions, journal, dashboard) speaks
only these types. Money and quantities are ``Decimal``; timestamps are integer milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from enum import StrEnum

ZERO = Decimal(0)
ONE = Decimal(1)


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_MARKET = "STOP_MARKET"
    STOP_LIMIT = "STOP_LIMIT"
    TAKE_PROFIT_MARKET = "TAKE_PROFIT_MARKET"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"

    @property
    def is_conditional(self) -> bool:
        return self not in (OrderType.MARKET, OrderType.LIMIT)

    @property
    def has_limit_price(self) -> bool:
        return self in (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT)


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    POST_ONLY = "POST_ONLY"


class OrderStatus(StrEnum):
    """Domain order status; venues' own vocabularies are mapped onto it."""

    NEW = "NEW"  # accepted by the venue, not yet resting or matched
    UNTRIGGERED = "UNTRIGGERED"  # a stop / take-profit waiting for its trigger
    OPEN = "OPEN"  # resting on the book (possibly partially filled)
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


class Liquidity(StrEnum):
    MAKER = "MAKER"
    TAKER = "TAKER"


class TriggerSource(StrEnum):
    MARK = "MARK"
    LAST = "LAST"


def quantize_down(value: Decimal, step: Decimal) -> Decimal:
    """Largest multiple of ``step`` not above ``value`` (for positive steps)."""
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def quantize_up(value: Decimal, step: Decimal) -> Decimal:
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def quantize_nearest(value: Decimal, step: Decimal) -> Decimal:
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    return (value / step).to_integral_value(rounding=ROUND_HALF_EVEN) * step


def is_multiple(value: Decimal, step: Decimal) -> bool:
    return (value / step) == (value / step).to_integral_value(rounding=ROUND_DOWN)


@dataclass(frozen=True, slots=True)
class Market:
    """A perpetual market and the precision rules every order must respect."""

    symbol: str
    base: str
    quote: str
    tick_size: Decimal
    step_size: Decimal
    min_notional: Decimal = ZERO
    max_order_size: Decimal | None = None
    position_limit: Decimal | None = None
    max_open_orders: int = 100
    max_leverage: Decimal = Decimal(50)
    # Cross margin: initial = notional * max(1/leverage, imf_base); maintenance = notional * imf_base * mmf
    imf_base: Decimal = Decimal("0.02")
    mmf_factor: Decimal = Decimal("0.5")  # maintenance as a fraction of the initial-margin base
    funding_period_hours: int = 8

    @property
    def maintenance_fraction(self) -> Decimal:
        return self.imf_base * self.mmf_factor

    def round_price(self, price: Decimal, side: Side | None = None) -> Decimal:
        """Round to the tick: buys round down and sells round up (never a worse price than asked)."""
        if side is Side.BUY:
            return quantize_down(price, self.tick_size)
        if side is Side.SELL:
            return quantize_up(price, self.tick_size)
        return quantize_nearest(price, self.tick_size)

    def round_size(self, size: Decimal) -> Decimal:
        """Round a size down to the step (never more exposure than asked)."""
        return quantize_down(size, self.step_size)


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What the trading core asks a venue to do; venues sign and send it."""

    market: str
    side: Side
    type: OrderType
    size: Decimal
    client_id: str
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    tif: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    close_position: bool = False  # venue closes the whole position when triggered (size may be 0)


@dataclass(slots=True)
class Order:
    id: str
    client_id: str
    market: str
    side: Side
    type: OrderType
    size: Decimal
    status: OrderStatus
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    tif: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    filled_size: Decimal = ZERO
    avg_fill_price: Decimal | None = None
    cancel_reason: str = ""
    created_at: int = 0
    updated_at: int = 0
    seq_no: int = 0

    @property
    def remaining_size(self) -> Decimal:
        return self.size - self.filled_size


@dataclass(frozen=True, slots=True)
class Fill:
    id: str
    order_id: str
    client_id: str
    market: str
    side: Side
    price: Decimal
    size: Decimal
    liquidity: Liquidity
    fee: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    ts: int = 0


@dataclass(frozen=True, slots=True)
class Position:
    """A venue position. ``size`` is signed: positive long, negative short, zero flat."""

    market: str
    size: Decimal
    entry_price: Decimal
    mark_price: Decimal = ZERO
    unrealized_pnl: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    leverage: Decimal | None = None
    liquidation_price: Decimal | None = None
    updated_at: int = 0
    seq_no: int = 0

    @property
    def side(self) -> Side | None:
        if self.size > 0:
            return Side.BUY
        if self.size < 0:
            return Side.SELL
        return None

    @property
    def is_flat(self) -> bool:
        return self.size == 0

    @property
    def notional(self) -> Decimal:
        return abs(self.size) * (self.mark_price or self.entry_price)


@dataclass(frozen=True, slots=True)
class Balance:
    """Collateral view of an account (cross margin)."""

    asset: str
    wallet: Decimal  # deposited collateral plus realized P&L, before unrealized P&L
    equity: Decimal  # wallet + unrealized P&L (account value)
    available: Decimal  # free collateral for new orders
    initial_margin: Decimal = ZERO
    maintenance_margin: Decimal = ZERO
    updated_at: int = 0


# ---- market data events -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Quote:
    market: str
    bid: Decimal
    bid_size: Decimal
    ask: Decimal
    ask_size: Decimal
    ts: int
    seq_no: int = 0

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2


@dataclass(frozen=True, slots=True)
class BookLevel:
    price: Decimal
    size: Decimal


@dataclass(frozen=True, slots=True)
class BookUpdate:
    """Top of a venue order book after an update (best first on both sides)."""

    market: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    ts: int
    seq_no: int = 0
    is_snapshot: bool = False


@dataclass(frozen=True, slots=True)
class Trade:
    market: str
    id: str
    price: Decimal
    size: Decimal
    taker_side: Side
    ts: int


@dataclass(frozen=True, slots=True)
class MarkPrice:
    market: str
    mark: Decimal
    ts: int
    index: Decimal | None = None
    funding_rate: Decimal | None = None


# ---- private events -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    order: Order


@dataclass(frozen=True, slots=True)
class FillEvent:
    fill: Fill


@dataclass(frozen=True, slots=True)
class PositionUpdate:
    position: Position


@dataclass(frozen=True, slots=True)
class BalanceUpdate:
    balance: Balance


@dataclass(frozen=True, slots=True)
class FundingPayment:
    market: str
    amount: Decimal  # signed: positive received, negative paid
    ts: int
    id: str = ""


class ConnectionState(StrEnum):
    CONNECTED = "CONNECTED"
    DISCONNECTED = "DISCONNECTED"
    RESYNCED = "RESYNCED"  # reconnected and state re-read from the venue


@dataclass(frozen=True, slots=True)
class ConnectionEvent:
    venue: str
    state: ConnectionState
    ts: int
    detail: str = ""


MarketEvent = Quote | BookUpdate | Trade | MarkPrice
PrivateEvent = OrderUpdate | FillEvent | PositionUpdate | BalanceUpdate | FundingPayment
Event = MarketEvent | PrivateEvent | ConnectionEvent


@dataclass(slots=True)
class AccountSnapshot:
    """Everything the venue says about an account at one moment (used by reconciliation)."""

    balance: Balance
    positions: list[Position] = field(default_factory=list)
    open_orders: list[Order] = field(default_factory=list)
    ts: int = 0
