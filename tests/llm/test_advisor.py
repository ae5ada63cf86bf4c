"""The LLM advisor against a real OpenAI-compatible HTTP server on loopback that answers well, badly,
slowly or not at all — the bot must always get a bounded, never-riskier answer in time."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
import pytest
from aiohttp import web

from flashscalper.config import load_settings
from flashscalper.domain import Side
from flashscalper.llm.advisor import LLMAdvisor, NoAdvisor, advisor_from_settings
from flashscalper.llm.client import ChatClient
from flashscalper.llm.commentary import Commentator, SessionReviewer
from flashscalper.memory.learning import Learner, LearnerConfig
from flashscalper.strategy.base import Signal
from flashscalper.trading.exits import ClosedTrade, ExitReason
from flashscalper.trading.stats import SessionStats

D = Decimal
BTC = "BTC-USD-PERP"


@dataclass
class FakeModel:
    """An OpenAI-compatible endpoint whose next answers the test scripts (a real HTTP server)."""

    content: str = '{"decision": "approve", "size_multiplier": 1, "reason": "fine"}'
    status: int = 200
    delay_s: float = 0.0
    raw_body: bytes | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(await request.json())
        self.headers.append(dict(request.headers))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.status != 200:
            return web.json_response({"error": {"message": "model overloaded"}}, status=self.status)
        if self.raw_body is not None:
            return web.Response(body=self.raw_body, content_type="application/json")
        return web.json_response({"id": "x", "object": "chat.completion", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": self.content}, "finish_reason": "stop"}]})


@pytest.fixture
async def model() -> AsyncIterator[tuple[FakeModel, str]]:
    fake = FakeModel()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield fake, f"http://127.0.0.1:{port}"
    await runner.cleanup()


def signal(ts: int = 10_000) -> Signal:
    return Signal(BTC, Side.BUY, 0.8, ("EMA gap 1.4 ATR above", "volatility regime NORMAL"),
                  {"vol_regime": 1.0, "rsi": 61.234567, "ema_gap_atr": 1.4}, ts, "momentum_breakout", "scalper",
                  D("64000.5"))


def losing_learner() -> Learner:
    learner = Learner(LearnerConfig(risk_roe=1.0, min_trades=3))
    for i in range(6):
        learner.observe(ClosedTrade(BTC, Side.BUY, D(1), D(100), D(99), D(-1), D(0), 0, 1_000 * (i + 1),
                                    ExitReason.SL, D(1), D(-1), signal={"setup": "momentum_breakout",
                                                                         "features": {"vol_regime": 1.0}}))
    return learner


async def test_a_valid_reduce_answer_lowers_the_size(model: tuple[FakeModel, str]) -> None:
    fake, url = model
    fake.content = '{"decision": "reduce", "size_multiplier": 0.5, "reason": "spread is wide for this setup"}'
    advisor = LLMAdvisor(ChatClient(url, "tiny", timeout_s=2))
    advice = await advisor.advise(signal(), D("0.2"))
    await advisor.close()
    assert (advice.decision, advice.size_multiplier, advice.source) == ("reduce", D("0.5"), "llm")
    assert advice.apply(D("0.2")) == D("0.1") and advice.reason == "spread is wide for this setup"
    assert fake.requests[0]["model"] == "tiny" and fake.requests[0]["response_format"] == {"type": "json_object"}


async def test_veto_and_approve_never_raise_the_size(model: tuple[FakeModel, str]) -> None:
    fake, url = model
    advisor = LLMAdvisor(ChatClient(url, "tiny", timeout_s=2))
    fake.content = '{"decision": "veto", "size_multiplier": 1, "reason": "news spike"}'
    vetoed = await advisor.advise(signal(), D(1))
    fake.content = '```json\n{"decision": "approve", "size_multiplier": 0.3, "reason": "ok"}\n```'
    approved = await advisor.advise(signal(), D(1))
    await advisor.close()
    assert vetoed.vetoed and vetoed.size_multiplier == 0 and vetoed.apply(D(1)) == 0
    assert approved.decision == "approve" and approved.apply(D(1)) == D(1)


@pytest.mark.parametrize(("answer", "why"), [
    ("I think you should buy, it looks bullish!", "not JSON"),
    ('{"decision": "double", "size_multiplier": 0.5, "reason": "x"}', "schema"),
    ('{"decision": "reduce", "size_multiplier": 2.5, "reason": "go big"}', "schema"),
    ('{"decision": "approve", "size_multiplier": 1, "reason": "x", "leverage": 50}', "schema"),
])
async def test_unusable_answers_fall_back_to_the_learned_rule(model: tuple[FakeModel, str], answer: str,
                                                              why: str) -> None:
    fake, url = model
    fake.content = answer
    learner = losing_learner()
    advisor = LLMAdvisor(ChatClient(url, "tiny", timeout_s=2), learner=learner)
    advice = await advisor.advise(signal(), D(1))
    await advisor.close()
    expected = learner.adjust(signal())
    assert advice.source == "rule" and why in advice.reason
    assert advice.decision == "reduce" and advice.size_multiplier == expected.size_multiplier < 1


async def test_a_slow_model_is_cut_off_at_the_timeout(model: tuple[FakeModel, str]) -> None:
    fake, url = model
    fake.delay_s = 1.2
    advisor = LLMAdvisor(ChatClient(url, "tiny", timeout_s=0.3))
    started = time.monotonic()
    advice = await advisor.advise(signal(), D(1))
    elapsed = time.monotonic() - started
    await advisor.close()
    assert elapsed < 1.0 and advice.source == "rule" and "0.3s" in advice.reason
    assert advice.decision == "approve" and advice.size_multiplier == 1  # no learner: the default rule


@pytest.mark.parametrize("status", [500, 503, 401])
async def test_http_errors_fall_back(model: tuple[FakeModel, str], status: int) -> None:
    fake, url = model
    fake.status = status
    advisor = LLMAdvisor(ChatClient(url, "tiny", timeout_s=2), learner=losing_learner())
    advice = await advisor.advise(signal(), D(1))
    await advisor.close()
    assert advice.source == "rule" and f"HTTP {status}" in advice.reason and advice.size_multiplier < 1


async def test_a_non_chat_answer_and_a_dead_endpoint_fall_back(model: tuple[FakeModel, str]) -> None:
    fake, url = model
    fake.raw_body = b'{"unexpected": true}'
    advisor = LLMAdvisor(ChatClient(url, "tiny", timeout_s=2))
    assert (await advisor.advise(signal(), D(1))).source == "rule"
    await advisor.close()
    dead = LLMAdvisor(ChatClient("http://127.0.0.1:9", "tiny", timeout_s=1))  # nothing listens on port 9
    advice = await dead.advise(signal(), D(1))
    await dead.close()
    assert advice.source == "rule" and "unreachable" in advice.reason


def test_without_configuration_the_advisor_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("FLASHSCALPER_"):
            monkeypatch.delenv(name)
    general = load_settings(env_file=None).general
    advisor = advisor_from_settings(general)
    assert isinstance(advisor, NoAdvisor)
    advice = asyncio.run(advisor.advise(signal(), D("0.3")))
    assert (advice.decision, advice.apply(D("0.3")), advice.source) == ("approve", D("0.3"), "none")
    assert Commentator.from_settings(general).client is None


def closed_trade(pnl: str) -> ClosedTrade:
    return ClosedTrade(BTC, Side.SELL, D("0.5"), D(64000), D(63900), D(pnl), D("1.6"), 0, 42_000, ExitReason.TP,
                       D(10), D("3.1"), signal={"setup": "mean_reversion", "features": {"vol_regime": 1.0}})


async def test_commentary_lines_are_short_plain_and_fall_back_to_a_template(model: tuple[FakeModel, str]) -> None:
    fake, url = model
    fake.content = "**Huge win** on BTC!!! see https://evil.example/x 0x" + "ab" * 20 + " " + "wow " * 60
    commentator = Commentator(ChatClient(url, "tiny", timeout_s=2))
    line = await commentator.on_trade(closed_trade("50"))
    assert line is not None and len(line) <= 140
    assert "*" not in line and "https" not in line and "ab" * 10 not in line and "\n" not in line
    fake.status = 500
    fallback = await commentator.on_trade(closed_trade("50"))
    await commentator.client.close()  # type: ignore[union-attr]
    assert fallback is not None and len(fallback) <= 140 and "SELL BTC-USD-PERP closed by TP" in fallback


async def test_session_review_uses_the_model_or_a_rule_based_text(model: tuple[FakeModel, str]) -> None:
    fake, url = model
    stats = SessionStats(starting_equity=D(10_000))
    stats.add_trade(closed_trade("50"))
    stats.add_trade(closed_trade("-20"))
    fake.content = "Solid session: mean reversion worked."
    reviewer = SessionReviewer(ChatClient(url, "tiny", timeout_s=2))
    assert await reviewer.review(stats.summary(), losing_learner().report()) == fake.content
    fake.status = 500
    text = await reviewer.review(stats.summary(), losing_learner().report())
    await reviewer.client.close()  # type: ignore[union-attr]
    assert "2 trades" in text and "win rate 50.0%" in text and "Trade less: momentum_breakout" in text
    sent = orjson.dumps(fake.requests[0]).decode()
    assert "net_pnl_percent_of_start" in sent and "10000" not in sent  # percentages, never the balance
