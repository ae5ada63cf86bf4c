"""The first journal schema: sessions, orders, fills, trades, equity, events, setup_stats.

Revision ID: 0001_journal
Revises:
Create Date: 2024-03-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from flashscalper.memory.models import Money

revision = "0001_journal"
down_revision = None
branch_labels = None
depends_on = None


def _money(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, Money(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("ended_at", sa.BigInteger, nullable=True),
        sa.Column("venue", sa.String(32), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(64), nullable=False, index=True),
        sa.Column("venue", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("order_id", sa.String(128), nullable=False),
        sa.Column("market", sa.String(64), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _money("size"),
        _money("filled_size"),
        _money("price", True),
        _money("trigger_price", True),
        _money("avg_fill_price", True),
        sa.Column("reduce_only", sa.Boolean, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("venue", "client_id", name="uq_orders_venue_client_id"),
    )
    op.create_table(
        "fills",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(64), nullable=False, index=True),
        sa.Column("venue", sa.String(32), nullable=False),
        sa.Column("fill_id", sa.String(128), nullable=False),
        sa.Column("order_id", sa.String(128), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("market", sa.String(64), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        _money("price"),
        _money("size"),
        sa.Column("liquidity", sa.String(8), nullable=False),
        _money("fee"),
        _money("realized_pnl"),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("venue", "fill_id", name="uq_fills_venue_fill_id"),
    )
    op.create_index("ix_fills_venue_ts", "fills", ["venue", "ts"])
    op.create_table(
        "trades",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(64), nullable=False, index=True),
        sa.Column("venue", sa.String(32), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("market", sa.String(64), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        _money("size"),
        _money("entry_price"),
        _money("exit_price"),
        sa.Column("exit_reason", sa.String(32), nullable=False),
        _money("leverage"),
        _money("pnl"),
        _money("fees"),
        _money("funding"),
        _money("net_pnl"),
        _money("roe"),
        _money("net_roe"),
        sa.Column("opened_at", sa.BigInteger, nullable=False),
        sa.Column("closed_at", sa.BigInteger, nullable=False, index=True),
        sa.Column("duration_ms", sa.BigInteger, nullable=False),
        sa.Column("adopted", sa.Boolean, nullable=False),
        sa.Column("setup", sa.String(64), nullable=False),
        sa.Column("setup_key", sa.String(160), nullable=False),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("signal", sa.JSON, nullable=False),
        sa.Column("features", sa.JSON, nullable=False),
    )
    op.create_index("ix_trades_setup_key_closed_at", "trades", ["setup_key", "closed_at"])
    op.create_table(
        "equity",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(64), nullable=False, index=True),
        sa.Column("ts", sa.BigInteger, nullable=False, index=True),
        _money("equity"),
        _money("wallet"),
        _money("available"),
        _money("margin_in_use"),
        _money("margin_utilisation_percent", True),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(64), nullable=False, index=True),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("market", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_events_kind_ts", "events", ["kind", "ts"])
    op.create_table(
        "setup_stats",
        sa.Column("key", sa.String(160), primary_key=True),
        sa.Column("setup", sa.String(64), nullable=False),
        sa.Column("market", sa.String(64), nullable=False),
        sa.Column("regime", sa.String(16), nullable=False),
        sa.Column("trades", sa.Integer, nullable=False),
        sa.Column("wins", sa.Integer, nullable=False),
        sa.Column("sum_r", sa.Float, nullable=False),
        sa.Column("sum_r2", sa.Float, nullable=False),
        sa.Column("win_rate", sa.Float, nullable=False),
        sa.Column("expectancy_r", sa.Float, nullable=False),
        sa.Column("expectancy_sd", sa.Float, nullable=False),
        sa.Column("size_multiplier", sa.Float, nullable=False),
        sa.Column("confidence_multiplier", sa.Float, nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("as_of", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in ("setup_stats", "events", "equity", "trades", "fills", "orders", "sessions"):
        op.drop_table(table)
