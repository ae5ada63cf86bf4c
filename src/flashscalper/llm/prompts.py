"""Prompts for the LLM, built only from what is safe to send.

What may go out: market symbols, sides, setup names, confidences, indicator features, percentages
and R multiples. What never goes out: keys, tokens, account or wallet addresses, absolute balances,
equity or P&L amounts, order sizes. Every text that leaves is passed through :func:`scrub` as a last
line of defence (long hex strings, long digit runs and URLs are cut out even if a strategy put them
in a reason).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import orjson

from flashscalper.llm.client import Message
from flashscalper.memory.learning import SetupEstimate
from flashscalper.strategy.base import Signal
from flashscalper.trading.exits import ClosedTrade
from flashscalper.trading.stats import StatsSummary

__all__ = [
    "COMMENT_MAX_CHARS",
    "commentary_messages",
    "entry_messages",
    "review_messages",
    "sanitize_line",
    "scrub",
    "trade_facts",
]

COMMENT_MAX_CHARS = 140
HUNDRED = Decimal(100)
_HEX = re.compile(r"(0x)?[0-9a-fA-F]{16,}")
_LONG_NUMBER = re.compile(r"\d{9,}")  # account ids, raw balances in base units, timestamps
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.I)
_SECRET_WORD = re.compile(r"\b(sk|pk|key|token|secret)[-_][A-Za-z0-9_-]{8,}", re.I)
_NAME = re.compile(r"[^A-Za-z0-9_.-]")

_ENTRY_SYSTEM = (
    "You are a cautious risk reviewer for a crypto perpetuals scalping bot. You see one proposed entry "
    "and may approve it, reduce its size, or veto it. You can never increase risk. Answer with one JSON "
    'object and nothing else: {"decision": "approve" | "veto" | "reduce", "size_multiplier": number '
    'between 0 and 1, "reason": short sentence}.'
)
_COMMENT_SYSTEM = (
    "You write one short, upbeat, factual line for a live-stream overlay about a scalping bot. "
    "At most 120 characters, no hashtags, no emojis, no financial advice, no amounts of money."
)
_REVIEW_SYSTEM = (
    "You review a trading session of a crypto scalping bot for its operator. Be concrete and brief: "
    "what worked, what did not, which setups to trust less. Use only the figures given (percentages "
    "and R multiples). At most 8 sentences."
)


def scrub(text: str) -> str:
    """Remove what must never reach a model: long hex strings, URLs, secret-looking words, long numbers."""
    text = _URL.sub("[url]", text)
    text = _SECRET_WORD.sub("[redacted]", text)
    text = _HEX.sub("[hex]", text)
    return _LONG_NUMBER.sub("[n]", text)


def sanitize_line(text: str, limit: int = COMMENT_MAX_CHARS) -> str:
    """One plain line for an overlay: scrubbed, no markup or control characters, at most ``limit`` chars."""
    text = scrub(text)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = re.sub(r"[*_`#<>\[\]{}|\\]", "", text)
    text = " ".join(text.split()).strip(" \"'")
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut.rstrip(" ,;:-") + "…"


def _number(value: float) -> float | None:
    return float(f"{value:.4g}") if math.isfinite(value) else None


def _features(features: Mapping[str, Any]) -> dict[str, float | None]:
    safe: dict[str, float | None] = {}
    for name, value in list(features.items())[:40]:
        if isinstance(value, int | float) and not isinstance(value, bool):
            safe[_NAME.sub("", str(name))[:32]] = _number(float(value))
    return safe


def _dumps(payload: Mapping[str, Any]) -> str:
    return scrub(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode())


def _estimate_facts(estimate: SetupEstimate | None) -> dict[str, Any] | None:
    if estimate is None or not estimate.trades:
        return None
    return {"trades": estimate.trades, "win_rate_percent": round(estimate.win_rate * 100, 1),
            "expectancy_r": round(estimate.expectancy_r, 3), "expectancy_sd_r": round(estimate.expectancy_sd, 3),
            "regime": estimate.key.regime}


def entry_messages(signal: Signal, estimate: SetupEstimate | None = None,
                   risk: Mapping[str, float] | None = None) -> list[Message]:
    """Ask for a second opinion on an entry. ``risk`` may carry percentages/R only, e.g.
    ``{"stop_loss_roe_percent": -0.5, "take_profit_roe_percent": 1.5, "leverage": 10}``."""
    facts: dict[str, Any] = {
        "market": _NAME.sub("", signal.market), "side": signal.side.value, "setup": _NAME.sub("", signal.setup),
        # the strategy's free-text reasons stay home: they may quote prices or amounts; features say the same
        "confidence": round(signal.confidence, 3), "features": _features(signal.features),
        "history_of_this_setup": _estimate_facts(estimate),
    }
    if risk:
        facts["risk"] = {_NAME.sub("", k)[:40]: _number(float(v)) for k, v in risk.items()}
    return [{"role": "system", "content": _ENTRY_SYSTEM}, {"role": "user", "content": _dumps(facts)}]


def trade_facts(trade: ClosedTrade, risk_roe: float = 0.5) -> dict[str, Any]:
    """A closed trade in shareable terms: ROE %, R multiple, duration; no amounts."""
    margin = trade.entry_price * trade.size / trade.leverage if trade.leverage else Decimal(0)
    net_roe = float(trade.net_pnl / margin * HUNDRED) if margin else 0.0
    setup = trade.signal.get("setup") if trade.signal else None
    return {"market": _NAME.sub("", trade.market), "side": trade.side.value, "exit": trade.reason.value,
            "net_roe_percent": round(net_roe, 2), "r_multiple": round(net_roe / risk_roe, 2),
            "held_seconds": round(trade.duration_ms / 1000), "setup": _NAME.sub("", str(setup or "unknown")),
            "won": trade.is_win}


def commentary_messages(facts: Mapping[str, Any]) -> list[Message]:
    """Ask for one overlay line about ``facts`` (e.g. :func:`trade_facts`)."""
    return [{"role": "system", "content": _COMMENT_SYSTEM}, {"role": "user", "content": _dumps(facts)}]


def review_facts(summary: StatsSummary, estimates: Sequence[SetupEstimate] = ()) -> dict[str, Any]:
    """End-of-session figures as percentages: P&L relative to the starting equity, never the amount."""
    start = summary.start_equity
    pnl_percent = float(summary.pnl / start * HUNDRED) if start else None
    fees_percent = float(summary.fees / start * HUNDRED) if start else None
    return {
        "trades": summary.trades, "win_rate_percent": round(float(summary.win_rate), 1),
        "net_pnl_percent_of_start": None if pnl_percent is None else round(pnl_percent, 3),
        "fees_percent_of_start": None if fees_percent is None else round(fees_percent, 3),
        "max_drawdown_percent": round(float(summary.max_drawdown_percent), 2),
        "avg_duration_seconds": round(float(summary.avg_duration_s), 1), "exit_reasons": dict(summary.exit_reasons),
        "setups": [{"setup": _NAME.sub("", e.key.setup), "market": _NAME.sub("", e.key.market),
                    **(_estimate_facts(e) or {})} for e in list(estimates)[:20]],
    }


def review_messages(facts: Mapping[str, Any]) -> list[Message]:
    """Ask for an end-of-session review of ``facts`` (see :func:`review_facts`)."""
    return [{"role": "system", "content": _REVIEW_SYSTEM}, {"role": "user", "content": _dumps(facts)}]
