"""Memory for a trading session: the journal records the bus, learning adjusts entries, an optional
LLM advisor gives a second opinion. Nothing here is needed to trade; every part can be switched off."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from flashscalper.config import Settings
from flashscalper.llm.advisor import LLMAdvisor, advisor_from_settings
from flashscalper.memory.db import Database, default_db_url, open_database, redact_url
from flashscalper.memory.journal import Journal, JournalRecorder, SessionInfo
from flashscalper.memory.learning import Learner, LearnerConfig
from flashscalper.memory.recovery import RecoveryReport, recover_missing_fills
from flashscalper.session import TradingSession

log = logging.getLogger(__name__)


@dataclass
class SessionMemory:
    db: Database
    journal: Journal
    recorder: JournalRecorder
    learner: Learner
    advisor: LLMAdvisor | None
    venue: str

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


async def attach_memory(session: TradingSession, settings: Settings, *, venue: str) -> SessionMemory:
    """Open the journal database, record the session's bus, and give the bot learning (and the advisor)."""
    url = default_db_url(settings.general)
    if url.startswith("sqlite"):
        settings.general.data_dir.mkdir(parents=True, exist_ok=True)
    db = await asyncio.to_thread(open_database, url)
    journal = Journal(db)
    await journal.start()
    bot = session.bot
    info = SessionInfo.new(bot.session, venue, session.mode, bot.clock.time_ms(), session.config)
    recorder = JournalRecorder(journal, info)
    recorder.attach(session.bus)
    learner = Learner(LearnerConfig(risk_roe=float(abs(session.config.stop_loss_roe))), journal=journal)
    await learner.load(db)
    learner.attach(session.bus)
    bot.learner = learner
    advisor = advisor_from_settings(settings.general, learner=learner)
    bot.advisor = advisor if isinstance(advisor, LLMAdvisor) else None
    log.info("journal: %s", redact_url(url))
    return SessionMemory(db, journal, recorder, learner, bot.advisor, venue)
