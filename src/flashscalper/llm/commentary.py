"""Stream commentary lines and the end-of-session review, from the LLM when it answers in time.

Both are optional extras: without a configured LLM the commentator is silent (returns None) and the
reviewer writes a plain rule-based review; when the LLM is configured but fails, both fall back to
text built from the same safe facts (percentages, R multiples), never to silence mid-stream.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from flashscalper.config import GeneralSettings
from flashscalper.llm.client import ChatClient, LLMError
from flashscalper.llm.prompts import (
    commentary_messages,
    review_facts,
    review_messages,
    sanitize_line,
    scrub,
    trade_facts,
)
from flashscalper.memory.learning import SetupEstimate
from flashscalper.trading.exits import ClosedTrade
from flashscalper.trading.stats import StatsSummary

__all__ = ["Commentator", "SessionReviewer"]

log = logging.getLogger(__name__)


def _template_line(facts: dict[str, object]) -> str:
    verb = "banks" if facts.get("won") else "takes"
    return sanitize_line(f"{facts['side']} {facts['market']} closed by {facts['exit']}: {verb} "
                         f"{facts['r_multiple']:+}R ({facts['net_roe_percent']:+}% ROE) in {facts['held_seconds']}s")


class Commentator:
    """``await commentator.on_trade(trade)`` → one overlay line (≤ 140 chars) or None when disabled."""

    def __init__(self, client: ChatClient | None, *, risk_roe: float = 0.5) -> None:
        self.client = client
        self.risk_roe = risk_roe

    @classmethod
    def from_settings(cls, general: GeneralSettings, *, risk_roe: float = 0.5) -> Commentator:
        return cls(ChatClient.from_settings(general), risk_roe=risk_roe)

    async def on_trade(self, trade: ClosedTrade) -> str | None:
        if self.client is None:
            return None
        facts = trade_facts(trade, self.risk_roe)
        try:
            line = sanitize_line(await self.client.complete(commentary_messages(facts), max_tokens=60,
                                                            temperature=0.7))
        except LLMError as exc:
            log.debug("commentary fell back to the template: %s", exc)
            line = ""
        return line or _template_line(facts)


class SessionReviewer:
    """``await reviewer.review(summary, estimates)`` → a short end-of-session review text."""

    def __init__(self, client: ChatClient | None) -> None:
        self.client = client

    @classmethod
    def from_settings(cls, general: GeneralSettings) -> SessionReviewer:
        return cls(ChatClient.from_settings(general))

    async def review(self, summary: StatsSummary, estimates: Sequence[SetupEstimate] = ()) -> str:
        facts = review_facts(summary, estimates)
        if self.client is not None:
            try:
                text = await self.client.complete(review_messages(facts), max_tokens=400)
                return scrub(" ".join(text.split()))[:2000]
            except LLMError as exc:
                log.info("session review fell back to the rule-based text: %s", exc)
        return rule_based_review(facts)


def rule_based_review(facts: dict[str, object]) -> str:
    """A plain review from the same facts the model would see."""
    parts = [f"{facts['trades']} trades, win rate {facts['win_rate_percent']}%"]
    if facts.get("net_pnl_percent_of_start") is not None:
        parts.append(f"net {facts['net_pnl_percent_of_start']:+}% of starting equity")
    parts.append(f"max drawdown {facts['max_drawdown_percent']}%")
    lines = ["; ".join(parts) + "."]
    setups = facts.get("setups") or []
    assert isinstance(setups, list)
    weak = [s for s in setups if s.get("expectancy_r", 0) < 0]
    strong = [s for s in setups if s.get("expectancy_r", 0) > 0]
    if strong:
        best = max(strong, key=lambda s: s["expectancy_r"])
        lines.append(f"Best setup: {best['setup']} on {best['market']} ({best['expectancy_r']:+}R per trade).")
    if weak:
        worst = min(weak, key=lambda s: s["expectancy_r"])
        lines.append(f"Trade less: {worst['setup']} on {worst['market']} ({worst['expectancy_r']:+}R per trade).")
    return " ".join(lines)
