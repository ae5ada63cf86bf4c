"""Run the simulator in the foreground (the ``flashscalper sim`` command).

The first line on stdout is one JSON object with the URLs (``paradex_rest``, ``paradex_ws``, ``admin``), so
a parent process can start ``python -m flashscalper sim --port 0`` and read where it listens. Logs go to
stderr. SIGINT and SIGTERM stop it cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from decimal import Decimal

import orjson

from flashscalper.logs import setup_logging
from flashscalper.sim.server import PARADEX_LIMITS, Simulator

log = logging.getLogger("flashscalper.sim")


async def serve(*, host: str, port: int, seed: int, fund_usdc: Decimal, speed: float, order_rate: int,
                aster_keys: Sequence[tuple[str, str]] = ()) -> None:
    """Start a simulator, announce its URLs and run until SIGINT/SIGTERM.

    ``aster_keys`` are V1 (key, secret) pairs registered on the Aster dialect, each with its own account."""
    sim = Simulator(seed=seed, fund_usdc=fund_usdc, speed=speed)
    if order_rate:
        sim.limiter.set_limit("orders", order_rate, 1.0)
    if aster_keys:
        from flashscalper.sim.aster.registry import registry_of

        registry = registry_of(sim)
        for key, secret in aster_keys:
            registry.add_api_key(key, secret)
    # handlers before the URL line: a parent may signal as soon as it has read it
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows event loops
            loop.add_signal_handler(signum, stop.set)
    urls = await sim.start(host=host, port=port)
    sys.stdout.write(orjson.dumps(urls.as_dict()).decode() + "\n")
    sys.stdout.flush()
    orders = order_rate or PARADEX_LIMITS["orders"][0]
    log.info("simulator listening: REST %s  WS %s  admin %s (seed %d, %s USDC per account, %d orders/s)",
             urls.paradex_rest, urls.paradex_ws, urls.admin, seed, fund_usdc, orders)
    try:
        await stop.wait()
    finally:
        log.info("simulator stopping")
        await sim.stop()


def run_simulator(*, host: str, port: int, seed: int, fund_usdc: Decimal, speed: float, order_rate: int,
                  log_level: str = "INFO", aster_keys: Sequence[tuple[str, str]] = ()) -> None:
    """Blocking entry point used by the CLI."""
    setup_logging(log_level)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(host=host, port=port, seed=seed, fund_usdc=fund_usdc, speed=speed,
                          order_rate=order_rate, aster_keys=aster_keys))
