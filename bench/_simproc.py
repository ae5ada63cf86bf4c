"""Start ``python -m flashscalper sim --port 0`` in a subprocess and read its URLs (shared by the benches)."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp

from flashscalper.exchanges.paradex.keys import ParadexIdentity


@contextmanager
def simulator(*extra: str) -> Iterator[tuple[dict[str, str], subprocess.Popen[bytes]]]:
    """A simulator process (logs discarded); yields its URL dict and the process; stops it afterwards."""
    proc = subprocess.Popen([sys.executable, "-m", "flashscalper", "sim", "--port", "0", "--log-level", "WARNING",
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("the simulator exited before printing its URLs")
        yield json.loads(line), proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


async def fresh_identity(rest_url: str) -> ParadexIdentity:
    """A random L1 key turned into a Paradex identity under the simulator's /system/config."""
    async with aiohttp.ClientSession() as session, session.get(rest_url + "/system/config") as resp:
        config = await resp.json()
    return ParadexIdentity.from_l1_key("0x" + secrets.token_hex(32), l1_chain_id=config["l1_chain_id"],
                                       account_proxy_hash=config["paraclear_account_proxy_hash"],
                                       account_hash=config["paraclear_account_hash"])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
