"""Read-side of the journal: recent trades and per-day figures (for the CLI, exports and reviews)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from flashscalper.domain import ZERO
from flashscalper.memory.db import Database
from flashscalper.memory.models import TradeRow

__all__ = ["TRADE_COLUMNS", "DayStats", "daily_stats", "recent_trades", "trade_records"]

# the columns of a trade export, in order
TRADE_COLUMNS = (
    "id", "session_id", "venue", "mode", "market", "side", "size", "entry_price", "exit_price", "exit_reason",
    "leverage", "pnl", "fees", "funding", "net_pnl", "roe", "net_roe", "opened_at", "closed_at", "duration_ms",
    "adopted", "setup", "setup_key", "confidence", "signal", "features",
)


@dataclass(frozen=True, slots=True)
class DayStats:
    """One UTC day of closed trades. ``win_rate`` is a percentage; money is in the quote currency."""

    day: str
    trades: int
    wins: int
    win_rate: Decimal
    net_pnl: Decimal
    fees: Decimal
    best: Decimal
    worst: Decimal


def recent_trades(db: Database, limit: int = 20) -> list[TradeRow]:
    """The ``limit`` most recently closed trades, newest first."""
    with db.session() as s:
        return list(s.scalars(select(TradeRow).order_by(TradeRow.closed_at.desc(), TradeRow.id.desc()).limit(limit)))


def trade_records(db: Database, since_ms: int | None = None) -> list[dict[str, Any]]:
    """Every trade (closed at or after ``since_ms``) as a plain dict keyed by :data:`TRADE_COLUMNS`."""
    query = select(TradeRow).order_by(TradeRow.closed_at, TradeRow.id)
    if since_ms is not None:
        query = query.where(TradeRow.closed_at >= since_ms)
    with db.session() as s:
        return [{c: getattr(row, c) for c in TRADE_COLUMNS} for row in s.scalars(query)]


def daily_stats(db: Database, days: int | None = 14) -> list[DayStats]:
    """Per-UTC-day figures of the last ``days`` days that had trades, oldest first."""
    buckets: dict[str, list[tuple[Decimal, Decimal]]] = {}
    with db.engine.connect() as conn:
        for closed_at, net, fees in conn.execute(select(TradeRow.closed_at, TradeRow.net_pnl, TradeRow.fees)):
            day = datetime.fromtimestamp(closed_at / 1000, UTC).strftime("%Y-%m-%d")
            buckets.setdefault(day, []).append((net, fees))
    out = []
    for day in sorted(buckets)[-days if days else None:]:
        rows = buckets[day]
        nets = [n for n, _ in rows]
        wins = sum(1 for n in nets if n > 0)
        out.append(DayStats(day, len(rows), wins, Decimal(wins) / len(rows) * 100, sum(nets, ZERO),
                            sum((f for _, f in rows), ZERO), max(nets), min(nets)))
    return out
