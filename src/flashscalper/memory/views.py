"""What ``flashscalper journal`` and ``flashscalper memory`` print (rich tables on a console)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from rich.console import Console
from rich.table import Table

from flashscalper.config import load_settings
from flashscalper.memory.db import Database, default_db_url, open_database
from flashscalper.memory.learning import Learner, LearnerConfig
from flashscalper.memory.queries import daily_stats, recent_trades

__all__ = ["open_journal", "print_journal", "print_memory"]

Q = Decimal("0.01")


def open_journal(env_file: str | None, db_url: str | None = None) -> Database:
    """The journal at ``db_url``, else the one the settings name (FLASHSCALPER_DB_URL / FLASHSCALPER_DATA_DIR)."""
    return open_database(db_url or default_db_url(load_settings(env_file=env_file).general))


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def print_journal(console: Console, db: Database, *, limit: int = 20, days: int = 14) -> None:
    """Recent trades (newest first), then per-UTC-day figures."""
    trades = recent_trades(db, limit)
    if not trades:
        console.print("the journal has no closed trades yet")
        return
    table = Table(title=f"last {len(trades)} trades", title_justify="left")
    for column in ("closed (UTC)", "market", "side", "size", "entry", "exit", "exit reason", "net pnl",
                   "net roe %", "setup", "conf", "mode"):
        table.add_column(column, justify="right" if column in ("size", "entry", "exit", "net pnl") else "left")
    for t in trades:
        table.add_row(_when(t.closed_at), t.market, t.side, str(t.size), str(t.entry_price), str(t.exit_price),
                      t.exit_reason, str(t.net_pnl.quantize(Q)), str(t.net_roe.quantize(Q)), t.setup,
                      f"{t.confidence:.2f}" if t.confidence is not None else "-", t.mode)
    console.print(table)
    per_day = Table(title="per day (UTC)", title_justify="left")
    for column in ("day", "trades", "wins", "win rate %", "net pnl", "fees", "best", "worst"):
        per_day.add_column(column, justify="left" if column == "day" else "right")
    for d in daily_stats(db, days):
        per_day.add_row(d.day, str(d.trades), str(d.wins), str(d.win_rate.quantize(Q)), str(d.net_pnl.quantize(Q)),
                        str(d.fees.quantize(Q)), str(d.best.quantize(Q)), str(d.worst.quantize(Q)))
    console.print(per_day)


def print_memory(console: Console, db: Database, config: LearnerConfig | None = None) -> None:
    """Per setup: what learning believes, and why it trades the setup more or less."""
    learner = Learner(config)
    counted = learner.load_blocking(db)
    estimates = learner.report()
    if not estimates:
        console.print("nothing learned yet: no closed trades opened by a strategy signal in the journal")
        return
    table = Table(title=f"learned from {counted} trades (1R = {learner.config.risk_roe}% ROE)", title_justify="left")
    for column in ("setup", "market", "regime", "trades", "win rate", "expectancy R", "± sd", "conf ×", "size ×"):
        table.add_column(column, justify="left" if column in ("setup", "market", "regime") else "right")
    for e in estimates:
        table.add_row(e.key.setup, e.key.market, e.key.regime, str(e.trades), f"{e.win_rate:.0%}",
                      f"{e.expectancy_r:+.2f}", f"{e.expectancy_sd:.2f}", f"{e.confidence_multiplier:.2f}",
                      f"{e.size_multiplier:.2f}")
    console.print(table)
    for e in estimates:
        console.print(f"- {e.explanation}", highlight=False)
