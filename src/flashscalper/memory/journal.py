"""The journal writer: rows in through an asyncio queue, out to the database in batches, off the loop.

Producers call :meth:`Journal.submit` (never waits). One writer task takes everything queued,
groups it by table and writes the batch in one transaction inside ``asyncio.to_thread``, so a slow
disk or a busy PostgreSQL never stalls trading. :meth:`Journal.close` writes whatever is still
queued before it returns.

::

    journal = Journal(open_database(default_db_url(settings.general)))
    await journal.start()
    recorder = JournalRecorder(journal, SessionInfo.new(bot.session, "paradex", "paper", clock.time_ms(), settings))
    recorder.attach(bot.bus)
    ...
    await recorder.close()   # marks the session ended, flushes, stops the writer
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from flashscalper.memory.db import Database
from flashscalper.memory.models import (
    EquityRow,
    EventRow,
    FillRow,
    OrderRow,
    SessionRow,
    SetupStatsRow,
    TradeRow,
)
from flashscalper.memory.rows import config_snapshot, equity_row, event_row, fill_row, order_row, trade_row
from flashscalper.trading.bus import (
    BotEvent,
    EquitySample,
    EventBus,
    FillReport,
    OrderReport,
    PositionReport,
    TradeClosed,
)

__all__ = ["Journal", "JournalRecorder", "SessionInfo", "WriteOp"]

log = logging.getLogger(__name__)

TABLES: dict[str, Table] = {
    m.__tablename__: m.__table__  # type: ignore[misc]
    for m in (SessionRow, OrderRow, FillRow, TradeRow, EquityRow, EventRow, SetupStatsRow)
}
# the natural key of tables written by upsert / insert-ignore
_CONFLICT_KEYS: dict[str, tuple[str, ...]] = {
    "sessions": ("id",),
    "orders": ("venue", "client_id"),
    "fills": ("venue", "fill_id"),
    "setup_stats": ("key",),
}

Mode = Literal["insert", "ignore", "upsert"]


@dataclass(frozen=True, slots=True)
class WriteOp:
    """One row for one table. ``ignore`` skips rows whose key exists; ``upsert`` overwrites them."""

    table: str
    row: dict[str, Any]
    mode: Mode = "insert"


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """Who is writing: a bot session on a venue in a mode, with its secret-free config snapshot."""

    id: str
    venue: str
    mode: str
    started_at: int
    config: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def new(cls, session_id: str, venue: str, mode: str, started_at: int, config: Any = None) -> SessionInfo:
        """Build one, scrubbing ``config`` of secrets (see :func:`config_snapshot`)."""
        if mode not in ("live", "paper", "demo", "backtest", "replay"):
            raise ValueError(f"session mode must be live, paper, demo, backtest or replay, got {mode!r}")
        return cls(session_id, venue, mode, started_at, config_snapshot(config) if config is not None else {})

    def row(self, ended_at: int | None = None) -> dict[str, Any]:
        return {"id": self.id, "started_at": self.started_at, "ended_at": ended_at, "venue": self.venue,
                "mode": self.mode, "config": self.config}


class Journal:
    """Asynchronous, batched, never-blocking writer in front of a :class:`Database`."""

    def __init__(self, db: Database, *, batch_size: int = 500, linger_s: float = 0.02,
                 retries: int = 3, retry_delay_s: float = 0.2) -> None:
        self.db = db
        self.batch_size = batch_size
        self.linger_s = linger_s
        self.retries = retries
        self.retry_delay_s = retry_delay_s
        self.batches = 0
        self.rows_written = 0
        self.rows_lost = 0
        self._queue: asyncio.Queue[WriteOp | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._submitted = 0
        self._done = 0
        self._progress = asyncio.Event()
        self._stopping = asyncio.Event()
        self._closed = False

    # ---- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the writer task (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="flashscalper-journal")

    async def flush(self) -> None:
        """Wait until everything submitted so far is written (or given up on)."""
        target = self._submitted
        if self._task is None:
            await self.start()
        while self._done < target:
            self._progress.clear()
            await self._progress.wait()

    async def close(self, *, dispose: bool = True) -> None:
        """Write what is queued, stop the writer, and (by default) close the database."""
        if self._closed:
            return
        self._closed = True
        if self._task is not None:
            self._stopping.set()
            self._queue.put_nowait(None)
            await self._task
            self._task = None
        elif not self._queue.empty():  # never started: write synchronously once
            await self._write_now(self._drain())
        if dispose:
            self.db.close()

    # ---- producing -------------------------------------------------------------------------------

    def submit(self, op: WriteOp) -> None:
        """Queue one row. Never waits; safe to call from sync bus listeners."""
        if self._closed:
            log.warning("journal closed; dropping a %s row", op.table)
            return
        self._submitted += 1
        self._queue.put_nowait(op)

    @property
    def pending(self) -> int:
        return self._submitted - self._done

    # ---- the writer ------------------------------------------------------------------------------

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            batch: list[WriteOp] = []
            if first is None:
                stopping = True
            else:
                batch.append(first)
                if self.linger_s and self._queue.qsize() < self.batch_size and not self._stopping.is_set():
                    # let a burst gather into one transaction (close() cuts the wait short)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), self.linger_s)
            while len(batch) < self.batch_size and not self._queue.empty():
                op = self._queue.get_nowait()
                if op is None:
                    stopping = True
                    continue
                batch.append(op)
            if stopping:  # closing: write everything left, in as many batches as it takes
                batch.extend(op for op in self._drain() if op is not None)
            if batch:
                await self._write_now(batch)

    def _drain(self) -> list[WriteOp | None]:
        items: list[WriteOp | None] = []
        while not self._queue.empty():
            items.append(self._queue.get_nowait())
        return items

    async def _write_now(self, batch: Sequence[WriteOp | None]) -> None:
        ops = [op for op in batch if op is not None]
        for start in range(0, len(ops), self.batch_size):
            chunk = ops[start:start + self.batch_size]
            for attempt in range(self.retries + 1):
                try:
                    await asyncio.to_thread(self._write_batch, chunk)
                    self.rows_written += len(chunk)
                    break
                except Exception:
                    if attempt == self.retries:
                        self.rows_lost += len(chunk)
                        log.exception("journal batch of %d rows failed %d times; dropped", len(chunk), attempt + 1)
                    else:
                        log.warning("journal batch failed (attempt %d); retrying", attempt + 1, exc_info=True)
                        await asyncio.sleep(self.retry_delay_s * 2**attempt)
            self.batches += 1
            self._done += len(chunk)
            self._progress.set()

    def _write_batch(self, ops: Sequence[WriteOp]) -> None:
        """Blocking: one transaction for the whole batch (runs in a worker thread)."""
        groups: dict[tuple[str, Mode], list[dict[str, Any]]] = {}
        for op in ops:
            groups.setdefault((op.table, op.mode), []).append(op.row)
        with self.db.engine.begin() as conn:
            for (table_name, mode), rows in groups.items():
                table = TABLES[table_name]
                if mode == "insert":
                    conn.execute(table.insert(), rows)
                    continue
                keys = _CONFLICT_KEYS[table_name]
                # one row per key: the latest wins (ON CONFLICT may not touch a row twice per statement)
                unique = list({tuple(r[k] for k in keys): r for r in rows}.values())
                conn.execute(self._conflict_insert(table, keys, mode, unique[0]), unique)

    def _conflict_insert(self, table: Table, keys: tuple[str, ...], mode: Mode, sample: dict[str, Any]) -> Any:
        dialect_insert: Callable[[Table], Any] = postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert
        stmt = dialect_insert(table)
        if mode == "ignore":
            return stmt.on_conflict_do_nothing(index_elements=list(keys))
        updates = {name: stmt.excluded[name] for name in sample if name not in keys}
        return stmt.on_conflict_do_update(index_elements=list(keys), set_=updates)

    # ---- reads used by recovery and learning (blocking work in a thread) --------------------------

    async def last_fill_ts(self, venue: str) -> int | None:
        """Timestamp of the newest journaled fill of ``venue`` (None when there is none)."""
        def query() -> int | None:
            with self.db.engine.connect() as conn:
                return conn.execute(select(func.max(FillRow.ts)).where(FillRow.venue == venue)).scalar()
        return await asyncio.to_thread(query)

    async def known_fill_ids(self, venue: str, fill_ids: Sequence[str]) -> set[str]:
        """Which of ``fill_ids`` are already journaled for ``venue``."""
        def query() -> set[str]:
            found: set[str] = set()
            with self.db.engine.connect() as conn:
                for start in range(0, len(fill_ids), 500):
                    chunk = list(fill_ids[start:start + 500])
                    found.update(conn.execute(select(FillRow.fill_id).where(
                        FillRow.venue == venue, FillRow.fill_id.in_(chunk))).scalars())
            return found
        return await asyncio.to_thread(query) if fill_ids else set()


class JournalRecorder:
    """Follows a bot's :class:`EventBus` and journals every event of one session.

    It listens synchronously (``bus.add_listener``) so no event is ever dropped, and only copies the
    event into a row there; the database work happens in the journal's writer. Position reports
    arrive on every price change, so they are sampled: at most one per market per
    ``position_sample_ms`` (plus every change of side).
    """

    def __init__(self, journal: Journal, session: SessionInfo, *, position_sample_ms: int = 10_000) -> None:
        self.journal = journal
        self.session = session
        self.position_sample_ms = position_sample_ms
        self._last_position: dict[str, tuple[int, str]] = {}
        self._bus: EventBus | None = None

    def attach(self, bus: EventBus) -> None:
        """Start the session row and subscribe to ``bus``."""
        self.journal.submit(WriteOp("sessions", self.session.row(), "upsert"))
        bus.add_listener(self.on_event)
        self._bus = bus

    def on_event(self, event: BotEvent) -> None:
        """Copy one bus event into journal rows (quick; no I/O)."""
        sid, venue = self.session.id, self.session.venue
        submit = self.journal.submit
        if isinstance(event, FillReport):
            submit(WriteOp("fills", fill_row(event.fill, purpose=event.purpose, venue=venue, session_id=sid),
                           "ignore"))
        elif isinstance(event, OrderReport):
            submit(WriteOp("orders", order_row(event, venue=venue, session_id=sid), "upsert"))
        elif isinstance(event, TradeClosed):
            submit(WriteOp("trades", trade_row(event.trade, venue=venue, mode=self.session.mode, session_id=sid)))
        elif isinstance(event, EquitySample):
            submit(WriteOp("equity", equity_row(event, session_id=sid)))
        elif isinstance(event, PositionReport):
            if self._sample_position(event):
                submit(WriteOp("events", event_row(event, session_id=sid)))
        else:
            submit(WriteOp("events", event_row(event, session_id=sid)))

    def _sample_position(self, report: PositionReport) -> bool:
        side = report.side.value if report.side else "FLAT"
        last = self._last_position.get(report.market)
        if last is not None and last[1] == side and report.ts - last[0] < self.position_sample_ms:
            return False
        self._last_position[report.market] = (report.ts, side)
        return True

    async def close(self, ended_at: int, *, close_journal: bool = True) -> None:
        """Mark the session ended, then flush (and close) the journal."""
        if self._bus is not None:
            self._bus.remove_listener(self.on_event)
            self._bus = None
        self.journal.submit(WriteOp("sessions", self.session.row(ended_at), "upsert"))
        if close_journal:
            await self.journal.close()
        else:
            await self.journal.flush()
