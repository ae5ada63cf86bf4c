"""Helpers of the operating-command tests: a simulator in the test process, the CLI as a subprocess."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO

from flashscalper.exchanges.paradex.keys import ParadexIdentity
from flashscalper.sim.server import Simulator, SimulatorUrls

ROOT = Path(__file__).resolve().parents[2]
CLI_WITH_TEST_STRATEGY = Path(__file__).resolve().parent / "cli_with_test_strategy.py"
BTC = "BTC-USD-PERP"


@dataclass
class Done:
    rc: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def bot_env(urls: SimulatorUrls, key: str | None, tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of a command trading the test's simulator (nothing inherited from a .env)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARADEX_", "FLASHSCALPER_", "ASTER_"))}
    env.update(PARADEX_ENVIRONMENT="local", PARADEX_API_BASE_URL=urls.paradex_rest,
               PARADEX_WS_BASE_URL=urls.paradex_ws, PARADEX_MARKETS=f'["{BTC}"]', FLASHSCALPER_DATA_DIR=str(tmp),
               FLASHSCALPER_LOG_LEVEL="INFO", FLASHSCALPER_DASHBOARD_PORT="0", COLUMNS="200",
               PYTHONPATH=str(ROOT / "src"))
    if key is not None:
        env["PARADEX_PRIVATE_KEY"] = key
    env.update(extra)
    return env


async def start_cli(args: list[str], env: dict[str, str], cwd: Path, *, test_strategy: bool = False,
                    log: Path | None = None) -> asyncio.subprocess.Process:
    """Start ``flashscalper <args>``; output goes to ``log`` (a file, so a long run never blocks on a pipe)."""
    entry = [str(CLI_WITH_TEST_STRATEGY)] if test_strategy else ["-m", "flashscalper"]
    sink = _append(log) if log is not None else asyncio.subprocess.PIPE
    return await asyncio.create_subprocess_exec(sys.executable, *entry, *args, env=env, cwd=cwd, stdout=sink,
                                                stderr=asyncio.subprocess.STDOUT if log is not None
                                                else asyncio.subprocess.PIPE)


def _append(log: Path) -> IO[bytes]:
    return log.open("ab")  # the child holds it; our copy is closed when the test's objects go


async def run_cli(args: list[str], env: dict[str, str], cwd: Path, *, limit_s: float = 60,
                  test_strategy: bool = False) -> Done:
    proc = await start_cli(args, env, cwd, test_strategy=test_strategy)
    out, err = await asyncio.wait_for(proc.communicate(), limit_s)
    assert proc.returncode is not None
    return Done(proc.returncode, out.decode(), err.decode())


def account_id(sim: Simulator, key: str) -> str:
    """The engine account id the simulator gives the account of ``key``."""
    identity = ParadexIdentity.from_l1_key(key, l1_chain_id=sim.system["l1_chain_id"],
                                           account_proxy_hash=sim.system["paraclear_account_proxy_hash"],
                                           account_hash=sim.system["paraclear_account_hash"])
    return hex(identity.account_address)


async def wait_for(condition, limit_s: float, what: str, interval: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll ``condition()`` until it returns something truthy; fail naming ``what`` after ``limit_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while True:
        value = condition()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {limit_s}s waiting for {what}")
        await asyncio.sleep(interval)


def position_size(sim: Simulator, account: str, market: str = BTC) -> Decimal:
    if account not in sim.exchange.accounts():
        return Decimal(0)
    return sim.exchange.position(account, market).size
