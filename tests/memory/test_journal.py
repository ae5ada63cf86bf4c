"""The trade journal on a real database: a bot trades the simulated market with a recorder attached,
and everything it publishes must land, exactly once, without ever holding up the event loop."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import threading
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from flashscalper.domain import ConnectionEvent, ConnectionState, Fill, Liquidity, Side
from flashscalper.memory.db import open_database
from flashscalper.memory.journal import Journal, JournalRecorder, SessionInfo, WriteOp
from flashscalper.memory.models import EquityRow, EventRow, FillRow, OrderRow, SessionRow, TradeRow
from flashscalper.memory.recovery import recover_missing_fills
from flashscalper.trading.bus import EquitySample, EventBus, FillReport
from tests.trading.scenario import BTC, Scenario, make_scenario

D = Decimal


async def journaled_scenario(url: str, **kwargs: object) -> tuple[Scenario, JournalRecorder]:
    """A bot on the seeded market, journaled from before its start (so reconcile actions land too)."""
    s = make_scenario(**kwargs)  # type: ignore[arg-type]
    journal = Journal(open_database(url))
    await journal.start()
    recorder = JournalRecorder(journal, SessionInfo.new(s.bot.session, "local", "paper", s.clock.time_ms(),
                                                        {"markets": list(s.config.markets)}))
    recorder.attach(s.bot.bus)
    await s.bot.start()
    await s.step(250, 4)
    return s, recorder


def count(url: str, column: object, *where: object) -> int:
    db = open_database(url)
    try:
        with db.engine.connect() as conn:
            return conn.execute(select(func.count(column)).where(*where)).scalar_one()  # type: ignore[arg-type]
    finally:
        db.close()


async def test_every_kind_of_bot_event_lands_in_the_journal(db_url: str) -> None:
    s, recorder = await journaled_scenario(db_url)
    await s.enter(BTC, Side.BUY)
    await s.jump(BTC, -0.01)  # through the stop: a closed trade
    await s.step(250, 2)
    s.bot.pause_entries("test pauses entries")  # a risk state change
    await s.bot.handle(ConnectionEvent("local", ConnectionState.DISCONNECTED, s.clock.time_ms(), "socket closed"))
    await s.bot.handle(ConnectionEvent("local", ConnectionState.RESYNCED, s.clock.time_ms(), "back"))
    published = {e.kind for e in s.events.drain()} | {e.kind for e in s.seen}
    await recorder.close(s.clock.time_ms())

    assert {"signal", "order", "fill", "position", "trade_closed", "risk_state", "reconcile", "connection",
            "equity"} <= published
    db = open_database(db_url)
    with db.session() as session:
        (row,) = session.scalars(select(SessionRow)).all()
        assert (row.id, row.venue, row.mode, row.ended_at) == (s.bot.session, "local", "paper", s.clock.time_ms())
        orders = session.scalars(select(OrderRow)).all()
        assert {o.purpose for o in orders} >= {"ENTRY", "STOP"}
        venue_fill_ids = {f.id for f in await s.venue.fills()}
        assert {f.fill_id for f in session.scalars(select(FillRow))} == venue_fill_ids
        (trade,) = session.scalars(select(TradeRow)).all()
        closed = s.bot.positions.closed[0]
        assert (trade.market, trade.side, trade.exit_reason) == (BTC, "BUY", "SL")
        assert (trade.entry_price, trade.exit_price, trade.net_pnl) == (closed.entry_price, closed.exit_price,
                                                                        closed.net_pnl)
        assert trade.setup == "scripted" and trade.confidence == 0.9 and "mid" in trade.features
        assert trade.setup_key == f"scripted|{BTC}|any"
        assert session.scalar(select(func.count(EquityRow.id))) >= 1
        kinds = set(session.scalars(select(EventRow.kind)))
        assert {"signal", "position", "risk_state", "reconcile", "connection"} <= kinds
        risk = session.scalars(select(EventRow).where(EventRow.kind == "risk_state")).first()
        assert risk is not None and "test pauses entries" in risk.summary
    db.close()


def fill(n: int, ts: int) -> Fill:
    return Fill(f"venue-fill-{n}", f"o{n}", f"fs-x-{n}", BTC, Side.BUY, D("50000.5"), D("0.01"), Liquidity.TAKER,
                D("0.25"), D(0), ts)


async def test_the_same_fill_is_journaled_once_however_often_it_arrives(db_url: str) -> None:
    journal = Journal(open_database(db_url))
    recorder = JournalRecorder(journal, SessionInfo.new("s1", "local", "live", 1))
    bus = EventBus()
    recorder.attach(bus)
    await journal.start()
    for _ in range(3):
        bus.publish(FillReport(fill(1, 1000), "ENTRY", 1000))
    await journal.flush()
    bus.publish(FillReport(fill(1, 1000), "ENTRY", 1001))  # again in a later batch
    bus.publish(FillReport(fill(2, 1002), "EXIT", 1002))
    await recorder.close(2000)
    assert count(db_url, FillRow.id) == 2
    db = open_database(db_url)
    with db.session() as session:
        first = session.scalars(select(FillRow).where(FillRow.fill_id == "venue-fill-1")).one()
        assert (first.price, first.fee, first.purpose) == (D("50000.5"), D("0.25"), "ENTRY")  # exact decimals
    db.close()


async def test_recovery_journals_the_fills_missed_while_down_exactly_once(db_url: str) -> None:
    s, recorder = await journaled_scenario(db_url)
    await s.enter(BTC, Side.BUY)
    await recorder.close(s.clock.time_ms())  # the journal goes away; trading goes on
    await s.jump(BTC, -0.01)
    await s.step(250, 2)
    venue_fills = await s.venue.fills()
    journaled = count(db_url, FillRow.id)
    assert 0 < journaled < len(venue_fills)

    journal = Journal(open_database(db_url))
    await journal.start()
    report = await recover_missing_fills(journal, s.venue, venue="local", session_id="restart")
    again = await recover_missing_fills(journal, s.venue, venue="local", session_id="restart")
    await journal.close()

    assert report.inserted == len(venue_fills) - journaled and report.inserted > 0
    assert again.inserted == 0
    assert count(db_url, FillRow.id) == len(venue_fills)
    assert count(db_url, FillRow.id, FillRow.source == "recovery") == report.inserted


async def test_recovery_with_an_empty_journal_takes_the_venue_history(db_url: str) -> None:
    s, recorder = await journaled_scenario(db_url)
    await s.enter(BTC, Side.BUY)
    await recorder.close(s.clock.time_ms())
    other = db_url.replace("flashscalper.sqlite", "other.sqlite") if db_url.startswith("sqlite") else None
    if other is None:  # PostgreSQL: reuse the same database, emptied
        from tests.memory.conftest import reset_postgres

        reset_postgres(db_url)
        other = db_url
    journal = Journal(open_database(other))
    report = await recover_missing_fills(journal, s.venue, venue="local", session_id="fresh")
    await journal.close()
    assert report.since_ms is None and report.inserted == len(await s.venue.fills()) > 0


def hold_sqlite_lock(path: Path, seconds: float, locked: threading.Event) -> None:
    """Another process-like writer that keeps the database locked for a while (a slow disk / busy DB)."""
    conn = sqlite3.connect(path, timeout=5, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    locked.set()
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()


def hold_postgres_lock(url: str, seconds: float, locked: threading.Event) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("LOCK TABLE equity IN ACCESS EXCLUSIVE MODE"))
        locked.set()
        time.sleep(seconds)
    engine.dispose()


async def test_a_slow_database_batch_never_stalls_the_event_loop(db_url: str) -> None:
    db = open_database(db_url)
    journal = Journal(db, linger_s=0)
    await journal.start()
    locked = threading.Event()
    if db.path is not None:
        holder = threading.Thread(target=hold_sqlite_lock, args=(db.path, 0.6, locked))
    else:
        holder = threading.Thread(target=hold_postgres_lock, args=(db_url, 0.6, locked))
    holder.start()
    await asyncio.to_thread(locked.wait, 5)

    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    tick_task = asyncio.create_task(ticker())
    started = time.monotonic()
    for i in range(200):
        sample = EquitySample(D(10_000) + i, D(10_000), D(9_000), D(1_000), D(10), 1_000 + i)
        journal.submit(WriteOp("equity", {"session_id": "slow", "ts": sample.ts, "equity": sample.equity,
                                          "wallet": sample.wallet, "available": sample.available,
                                          "margin_in_use": sample.margin_in_use,
                                          "margin_utilisation_percent": sample.margin_utilisation_percent}))
    submitted_in = time.monotonic() - started
    await journal.flush()
    waited = time.monotonic() - started
    tick_task.cancel()
    holder.join()
    await journal.close()

    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert submitted_in < 0.05  # submitting is just queueing
    assert waited >= 0.4  # the batch really was held up by the lock ...
    assert len(ticks) >= 20 and max(gaps) < 0.15  # ... while the loop kept ticking
    assert count(db_url, EquityRow.id) == 200


async def test_closing_the_journal_writes_everything_still_queued(db_url: str) -> None:
    journal = Journal(open_database(db_url), linger_s=5, batch_size=64)  # a long linger: nothing written yet
    recorder = JournalRecorder(journal, SessionInfo.new("flush", "local", "backtest", 1))
    bus = EventBus()
    recorder.attach(bus)
    await journal.start()
    for i in range(1000):
        bus.publish(FillReport(fill(i, 1000 + i), "ENTRY", 1000 + i))
    started = time.monotonic()
    await recorder.close(5000)
    assert time.monotonic() - started < 4  # close cut the linger short
    assert count(db_url, FillRow.id) == 1000
    assert count(db_url, SessionRow.id, SessionRow.ended_at == 5000) == 1
