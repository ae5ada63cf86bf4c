"""Nothing secret or absolute leaves for the LLM: prompts are built from a config full of secrets
and a signal whose reasons try to smuggle an address, and every byte sent is scanned."""

from __future__ import annotations

import os
from decimal import Decimal

import orjson
import pytest

from flashscalper.config import load_settings
from flashscalper.domain import Side
from flashscalper.llm.advisor import LLMAdvisor, advisor_from_settings
from flashscalper.llm.commentary import Commentator, SessionReviewer
from flashscalper.llm.prompts import entry_messages, sanitize_line
from flashscalper.strategy.base import Signal
from flashscalper.trading.exits import ClosedTrade, ExitReason
from flashscalper.trading.stats import SessionStats

from .test_advisor import FakeModel, model  # noqa: F401  (the loopback model fixture)

D = Decimal
L1_KEY = "0x" + "7e" * 32
L2_KEY = "0x" + "05a1" * 15 + "abc"
ACCOUNT = "0x" + "12" * 31
ASTER_SECRET = "a5" * 32
ASTER_USER = "0x" + "34" * 20
LLM_KEY = "sk-test-" + "9f" * 20
EQUITY = "12345.67"
SECRETS = [L1_KEY, L2_KEY, ACCOUNT, ASTER_SECRET, ASTER_USER, LLM_KEY]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("PARADEX_", "ASTER_", "FLASHSCALPER_")):
            monkeypatch.delenv(name)


def leaky_signal() -> Signal:
    return Signal("BTC-USD-PERP", Side.BUY, 0.77,
                  (f"account {ACCOUNT} looks strong", f"equity {EQUITY} USDC", f"see https://x.example/?k={LLM_KEY}"),
                  {"rsi": 58.123456, "vol_regime": 1.0, "ema_gap_atr": 1.1}, 5_000, "momentum_breakout", "scalper",
                  D("64000.5"))


def assert_clean(text: str) -> None:
    low = text.lower()
    for secret in SECRETS:
        assert secret.lower() not in low and secret.lower().removeprefix("0x") not in low, "a secret left"


def test_entry_prompt_has_features_and_no_secrets() -> None:
    messages = entry_messages(leaky_signal(), risk={"stop_loss_roe_percent": -0.5, "leverage": 10})
    text = orjson.dumps(messages).decode()
    assert_clean(text)
    assert "momentum_breakout" in text and "58.12" in text and "stop_loss_roe_percent" in text
    assert EQUITY not in text and "USDC" not in text  # free-text reasons (which may quote amounts) stay home


async def test_every_request_body_sent_from_a_secret_config_is_clean(model: tuple[FakeModel, str]) -> None:  # noqa: F811
    fake, url = model
    settings = load_settings(
        env_file=None,
        paradex={"private_key": L1_KEY, "l2_private_key": L2_KEY, "account_address": ACCOUNT},
        aster={"enabled": True, "api_key": "aster-key-" + "ee" * 8, "api_secret": ASTER_SECRET,
               "user_address": ASTER_USER, "signer_address": "0x" + "56" * 20, "signer_private_key": L1_KEY},
        general={"llm_base_url": url, "llm_model": "tiny", "llm_api_key": LLM_KEY, "llm_timeout_seconds": 2},
    )
    advisor = advisor_from_settings(settings.general, risk={"take_profit_roe_percent": 1.5})
    assert isinstance(advisor, LLMAdvisor)
    fake.content = '{"decision": "approve", "size_multiplier": 1, "reason": "ok"}'
    await advisor.advise(leaky_signal(), D("0.75"))
    await advisor.close()
    fake.content = "nice trade"
    commentator = Commentator.from_settings(settings.general)
    trade = ClosedTrade("BTC-USD-PERP", Side.BUY, D("0.75"), D(64000), D(64100), D(75), D(2), 0, 30_000,
                        ExitReason.TP, D(10), D("1.56"), signal={"setup": "momentum_breakout"})
    await commentator.on_trade(trade)
    await commentator.client.close()  # type: ignore[union-attr]
    stats = SessionStats(starting_equity=D(EQUITY))
    stats.add_trade(trade)
    reviewer = SessionReviewer.from_settings(settings.general)
    await reviewer.review(stats.summary())
    await reviewer.client.close()  # type: ignore[union-attr]

    assert len(fake.requests) == 3
    for body in fake.requests:
        text = orjson.dumps(body).decode()
        assert_clean(text)
        assert EQUITY not in text and "64000" not in text.split("features")[0]  # no balance, no size/amounts
        assert "0.75" not in text.replace("0.77", "")  # the proposed size never goes out
    # the key travels only as the bearer token
    assert all(h["Authorization"] == f"Bearer {LLM_KEY}" for h in fake.headers)
    assert LLM_KEY not in repr(advisor.client)


def test_overlay_lines_are_sanitized_and_short() -> None:
    line = sanitize_line("**BIG** win\n\t<script>alert(1)</script> on " + "0x" + "cd" * 20 + " " + "x" * 300)
    assert len(line) <= 140 and "\n" not in line and "*" not in line and "<" not in line and "cd" * 8 not in line
