"""Settings: defaults, .env loading, and one clear line per bad value that never shows a secret."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from flashscalper.config import ParadexEnvironment, load_settings
from flashscalper.errors import ConfigError

L1_KEY = "0x" + "ab" * 32
L2_KEY = "0x" + "0c" * 31


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("PARADEX_", "ASTER_", "FLASHSCALPER_")):
            monkeypatch.delenv(name)


def test_defaults_follow_the_seed_plan() -> None:
    settings = load_settings(env_file=None)
    p = settings.paradex
    assert p.environment is ParadexEnvironment.LOCAL
    assert (p.leverage, p.position_size_percent, p.max_positions) == (Decimal(10), Decimal(25), 10)
    assert (p.take_profit_roe, p.stop_loss_roe) == (Decimal("1.5"), Decimal("-0.5"))
    assert p.rest_url == "http://127.0.0.1:8731/v1"


def test_env_file_is_read_and_env_vars_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PARADEX_LEVERAGE=7\nPARADEX_ENVIRONMENT=testnet\n")
    monkeypatch.setenv("PARADEX_LEVERAGE", "3")
    settings = load_settings(env_file=env_file)
    assert settings.paradex.leverage == Decimal(3)
    assert settings.paradex.environment is ParadexEnvironment.TESTNET
    assert settings.paradex.rest_url == "https://api.testnet.paradex.trade/v1"


def test_seed_style_base_url_without_version_gets_v1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARADEX_API_BASE_URL", "https://api.testnet.paradex.trade")
    assert load_settings(env_file=None).paradex.rest_url == "https://api.testnet.paradex.trade/v1"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PARADEX_PRIVATE_KEY", "0xnothex", "PARADEX_PRIVATE_KEY: is not a hex number"),
        ("PARADEX_PRIVATE_KEY", "0x" + "1" * 66, "PARADEX_PRIVATE_KEY: is not a hex number"),
        ("PARADEX_L2_PRIVATE_KEY", "0x" + "f" * 64, "PARADEX_L2_PRIVATE_KEY: is out of range"),
        ("PARADEX_LEVERAGE", "0", "PARADEX_LEVERAGE=0: Input should be greater than 0"),
        ("PARADEX_LEVERAGE", "500", "PARADEX_LEVERAGE=500: Input should be less than or equal to 100"),
        ("PARADEX_POSITION_SIZE_PERCENT", "150", "PARADEX_POSITION_SIZE_PERCENT=150: Input should be less"),
        ("PARADEX_STOP_LOSS_ROE", "0.5", "PARADEX_STOP_LOSS_ROE=0.5: Input should be less than 0"),
        ("PARADEX_ENVIRONMENT", "mainnet", "PARADEX_ENVIRONMENT=mainnet: Input should be 'testnet', 'prod' or"),
        ("PARADEX_MAX_POSITIONS", "many", "PARADEX_MAX_POSITIONS=many: Input should be a valid integer"),
        ("ASTER_LEVERAGE", "0", "ASTER_LEVERAGE=0"),
        ("ASTER_USER_ADDRESS", "0x12", "ASTER_USER_ADDRESS=0x12: is not an Ethereum address"),
        ("FLASHSCALPER_LOG_LEVEL", "LOUD", "FLASHSCALPER_LOG_LEVEL=LOUD: must be one of"),
    ],
)
def test_bad_value_names_variable_and_problem(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as info:
        load_settings(env_file=None)
    assert expected in str(info.value)


def test_secret_value_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    bad_secret = "0xZZ" + "ab" * 30
    monkeypatch.setenv("PARADEX_PRIVATE_KEY", bad_secret)
    with pytest.raises(ConfigError) as info:
        load_settings(env_file=None)
    assert bad_secret not in str(info.value)
    assert "ab" * 30 not in str(info.value)


def test_l2_key_needs_account_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARADEX_L2_PRIVATE_KEY", L2_KEY)
    with pytest.raises(ConfigError, match="PARADEX_ACCOUNT_ADDRESS"):
        load_settings(env_file=None)


def test_aster_v3_credentials_must_be_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASTER_SIGNER_ADDRESS", "0x" + "1" * 40)
    with pytest.raises(ConfigError, match="ASTER_USER_ADDRESS, ASTER_SIGNER_ADDRESS and ASTER_SIGNER_PRIVATE_KEY"):
        load_settings(env_file=None)


def test_every_problem_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARADEX_LEVERAGE", "0")
    monkeypatch.setenv("ASTER_MAX_POSITIONS", "0")
    with pytest.raises(ConfigError) as info:
        load_settings(env_file=None)
    assert "PARADEX_LEVERAGE" in str(info.value) and "ASTER_MAX_POSITIONS" in str(info.value)


def test_cli_reports_bad_config_in_one_line_without_traceback_or_secret(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARADEX_", "ASTER_", "FLASHSCALPER_"))}
    env.update({"PARADEX_LEVERAGE": "500", "PARADEX_PRIVATE_KEY": L1_KEY + "00"})
    result = subprocess.run(
        [sys.executable, "-m", "flashscalper", "doctor"], env=env, cwd=tmp_path,
        capture_output=True, text=True, timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2
    assert "PARADEX_LEVERAGE=500" in output
    assert "PARADEX_PRIVATE_KEY" in output
    assert "Traceback" not in output
    assert L1_KEY[2:] not in output


def test_markets_accept_a_plain_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARADEX_MARKETS", "btc-usd-perp, ETH-USD-PERP")
    monkeypatch.setenv("ASTER_MARKETS", "BTCUSDT")
    settings = load_settings(env_file=None)
    assert settings.paradex.markets == ["BTC-USD-PERP", "ETH-USD-PERP"]
    assert settings.aster.markets == ["BTCUSDT"]


def test_markets_also_accept_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARADEX_MARKETS", '["BTC-USD-PERP", "sol-usd-perp"]')
    assert load_settings(env_file=None).paradex.markets == ["BTC-USD-PERP", "SOL-USD-PERP"]
