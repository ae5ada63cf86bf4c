"""Paradex SBE market-data schema (id 1, version 2) as plain Python tables.

Transcribed by hand from the schema XML the official SDK ships (``paradex_1_0.xml``). The generic
codec in ``sbe.py`` compiles these tables into precompiled ``struct.Struct`` objects, so supporting
a new template or field means adding a table entry here and nothing else.

Layout rules taken from the schema, which the codec relies on:
* little-endian; no ``offset`` attributes, so fixed fields are packed in declaration order;
* numeric composites (Price8, Qty8, Rate12, ...) are an int64 mantissa on the wire; their exponent
  is a schema constant and never sent;
* fields added later carry ``since_version`` and are only ever appended, so every older layout is a
  prefix of the newer one;
* repeating groups follow the fixed block, then the var-length strings (uint8 length + UTF-8).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SCHEMA_ID = 1
SCHEMA_VERSION = 2

# struct formats of the framing composites
MESSAGE_HEADER_FORMAT = "<HHHH"  # blockLength, templateId, schemaId, version
GROUP_SIZE_FORMAT = "<HH"  # groupSizeEncoding: blockLength, numInGroup
VAR_STRING_MAX = 255  # varString8: uint8 length prefix

PrimitiveName = Literal["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"]


@dataclass(frozen=True, slots=True)
class Primitive:
    """An SBE primitive: its struct format character, width in bytes and optional-null sentinel."""

    name: str
    fmt: str
    size: int
    null: int


PRIMITIVES: dict[str, Primitive] = {
    "int8": Primitive("int8", "b", 1, -(2**7)),
    "uint8": Primitive("uint8", "B", 1, 2**8 - 1),
    "int16": Primitive("int16", "h", 2, -(2**15)),
    "uint16": Primitive("uint16", "H", 2, 2**16 - 1),
    "int32": Primitive("int32", "i", 4, -(2**31)),
    "uint32": Primitive("uint32", "I", 4, 2**32 - 1),
    "int64": Primitive("int64", "q", 8, -(2**63)),
    "uint64": Primitive("uint64", "Q", 8, 2**64 - 1),
}


@dataclass(frozen=True, slots=True)
class Scalar:
    """A plain integer type (Timestamp, int64 seq, int16 hours...)."""

    name: str
    primitive: PrimitiveName
    optional: bool = False


@dataclass(frozen=True, slots=True)
class FixedPoint:
    """A numeric composite: int64 mantissa on the wire, constant exponent in the schema."""

    name: str
    exponent: int
    optional: bool = False
    primitive: PrimitiveName = "int64"


@dataclass(frozen=True, slots=True)
class Enum:
    """A uint8 enumeration. ``fallback`` names the value unknown wire values decode to, if any."""

    name: str
    values: dict[str, int]
    fallback: str | None = None
    primitive: PrimitiveName = "uint8"


@dataclass(frozen=True, slots=True)
class BitSet:
    """A bit-per-choice set (choice name -> bit number)."""

    name: str
    choices: dict[str, int]
    primitive: PrimitiveName = "uint8"


@dataclass(frozen=True, slots=True)
class Address:
    """A fixed byte array holding a big-endian Starknet account address."""

    name: str
    length: int = 32


FieldType = Scalar | FixedPoint | Enum | BitSet | Address


@dataclass(frozen=True, slots=True)
class Field:
    """A fixed-block field. ``optional`` overrides the type's presence when set (FillEvent.seq)."""

    name: str
    type: FieldType
    since_version: int = 0
    optional: bool | None = None

    @property
    def is_optional(self) -> bool:
        if self.optional is not None:
            return self.optional
        return bool(getattr(self.type, "optional", False))


@dataclass(frozen=True, slots=True)
class Group:
    """A repeating group with groupSizeEncoding dimensions; entries hold fixed fields only."""

    name: str
    fields: tuple[Field, ...]
    since_version: int = 0


@dataclass(frozen=True, slots=True)
class VarString:
    """A varString8 data field (uint8 length, then UTF-8 bytes)."""

    name: str
    since_version: int = 0


@dataclass(frozen=True, slots=True)
class Message:
    """One template: fixed fields, then groups, then var-length strings, in wire order."""

    name: str
    template_id: int
    fields: tuple[Field, ...]
    groups: tuple[Group, ...] = ()
    var_data: tuple[VarString, ...] = field(default=())
    public: bool = True


# ── types ────────────────────────────────────────────────────────────────────────────────────────

TIMESTAMP = Scalar("Timestamp", "int64")  # microseconds since the Unix epoch
INT64 = Scalar("int64", "int64")
UINT64 = Scalar("uint64", "uint64")
INT16 = Scalar("int16", "int16")
UINT8 = Scalar("uint8", "uint8")

PRICE8 = FixedPoint("Price8", -8)
PRICE8_NULL = FixedPoint("Price8NULL", -8, optional=True)
QTY8 = FixedPoint("Qty8", -8)
QTY8_NULL = FixedPoint("Qty8NULL", -8, optional=True)
VALUE8 = FixedPoint("Value8", -8)
VALUE8_NULL = FixedPoint("Value8NULL", -8, optional=True)
RATE8 = FixedPoint("Rate8", -8)
RATE8_NULL = FixedPoint("Rate8NULL", -8, optional=True)
RATE12 = FixedPoint("Rate12", -12)
RATE12_NULL = FixedPoint("Rate12NULL", -12, optional=True)

ACCOUNT_ADDRESS = Address("AccountAddress")

_NR = 254  # NON_REPRESENTABLE, reserved by most enums for values the schema cannot name

SIDE = Enum("Side", {"BUY": 1, "SELL": 2, "NON_REPRESENTABLE": _NR})
ORDER_TYPE = Enum(
    "OrderType",
    {
        "LIMIT": 1, "MARKET": 2, "STOP_LIMIT": 3, "STOP_MARKET": 4, "TAKE_PROFIT_LIMIT": 5,
        "TAKE_PROFIT_MARKET": 6, "STOP_LOSS_LIMIT": 7, "STOP_LOSS_MARKET": 8, "NON_REPRESENTABLE": _NR,
    },
)  # fmt: skip
ORDER_STATUS = Enum("OrderStatus", {"NEW": 1, "UNTRIGGERED": 2, "OPEN": 3, "CLOSED": 4, "NON_REPRESENTABLE": _NR})
TIME_IN_FORCE = Enum("TimeInForce", {"GTC": 1, "IOC": 2, "POST_ONLY": 3, "RPI": 4, "NON_REPRESENTABLE": _NR})
FILL_TYPE = Enum(
    "FillType",
    {
        "FILL": 1, "LIQUIDATION": 2, "UNWIND_TRANSFER": 3, "SETTLE_MARKET": 4, "RPI": 5,
        "BLOCK_TRADE": 6, "NON_REPRESENTABLE": _NR,
    },
)  # fmt: skip
PKG_TYPE = Enum("PkgType", {"SNAPSHOT": 0, "DELTA": 1})
# The schema requires unknown AssetKind / FundingRateSource values to read as UNSPECIFIED.
ASSET_KIND = Enum(
    "AssetKind", {"UNSPECIFIED": 0, "PERPETUAL_FUTURE": 1, "OPTION": 2, "SPOT": 3}, fallback="UNSPECIFIED"
)
FUNDING_RATE_SOURCE = Enum(
    "FundingRateSource",
    {
        "UNSPECIFIED": 0, "PARADEX": 1, "BINANCE": 2, "BYBIT": 3, "OKX": 4, "DERIBIT": 5, "DERIVE": 6,
        "HYPERLIQUID": 7, "LIGHTER": 8, "DATABENTO": 9, "PUBLISHER": 10, "PYTH": 11, "STORK": 12,
    },
    fallback="UNSPECIFIED",
)  # fmt: skip
LIQUIDITY_SIDE = Enum("LiquiditySide", {"MAKER": 1, "TAKER": 2, "NON_REPRESENTABLE": _NR})
STP_MODE = Enum(
    "STPMode",
    {"NONE": 0, "EXPIRE_MAKER": 1, "EXPIRE_TAKER": 2, "EXPIRE_BOTH": 3, "NON_REPRESENTABLE": _NR},
)
POSITION_STATUS = Enum("PositionStatus", {"OPEN": 1, "CLOSED": 2, "UNSPECIFIED": 3, "NON_REPRESENTABLE": _NR})
ACCOUNT_STATUS = Enum("AccountStatus", {"ACTIVE": 1, "LIQUIDATION": 2, "NON_REPRESENTABLE": _NR})
REQUEST_STATUS = Enum(
    "RequestStatus",
    {"UNSPECIFIED": 0, "PENDING": 1, "PROCESSED": 2, "REJECTED": 3, "SUCCESS": 4, "NON_REPRESENTABLE": _NR},
)
REQUEST_TYPE = Enum("RequestType", {"UNSPECIFIED": 0, "MODIFY_ORDER": 1, "NON_REPRESENTABLE": _NR})

ORDER_FLAGS = BitSet(
    "OrderFlags",
    {
        "REDUCE_ONLY": 0, "STOP_CONDITION_BELOW_TRIGGER": 1, "STOP_CONDITION_ABOVE_TRIGGER": 2,
        "INTERACTIVE": 3, "TARGET_STRATEGY_VWAP": 4, "MMP": 5,
    },
)  # fmt: skip
FILL_FLAGS = BitSet("FillFlags", {"INTERACTIVE": 0, "RPI": 1, "FASTFILL": 2, "UNKNOWN": 7})

# ── messages (templateId -> layout) ──────────────────────────────────────────────────────────────

_LEVEL = (Field("price", PRICE8), Field("size", QTY8))  # qty 0 in a DELTA removes the level

TRADE_EVENT = Message(
    "TradeEvent",
    1,
    (
        Field("ts", TIMESTAMP),
        Field("seq", INT64),  # orderbook seq after execution; 0 when the trade has none
        Field("tradeId", INT64),  # deprecated: low 64 bits of the 28-digit id, use tradeIdStr
        Field("side", SIDE),  # aggressor side
        Field("price", PRICE8),
        Field("size", QTY8),
        Field("createdAt", TIMESTAMP),
        Field("tradeType", FILL_TYPE),
    ),
    var_data=(VarString("market"), VarString("tradeIdStr", since_version=2)),
)

BBO_EVENT = Message(
    "BboEvent",
    2,
    (
        Field("ts", TIMESTAMP),
        Field("seq", INT64),
        Field("bidPrice", PRICE8_NULL),
        Field("bidSize", QTY8_NULL),
        Field("askPrice", PRICE8_NULL),
        Field("askSize", QTY8_NULL),
    ),
    var_data=(VarString("market"),),
)

BOOK_EVENT = Message(
    "BookEvent",
    3,
    (
        Field("ts", TIMESTAMP),
        Field("seq", INT64),
        Field("pkgType", PKG_TYPE),
        Field("bestBidPrice", PRICE8_NULL),  # interactive feed (RPI included)
        Field("bestBidSize", QTY8_NULL),
        Field("bestAskPrice", PRICE8_NULL),
        Field("bestAskSize", QTY8_NULL),
        Field("relativeSpread", RATE8_NULL),
        Field("bestBidApiPrice", PRICE8_NULL),  # API orders only (RPI excluded)
        Field("bestBidApiSize", QTY8_NULL),
        Field("bestAskApiPrice", PRICE8_NULL),
        Field("bestAskApiSize", QTY8_NULL),
    ),
    groups=(Group("bids", _LEVEL), Group("asks", _LEVEL)),
    var_data=(VarString("market"),),
)

MARKET_SUMMARY_EVENT = Message(
    "MarketSummaryEvent",
    4,
    (
        Field("ts", TIMESTAMP),
        Field("seq", INT64),
        Field("markPrice", PRICE8),
        Field("indexPrice", PRICE8),  # underlying_price
        Field("lastPrice", PRICE8),  # last_traded_price
        Field("volumeUsd24h", VALUE8),
        Field("openInterest", QTY8),
        Field("fundingRate", RATE8),
        Field("bid", PRICE8_NULL),
        Field("ask", PRICE8_NULL),
        Field("totalVolume", VALUE8),  # saturates at int64 max
        Field("priceChangeRate24h", RATE8),
        Field("markIv", RATE8_NULL),
        Field("bidIv", RATE8_NULL),
        Field("askIv", RATE8_NULL),
        Field("lastIv", RATE8_NULL),
        Field("delta", RATE8_NULL),
        Field("gamma", RATE8_NULL),
        Field("vega", RATE8_NULL),
        Field("theta", RATE8_NULL),
        Field("rho", RATE8_NULL),
        Field("volga", RATE8_NULL),
        Field("vanna", RATE8_NULL),
        Field("futureFundingRate", RATE8_NULL),
        Field("externalFairPrice", PRICE8_NULL),
        Field("bidSize", QTY8_NULL),
        Field("askSize", QTY8_NULL),
        Field("forwardRate", RATE8_NULL, since_version=1),
        Field("riskFreeRate", RATE8_NULL, since_version=1),
        Field("fundingRatePrecise", RATE12_NULL, since_version=1),  # prefer over fundingRate
    ),
    var_data=(VarString("market"),),
)

FUNDING_DATA_EVENT = Message(
    "FundingDataEvent",
    5,
    (
        Field("ts", TIMESTAMP),
        Field("seq", INT64),
        Field("fundingRate", RATE8),
        Field("fundingIndex", PRICE8),
        Field("createdAt", TIMESTAMP),
        Field("fundingPremium", RATE8),
        Field("fundingRate8h", RATE8),
        Field("fundingPeriodHours", INT16),
        Field("impactPremiumRate", RATE8_NULL, since_version=1),
    ),
    var_data=(VarString("market"),),
)

FUNDING_RATE_COMPARISON_EVENT = Message(
    "FundingRateComparisonEvent",
    6,
    (
        Field("ts", TIMESTAMP),
        Field("lastUpdatedAt", TIMESTAMP),
        Field("hourlyFundingRate", RATE12),
        Field("assetKind", ASSET_KIND),
        Field("source", FUNDING_RATE_SOURCE),
    ),
    var_data=(VarString("market"),),
)

ORDER_EVENT = Message(
    "OrderEvent",
    20,
    (
        Field("ts", TIMESTAMP),
        Field("seq", INT64),
        Field("status", ORDER_STATUS),
        Field("side", SIDE),
        Field("orderType", ORDER_TYPE),
        Field("timeInForce", TIME_IN_FORCE),
        Field("price", PRICE8_NULL),
        Field("triggerPrice", PRICE8_NULL),
        Field("size", QTY8),
        Field("sizeOpen", QTY8),
        Field("avgFillPrice", PRICE8_NULL),
        Field("createdAt", TIMESTAMP),
        Field("updatedAt", TIMESTAMP),
        Field("account", ACCOUNT_ADDRESS),
        Field("receivedAt", TIMESTAMP),
        Field("publishedAt", TIMESTAMP),
        Field("stp", STP_MODE),
        Field("flags", ORDER_FLAGS),
        Field("requestStatus", REQUEST_STATUS, since_version=2),
        Field("requestType", REQUEST_TYPE, since_version=2),
    ),
    var_data=(
        VarString("orderId"),
        VarString("clientOrderId"),
        VarString("market"),
        VarString("cancelReason"),
        VarString("requestId", since_version=2),
        VarString("requestMessage", since_version=2),
    ),
    public=False,
)

FILL_EVENT = Message(
    "FillEvent",
    21,
    (
        Field("ts", TIMESTAMP),
        Field("seq", INT64, optional=True),  # null for position transfers
        Field("fillType", FILL_TYPE),
        Field("side", SIDE),
        Field("liquidity", LIQUIDITY_SIDE),
        Field("price", PRICE8),
        Field("size", QTY8),
        Field("fee", VALUE8),
        Field("realizedPnl", VALUE8_NULL),
        Field("createdAt", TIMESTAMP),
        Field("account", ACCOUNT_ADDRESS),
        Field("underlyingPrice", PRICE8),
        Field("realizedFunding", VALUE8),
        Field("flags", FILL_FLAGS, since_version=2),
        Field("orderbookSeqNo", UINT64, since_version=2),
    ),
    var_data=(
        VarString("fillId"),
        VarString("orderId"),
        VarString("clientOrderId"),
        VarString("tradeId"),
        VarString("market"),
        VarString("feeCurrency", since_version=2),
    ),
    public=False,
)

POSITION_EVENT = Message(
    "PositionEvent",
    22,
    (
        Field("ts", TIMESTAMP),
        Field("seq", INT64),
        Field("side", SIDE),  # BUY = long, SELL = short
        Field("size", QTY8),  # absolute
        Field("avgEntryPrice", PRICE8),
        Field("unrealizedPnl", VALUE8),
        Field("realizedPnl", VALUE8),
        Field("markPrice", PRICE8_NULL),  # always null on the wire
        Field("liquidationPrice", PRICE8_NULL),
        Field("leverage", RATE8),
        Field("updatedAt", TIMESTAMP),
        Field("account", ACCOUNT_ADDRESS),
        Field("avgEntryPriceUsd", PRICE8),
        Field("cost", VALUE8),
        Field("costUsd", VALUE8),
        Field("cachedFundingIndex", PRICE8),
        Field("unrealizedFundingPnl", VALUE8),
        Field("status", POSITION_STATUS),
    ),
    var_data=(VarString("market"), VarString("lastFillId")),
    public=False,
)

ACCOUNT_EVENT = Message(
    "AccountEvent",
    23,
    (
        Field("ts", TIMESTAMP),
        Field("seq", INT64),
        Field("totalCollateral", VALUE8),
        Field("freeCollateral", VALUE8),
        Field("initialMarginReq", VALUE8),
        Field("maintenanceMarginReq", VALUE8),
        Field("accountValue", VALUE8),
        Field("unrealizedPnl", VALUE8_NULL),  # always null on the wire
        Field("updatedAt", TIMESTAMP),
        Field("account", ACCOUNT_ADDRESS),
        Field("marginCushion", VALUE8),
        Field("status", ACCOUNT_STATUS),
        Field("lastSeenNotification", TIMESTAMP, since_version=2),
    ),
    var_data=(VarString("settlementAsset"),),
    public=False,
)

HEARTBEAT_EVENT = Message("HeartbeatEvent", 40, (Field("ts", TIMESTAMP), Field("seq", INT64)))

SUBSCRIBED_EVENT = Message(
    "SubscribedEvent",
    41,
    (Field("ts", TIMESTAMP), Field("seq", INT64), Field("status", UINT8)),  # status 0 ok, 1 error
    var_data=(VarString("channel"),),
)

MESSAGES: tuple[Message, ...] = (
    TRADE_EVENT,
    BBO_EVENT,
    BOOK_EVENT,
    MARKET_SUMMARY_EVENT,
    FUNDING_DATA_EVENT,
    FUNDING_RATE_COMPARISON_EVENT,
    ORDER_EVENT,
    FILL_EVENT,
    POSITION_EVENT,
    ACCOUNT_EVENT,
    HEARTBEAT_EVENT,
    SUBSCRIBED_EVENT,
)
