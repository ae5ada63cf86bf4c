"""Journal tables as typed SQLAlchemy 2 models.

Money and sizes are stored exactly: ``NUMERIC(38, 18)`` on PostgreSQL and text on SQLite (whose
NUMERIC affinity would round them through a float). Timestamps are integer epoch milliseconds, the
same unit as every domain event. JSON columns hold snapshots (config, signal, features, details).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Dialect,
    Float,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = [
    "Base",
    "EquityRow",
    "EventRow",
    "FillRow",
    "Money",
    "OrderRow",
    "SessionRow",
    "SetupStatsRow",
    "TradeRow",
]


class Money(TypeDecorator[Decimal]):
    """An exact Decimal: NUMERIC on PostgreSQL, canonical text elsewhere (never a float)."""

    impl = String(64)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric())  # unbounded NUMERIC: exact, whatever the scale
        return dialect.type_descriptor(String(64))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            value = Decimal(str(value))
        return value if dialect.name == "postgresql" else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value.normalize() if isinstance(value, Decimal) else Decimal(value)


class Base(DeclarativeBase):
    """Declarative base of every journal table."""


class SessionRow(Base):
    """One bot run: where, in which mode, with which (secret-free) configuration."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[int] = mapped_column(BigInteger)
    ended_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    venue: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(16))  # live / paper / demo / backtest / replay
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OrderRow(Base):
    """The latest known state of one of our orders (one row per venue + client id)."""

    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("venue", "client_id", name="uq_orders_venue_client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    venue: Mapped[str] = mapped_column(String(32))
    client_id: Mapped[str] = mapped_column(String(128))
    order_id: Mapped[str] = mapped_column(String(128))
    market: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    size: Mapped[Decimal] = mapped_column(Money)
    filled_size: Mapped[Decimal] = mapped_column(Money)
    price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    trigger_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    avg_fill_price: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    reduce_only: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class FillRow(Base):
    """One execution. Unique by (venue, fill id), so writing the same fill twice is a no-op."""

    __tablename__ = "fills"
    __table_args__ = (
        UniqueConstraint("venue", "fill_id", name="uq_fills_venue_fill_id"),
        Index("ix_fills_venue_ts", "venue", "ts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    venue: Mapped[str] = mapped_column(String(32))
    fill_id: Mapped[str] = mapped_column(String(128))
    order_id: Mapped[str] = mapped_column(String(128))
    client_id: Mapped[str] = mapped_column(String(128))
    market: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(8))
    price: Mapped[Decimal] = mapped_column(Money)
    size: Mapped[Decimal] = mapped_column(Money)
    liquidity: Mapped[str] = mapped_column(String(8))
    fee: Mapped[Decimal] = mapped_column(Money)
    realized_pnl: Mapped[Decimal] = mapped_column(Money)
    purpose: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))  # "live" (from the bus) or "recovery" (venue history)
    ts: Mapped[int] = mapped_column(BigInteger)


class TradeRow(Base):
    """One closed round trip with the signal that opened it (what learning reads)."""

    __tablename__ = "trades"
    __table_args__ = (Index("ix_trades_setup_key_closed_at", "setup_key", "closed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    venue: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(16))
    market: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(8))
    size: Mapped[Decimal] = mapped_column(Money)
    entry_price: Mapped[Decimal] = mapped_column(Money)
    exit_price: Mapped[Decimal] = mapped_column(Money)
    exit_reason: Mapped[str] = mapped_column(String(32))
    leverage: Mapped[Decimal] = mapped_column(Money)
    pnl: Mapped[Decimal] = mapped_column(Money)
    fees: Mapped[Decimal] = mapped_column(Money)
    funding: Mapped[Decimal] = mapped_column(Money)  # the core folds funding into fees; kept for venues that split it
    net_pnl: Mapped[Decimal] = mapped_column(Money)
    roe: Mapped[Decimal] = mapped_column(Money)
    net_roe: Mapped[Decimal] = mapped_column(Money)
    opened_at: Mapped[int] = mapped_column(BigInteger)
    closed_at: Mapped[int] = mapped_column(BigInteger, index=True)
    duration_ms: Mapped[int] = mapped_column(BigInteger)
    adopted: Mapped[bool] = mapped_column(Boolean, default=False)
    setup: Mapped[str] = mapped_column(String(64))
    setup_key: Mapped[str] = mapped_column(String(160))
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    signal: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    features: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class EquityRow(Base):
    """An account equity sample (drawdown, equity curve)."""

    __tablename__ = "equity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    ts: Mapped[int] = mapped_column(BigInteger, index=True)
    equity: Mapped[Decimal] = mapped_column(Money)
    wallet: Mapped[Decimal] = mapped_column(Money)
    available: Mapped[Decimal] = mapped_column(Money)
    margin_in_use: Mapped[Decimal] = mapped_column(Money)
    margin_utilisation_percent: Mapped[Decimal | None] = mapped_column(Money, nullable=True)


class EventRow(Base):
    """Everything else worth remembering: risk state changes, reconnects, reconcile actions,
    signals (acted on or not) and sampled position snapshots. ``detail`` holds the fields."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_kind_ts", "kind", "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(64), index=True)
    ts: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    market: Mapped[str] = mapped_column(String(64), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SetupStatsRow(Base):
    """What learning believes about one setup, as of ``as_of`` (the close time of its latest trade)."""

    __tablename__ = "setup_stats"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    setup: Mapped[str] = mapped_column(String(64))
    market: Mapped[str] = mapped_column(String(64))
    regime: Mapped[str] = mapped_column(String(16))
    trades: Mapped[int] = mapped_column(Integer)
    wins: Mapped[int] = mapped_column(Integer)
    sum_r: Mapped[float] = mapped_column(Float)
    sum_r2: Mapped[float] = mapped_column(Float)
    win_rate: Mapped[float] = mapped_column(Float)  # posterior mean of the Beta
    expectancy_r: Mapped[float] = mapped_column(Float)  # shrunk posterior mean, in R
    expectancy_sd: Mapped[float] = mapped_column(Float)
    size_multiplier: Mapped[float] = mapped_column(Float)
    confidence_multiplier: Mapped[float] = mapped_column(Float)
    explanation: Mapped[str] = mapped_column(Text)
    as_of: Mapped[int] = mapped_column(BigInteger)
