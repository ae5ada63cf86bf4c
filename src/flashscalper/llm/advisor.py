"""A second opinion on entries: the model may approve, reduce or veto, never raise risk.

The bot calls an :class:`EntryAdvisor` after the risk engine has sized an entry and before the
order goes out; exits never consult it (a stop is never delayed). Whatever happens — no LLM
configured, a slow, broken or nonsensical answer — ``advise`` returns within the client's timeout
with an :class:`Advice` whose multiplier is within [0, 1].

Wiring it into the bot (integrator's side)::

    advisor = advisor_from_settings(settings.general, learner=learner)   # NoAdvisor() when unconfigured
    advice = await advisor.advise(signal, proposed_size)
    if advice.vetoed:
        report(f"entry vetoed: {advice.reason}")
    else:
        size = market.round_size(advice.apply(proposed_size))   # never bigger than proposed
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flashscalper.config import GeneralSettings
from flashscalper.llm.client import ChatClient, LLMError
from flashscalper.llm.prompts import entry_messages, sanitize_line
from flashscalper.memory.learning import Learner
from flashscalper.memory.setups import setup_key
from flashscalper.strategy.base import Signal

__all__ = ["Advice", "EntryAdvice", "EntryAdvisor", "LLMAdvisor", "NoAdvisor", "advisor_from_settings"]

log = logging.getLogger(__name__)

ONE = Decimal(1)
ZERO = Decimal(0)
Decision = Literal["approve", "veto", "reduce"]


class EntryAdvice(BaseModel):
    """The strict JSON schema the model must answer with."""

    model_config = ConfigDict(extra="forbid")

    decision: Decision
    size_multiplier: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)
    reason: str = Field(min_length=1, max_length=500)


@dataclass(frozen=True, slots=True)
class Advice:
    """The verdict on one entry. ``size_multiplier`` is in [0, 1] (0 exactly when vetoed);
    ``source`` says who decided: ``llm``, ``rule`` (fallback) or ``none`` (no advisor)."""

    decision: Decision
    size_multiplier: Decimal
    reason: str
    source: Literal["llm", "rule", "none"]
    latency_ms: float = 0.0

    @property
    def vetoed(self) -> bool:
        return self.decision == "veto" or self.size_multiplier <= 0

    def apply(self, proposed_size: Decimal) -> Decimal:
        """The size to trade: never above ``proposed_size`` (round it down to the step afterwards)."""
        return proposed_size * min(max(self.size_multiplier, ZERO), ONE)


class EntryAdvisor(Protocol):
    """What the bot calls before an entry: ``await advisor.advise(signal, proposed_size)``."""

    async def advise(self, signal: Signal, proposed_size: Decimal) -> Advice: ...


class NoAdvisor:
    """The advisor when no LLM is configured: approves everything at 1×, instantly."""

    async def advise(self, signal: Signal, proposed_size: Decimal) -> Advice:
        return Advice("approve", ONE, "no advisor configured", "none")

    async def close(self) -> None:
        return None


class LLMAdvisor:
    """Asks a chat model for a strict-JSON verdict; falls back to a rule when it cannot.

    The fallback rule uses the learner (when given): its size multiplier for the signal's setup,
    as of the signal's time; without a learner it approves at 1×. The proposed size itself is never
    sent to the model (it is an absolute amount); only percentages, R multiples and features are.
    """

    def __init__(self, client: ChatClient, *, learner: Learner | None = None,
                 risk: Mapping[str, float] | None = None) -> None:
        self.client = client
        self.learner = learner
        self.risk = dict(risk or {})
        self.fallbacks = 0

    async def advise(self, signal: Signal, proposed_size: Decimal) -> Advice:
        started = time.monotonic()
        estimate = None
        if self.learner is not None:
            estimate = self.learner.estimate(setup_key(signal.setup, signal.market, signal.features), signal.ts)
        try:
            text = await self.client.complete(entry_messages(signal, estimate, self.risk), json_mode=True,
                                              max_tokens=150)
            verdict = parse_entry_advice(text)
        except (LLMError, ValueError) as exc:
            self.fallbacks += 1
            log.info("entry advisor fell back to the rule: %s", exc)
            return self._rule(signal, f"LLM unusable ({exc})", started)
        return _to_advice(verdict, (time.monotonic() - started) * 1000)

    def _rule(self, signal: Signal, why: str, started: float) -> Advice:
        latency = (time.monotonic() - started) * 1000
        if self.learner is None:
            return Advice("approve", ONE, f"{why}; default: approve", "rule", latency)
        _, size, explanation = self.learner.adjust(signal)
        decision: Decision = "approve" if size >= ONE else "reduce"
        return Advice(decision, min(size, ONE), f"{why}; learned rule: {explanation}", "rule", latency)

    async def close(self) -> None:
        await self.client.close()


def parse_entry_advice(text: str) -> EntryAdvice:
    """Validate the model's answer (a JSON object, optionally inside a ``` fence); ValueError if not."""
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    try:
        return EntryAdvice.model_validate(orjson.loads(body))
    except orjson.JSONDecodeError:
        raise ValueError("answer is not JSON") from None
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "answer" for e in exc.errors())
        raise ValueError(f"answer breaks the schema ({fields})") from None


def _to_advice(verdict: EntryAdvice, latency_ms: float) -> Advice:
    reason = sanitize_line(verdict.reason, 200) or "no reason given"
    if verdict.decision == "veto":
        return Advice("veto", ZERO, reason, "llm", latency_ms)
    if verdict.decision == "approve":
        # "approve" keeps the size: a multiplier above what was proposed is impossible by schema anyway
        return Advice("approve", ONE, reason, "llm", latency_ms)
    multiplier = Decimal(str(round(verdict.size_multiplier, 4)))
    return Advice("veto" if multiplier <= 0 else "reduce", min(multiplier, ONE), reason, "llm", latency_ms)


def advisor_from_settings(general: GeneralSettings, *, learner: Learner | None = None,
                          risk: Mapping[str, float] | None = None) -> LLMAdvisor | NoAdvisor:
    """An :class:`LLMAdvisor` when ``FLASHSCALPER_LLM_BASE_URL`` and ``FLASHSCALPER_LLM_MODEL`` are set,
    otherwise :class:`NoAdvisor` (and the bot trades exactly as without this module)."""
    client = ChatClient.from_settings(general)
    return NoAdvisor() if client is None else LLMAdvisor(client, learner=learner, risk=risk)
