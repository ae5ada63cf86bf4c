"""Secrets never reach the journal file; the journal and memory commands print and export it."""

from __future__ import annotations

import csv
import importlib.util
import os
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flashscalper.cli import app
from flashscalper.config import Settings, load_settings
from flashscalper.domain import Side
from flashscalper.memory.db import open_database
from flashscalper.memory.export import ExportError, export_trades
from flashscalper.memory.journal import Journal, JournalRecorder, SessionInfo
from flashscalper.memory.learning import Learner
from flashscalper.trading.bus import EventBus, TradeClosed
from flashscalper.trading.exits import ClosedTrade, ExitReason

D = Decimal
L1_KEY = "0x" + "7e" * 32
L2_KEY = "0x" + "05a1" * 15 + "abc"
ASTER_SECRET = "a5" * 32
ASTER_SIGNER_KEY = "0x" + "c3" * 32
LLM_KEY = "sk-test-" + "9f" * 20
DB_PASSWORD = "hunter2-db-password"
CONTROL_TOKEN = "control-token-" + "42" * 10
SECRETS = [L1_KEY, L2_KEY, ASTER_SECRET, ASTER_SIGNER_KEY, LLM_KEY, DB_PASSWORD, CONTROL_TOKEN]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("PARADEX_", "ASTER_", "FLASHSCALPER_")):
            monkeypatch.delenv(name)


def settings_with_secrets(data_dir: Path) -> Settings:
    return load_settings(
        env_file=None,
        paradex={"private_key": L1_KEY, "l2_private_key": L2_KEY, "account_address": "0x" + "12" * 31},
        aster={"enabled": True, "api_key": "aster-api-key-" + "ee" * 8, "api_secret": ASTER_SECRET,
               "user_address": "0x" + "34" * 20, "signer_address": "0x" + "56" * 20,
               "signer_private_key": ASTER_SIGNER_KEY},
        general={"data_dir": str(data_dir), "llm_api_key": LLM_KEY, "control_token": CONTROL_TOKEN,
                 "llm_base_url": "http://127.0.0.1:9/v1", "llm_model": "tiny",
                 "db_url": f"postgresql://bot:{DB_PASSWORD}@127.0.0.1/flashscalper"},
    )


def trade(r: str, closed_at: int, setup: str = "momentum_breakout") -> ClosedTrade:
    pnl = D(r)
    return ClosedTrade("BTC-USD-PERP", Side.BUY, D(1), D(100), D(100) + pnl, pnl, D("0.01"), closed_at - 30_000,
                       closed_at, ExitReason.TP if pnl > 0 else ExitReason.SL, D(1), pnl,
                       signal={"setup": setup, "confidence": 0.8, "features": {"vol_regime": 1.0, "rsi": 61.5}})


async def write_journal(url: str, settings: Settings, outcomes: list[str]) -> None:
    journal = Journal(open_database(url))
    await journal.start()
    bus = EventBus()
    # 1_709_287_200_000 = 2024-03-01 10:00 UTC
    recorder = JournalRecorder(journal, SessionInfo.new("s1", "paradex", "paper", 1_709_287_200_000, settings))
    recorder.attach(bus)
    Learner(journal=journal).attach(bus)
    for i, r in enumerate(outcomes):
        closed = 1_709_287_200_000 + i * 3_600_000
        bus.publish(TradeClosed(trade(r, closed), closed))
    await recorder.close(1_709_300_000_000)


def database_bytes(folder: Path) -> bytes:
    """The database file plus its WAL and shared-memory files, lower-cased."""
    return b"".join(p.read_bytes() for p in folder.iterdir() if p.name.startswith("flashscalper.sqlite")).lower()


async def test_no_secret_of_the_config_is_ever_written_to_the_database_file(tmp_path: Path) -> None:
    settings = settings_with_secrets(tmp_path)
    url = f"sqlite:///{(tmp_path / 'flashscalper.sqlite').as_posix()}"
    await write_journal(url, settings, ["1.5", "-0.5"])
    blob = database_bytes(tmp_path)
    assert b"momentum_breakout" in blob and b"take_profit_roe" in blob  # the config snapshot is there ...
    for secret in SECRETS:
        for form in {secret.lower(), secret.lower().removeprefix("0x")}:
            assert form.encode() not in blob, "a secret reached the journal file"  # ... its secrets are not
    db = open_database(url)
    with db.engine.connect() as conn:
        config = conn.exec_driver_sql("SELECT config FROM sessions").scalar_one()
    assert "***" in config  # the DB URL password is shown masked
    db.close()


async def test_journal_and_memory_commands_print_trades_days_and_reasons(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'j.sqlite').as_posix()}"
    await write_journal(url, settings_with_secrets(tmp_path), ["1.5", "-0.5", "-0.5", "-0.5", "-0.5", "-0.5"])
    runner = CliRunner()
    shown = runner.invoke(app, ["journal", "--db-url", url, "--limit", "3"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "last 3 trades" in shown.output and "2024-03-01" in shown.output and "per day" in shown.output
    learned = runner.invoke(app, ["memory", "--db-url", url, "--risk-roe", "0.5"], env={"COLUMNS": "200"})
    assert learned.exit_code == 0, learned.output
    assert "momentum_breakout" in learned.output and "trading it less" in learned.output

    target = tmp_path / "out" / "trades.csv"
    exported = runner.invoke(app, ["journal", "--db-url", url, "--export", "csv", str(target)])
    assert exported.exit_code == 0 and "wrote 6 trades" in exported.output
    rows = list(csv.DictReader(target.open()))
    assert [r["net_pnl"] for r in rows] == ["1.49", "-0.51", "-0.51", "-0.51", "-0.51", "-0.51"]
    assert rows[0]["setup_key"] == "momentum_breakout|BTC-USD-PERP|normal"

    bad = runner.invoke(app, ["journal", "--db-url", url, "--export", "xlsx", str(target)])
    assert bad.exit_code == 2 and "csv or parquet" in bad.output


async def test_parquet_export_needs_pyarrow_and_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'j.sqlite').as_posix()}"
    await write_journal(url, settings_with_secrets(tmp_path), ["1.5", "-0.5"])
    db = open_database(url)
    target = tmp_path / "trades.parquet"
    if importlib.util.find_spec("pyarrow") is None:
        with pytest.raises(ExportError, match="pip install pyarrow"):
            export_trades(db, target, "parquet")
        assert not target.exists()
    else:
        import pyarrow.parquet as pq

        assert export_trades(db, target, "parquet") == 2
        table = pq.read_table(target)
        assert table.column("net_pnl").to_pylist() == [D("1.49"), D("-0.51")]
    db.close()
