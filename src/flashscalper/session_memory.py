"""Memory for a trading session: the journal records the bus, learning adjusts entries, an optional
LLM advisor gives a second opinion. Nothing here is needed to trade; every part can be switched off.

On attach, a session that trades a lasting account (``run``: live, testnet or a local simulator account)
also gets its risk baselines back from the journal: the equity samples of the same venue, environment
and account recorded earlier the same UTC day are replayed into the risk engine, so a restart keeps the
start-of-day equity (and the daily loss limit counted from it), the peak and any latched halt.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from flashscalper.config import Settings
from flashscalper.llm.advisor import LLMAdvisor, advisor_from_settings
from flashscalper.memory.db import Database, default_db_url, open_database, redact_url
from flashscalper.memory.journal import Journal, JournalRecorder, SessionInfo
from flashscalper.memory.learning import Learner, LearnerConfig
from flashscalper.memory.models import EquityRow, SessionRow
from flashscalper.memory.recovery import RecoveryReport, recover_missing_fills
from flashscalper.memory.rows import config_snapshot
from flashscalper.session import TradingSession
from flashscalper.trading.risk import RiskEngine

log = logging.getLogger(__name__)

DAY_MS = 86_400_000
# Session modes (TradingSession.mode) that trade a fresh or simulated-in-process account each run:
# nothing of an earlier run's equity applies to them.
FRESH_ACCOUNT_MODES = ("demo", "paper", "backtest", "replay")
JOURNAL_MODES = ("live", "paper", "demo", "backtest", "replay")


@dataclass
class SessionMemory:
    db: Database
    journal: Journal
    recorder: JournalRecorder
    learner: Learner
    advisor: LLMAdvisor | None
    venue: str
    url: str = ""
    restored_equity_samples: int = 0

    async def recover(self, session: TradingSession) -> RecoveryReport:
        """Journal fills the venue knows and the journal does not (after a crash); call once connected."""
        report = await recover_missing_fills(self.journal, session.exchange, venue=self.venue,
                                             session_id=session.bot.session)
        if report.inserted:
            log.info("journal: recovered %d fill(s) from the venue's history", report.inserted)
        return report

    async def close(self, ended_at: int) -> None:
        if self.advisor is not None:
            await self.advisor.client.close()
        await self.recorder.close(ended_at)


def journal_mode(mode: str) -> str:
    """The journal's mode for a session mode: testnet and local runs trade a real account, i.e. "live"."""
    return mode if mode in JOURNAL_MODES else "live"


def session_snapshot(session: TradingSession) -> dict[str, Any]:
    """The secret-free config stored with the session, plus where it traded (environment and account)."""
    snapshot = config_snapshot(session.config)
    snapshot.update(environment=session.extras.get("environment", session.mode),
                    account=session.extras.get("account", ""))
    return snapshot


async def attach_memory(session: TradingSession, settings: Settings, *, venue: str) -> SessionMemory:
    """Open the journal database, record the session's bus, and give the bot learning (and the advisor).

    Call before the bot starts: the risk baselines of the day are restored first (see the module doc).
    """
    url = default_db_url(settings.general)
    if url.startswith("sqlite"):
        settings.general.data_dir.mkdir(parents=True, exist_ok=True)
    db = await asyncio.to_thread(open_database, url)
    journal = Journal(db)
    await journal.start()
    bot = session.bot
    snapshot = session_snapshot(session)
    restored = await asyncio.to_thread(restore_risk_baselines, db, session, venue=venue, snapshot=snapshot)
    info = SessionInfo.new(bot.session, venue, journal_mode(session.mode), bot.clock.time_ms(), snapshot)
    recorder = JournalRecorder(journal, info)
    recorder.attach(session.bus)
    learner = Learner(LearnerConfig(risk_roe=float(abs(session.config.stop_loss_roe))), journal=journal)
    await learner.load(db)
    learner.attach(session.bus)
    bot.learner = learner
    advisor = advisor_from_settings(settings.general, learner=learner)
    bot.advisor = advisor if isinstance(advisor, LLMAdvisor) else None
    log.debug("journal: %s", redact_url(url))
    return SessionMemory(db, journal, recorder, learner, bot.advisor, venue, redact_url(url), restored)


def todays_equity(db: Database, *, venue: str, mode: str, environment: str, account: str, now_ms: int
                  ) -> list[tuple[int, Decimal]]:
    """(ts, equity) samples journaled since 00:00 UTC today by sessions on the same venue, mode,
    environment and account, oldest first."""
    day_start = now_ms - now_ms % DAY_MS
    with db.session() as s:
        rows = s.execute(
            select(EquityRow.ts, EquityRow.equity, SessionRow.config)
            .join(SessionRow, SessionRow.id == EquityRow.session_id)
            .where(SessionRow.venue == venue, SessionRow.mode == mode,
                   EquityRow.ts >= day_start, EquityRow.ts <= now_ms)
            .order_by(EquityRow.ts, EquityRow.id)
        ).all()
    return [(ts, equity) for ts, equity, config in rows
            if (config or {}).get("environment") == environment and (config or {}).get("account") == account]


def restore_risk_baselines(db: Database, session: TradingSession, *, venue: str,
                           snapshot: dict[str, Any] | None = None) -> int:
    """Replay today's journaled equity of this account into the session's risk engine; returns how many
    samples were replayed (0 for fresh-account modes, an unknown account or a shared multi-venue budget)."""
    risk = session.bot.risk
    snapshot = snapshot if snapshot is not None else session_snapshot(session)
    account = snapshot.get("account") or ""
    # a shared budget (multi-venue) judges the sum of venues: one venue's history would mislead it
    if session.mode in FRESH_ACCOUNT_MODES or not account or not isinstance(risk, RiskEngine):
        return 0
    samples = todays_equity(db, venue=venue, mode=journal_mode(session.mode),
                            environment=str(snapshot.get("environment")), account=account,
                            now_ms=session.bot.clock.time_ms())
    for ts, equity in samples:
        risk.on_equity(equity, ts)
    if samples:
        status = risk.status()
        log.info("risk: restored today's baselines from %d journaled equity sample(s): start-of-day %s, "
                 "peak %s", len(samples), status.start_of_day_equity, status.peak_equity)
    return len(samples)
