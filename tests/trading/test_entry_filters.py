"""Learning and the advisor can shrink or veto an entry the risk engine sized, never grow it."""

from __future__ import annotations

from decimal import Decimal

from flashscalper.domain import Side
from flashscalper.llm.advisor import Advice
from flashscalper.memory.learning import Learner
from flashscalper.memory.setups import setup_key
from flashscalper.strategy.base import Signal

from .scenario import BTC, ScriptedStrategy, make_scenario


class VetoAllAdvisor:
    """A rule-based advisor (the real LLMAdvisor's fallback shape) that refuses every entry."""

    async def advise(self, signal: Signal, proposed_size: Decimal) -> Advice:
        return Advice("veto", Decimal(0), "spread too wide for my taste", "rule")


def losing_learner(market: str) -> Learner:
    learner = Learner()
    key = setup_key("scripted", market, {})
    for i in range(30):  # a setup that lost one R thirty times in a row, long before the test's signals
        learner.add_outcome(key, closed_at=1_000 + i, net_roe=-0.5, win=False)
    return learner


async def entry_size(**kwargs: object) -> Decimal:
    s = make_scenario(**kwargs)  # type: ignore[arg-type]
    await s.bot.start()
    await s.step(250, 4)
    await s.enter(BTC, Side.BUY)
    return abs(s.venue_position(BTC))


async def test_learning_shrinks_a_losing_setup_but_never_grows_a_size() -> None:
    plain = await entry_size()
    s = make_scenario()
    s.bot.learner = losing_learner(BTC)
    await s.bot.start()
    await s.step(250, 4)
    await s.enter(BTC, Side.BUY)
    learned = abs(s.venue_position(BTC))
    assert 0 < learned < plain
    acted = [e for e in s.of_kind("signal") if e.acted]
    assert "learning: size ×" in acted[-1].note


async def test_advisor_veto_stops_the_entry_and_says_why() -> None:
    s = make_scenario()
    s.bot.advisor = VetoAllAdvisor()
    await s.bot.start()
    await s.step(250, 4)
    assert isinstance(s.strategy, ScriptedStrategy)
    s.strategy.go(BTC, Side.BUY)
    await s.step(250, 4)
    assert s.venue_position(BTC) == 0
    skipped = [e for e in s.of_kind("signal") if not e.acted]
    assert skipped and skipped[-1].note == "vetoed by the advisor: spread too wide for my taste"
