"""`flashscalper sim` takes its defaults from FLASHSCALPER_SIM_* (flags win) and accepts Aster keys."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from flashscalper.exchanges.aster.rest import AsterRestClient, HmacCredentials

from .helpers import ROOT

pytestmark = pytest.mark.timeout(60)


async def start_sim(args: list[str], tmp: Path, **env: str) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PARADEX_", "FLASHSCALPER_", "ASTER_"))}
    base.update(PYTHONPATH=str(ROOT / "src"), **env)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "flashscalper", "sim", *args, env=base,
                                                cwd=tmp, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    return proc, json.loads(line)


async def stop(proc: asyncio.subprocess.Process) -> int:
    proc.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(proc.wait(), 15)


async def aster_equity(urls: dict[str, str], key: str, secret: str) -> Decimal:
    rest = AsterRestClient(urls["aster_rest"], HmacCredentials(key, secret))
    try:
        await rest.sync_time()
        return (await rest.balance()).equity
    finally:
        await rest.close()


async def test_settings_are_the_defaults_and_aster_keys_trade_their_own_funded_accounts(tmp_path: Path) -> None:
    proc, urls = await start_sim(["--aster-key", "alicekey:alicesecret", "--aster-key", "bobkey:bobsecret"],
                                 tmp_path, FLASHSCALPER_SIM_PORT="0", FLASHSCALPER_SIM_FUND_USDC="1234")
    try:
        assert not urls["aster_rest"].endswith(":8731/aster")  # port 0 from the settings: a free port
        assert await aster_equity(urls, "alicekey", "alicesecret") == Decimal(1234)
        assert await aster_equity(urls, "bobkey", "bobsecret") == Decimal(1234)
    finally:
        assert await stop(proc) == 0


async def test_flags_win_over_the_settings(tmp_path: Path) -> None:
    proc, urls = await start_sim(["--fund-usdc", "999", "--port", "0", "--aster-key", "k:s"], tmp_path,
                                 FLASHSCALPER_SIM_PORT="1", FLASHSCALPER_SIM_FUND_USDC="1234")
    try:
        assert await aster_equity(urls, "k", "s") == Decimal(999)
    finally:
        assert await stop(proc) == 0


async def test_a_malformed_aster_key_is_a_one_line_error(tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PARADEX_", "FLASHSCALPER_", "ASTER_"))}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "flashscalper", "sim", "--aster-key",
                                                "no-secret-here", env={**base, "PYTHONPATH": str(ROOT / "src")},
                                                cwd=tmp_path, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2 and err.decode().strip().count("\n") == 0 and "KEY:SECRET" in err.decode()
