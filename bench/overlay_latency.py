"""Fill in the simulator's engine → toast in the trades overlay's DOM, measured in a real headless Chromium.

The demo session (simulator, bot, dashboard) runs in this process as in ``flashscalper demo``.
Market orders from the bot's account fill in the engine, which stamps each fill (epoch ms); in the
page a MutationObserver stamps ``performance.timeOrigin + performance.now()`` when that fill's toast
appears. Both are the same machine's wall clock. Entries are paused so only our fills show up.

    .venv/bin/python bench/overlay_latency.py [-n 60] [--interval 0.15] [--json]

Goal: p50 ≤ 250 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flashscalper.config import load_settings
from flashscalper.dashboard.server import DashboardServer
from flashscalper.demo import DemoOptions, start_demo_session
from flashscalper.domain import OrderRequest, OrderType, Side
from flashscalper.trading.bus import FillReport

STAMP_SCRIPT = """
window.__toastSeen = {};
new MutationObserver((records) => {
  const now = performance.timeOrigin + performance.now();
  for (const r of records) for (const n of r.addedNodes) {
    if (n.nodeType === 1 && n.dataset && n.dataset.fillId && !(n.dataset.fillId in window.__toastSeen))
      window.__toastSeen[n.dataset.fillId] = now;
  }
}).observe(document, { childList: true, subtree: true });
"""
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


async def measure(n: int, interval: float, chromium: str) -> dict[str, object]:
    from playwright.async_api import async_playwright

    settings = load_settings(env_file=None)
    sim, session = await start_demo_session(settings, DemoOptions(port=0))
    dash = DashboardServer(session, port=0)
    await dash.start()
    await session.bot.start()
    session.bot.pause_entries("benchmark: only the benchmark's fills")
    runner = asyncio.create_task(session.bot.run())
    engine_ts: dict[str, int] = {}
    sub = session.bus.subscribe(kinds={"fill"})

    async def collect() -> None:
        async for event in sub:
            if isinstance(event, FillReport):
                engine_ts.setdefault(event.fill.id, event.fill.ts)

    collector = asyncio.create_task(collect())
    profile = tempfile.mkdtemp(prefix="fs-bench-chromium-")
    pw = await async_playwright().start()
    try:
        context = await pw.chromium.launch_persistent_context(profile, executable_path=chromium, headless=True,
                                                              args=ARGS, viewport={"width": 420, "height": 360})
        page = await context.new_page()
        await page.add_init_script(STAMP_SCRIPT)
        await page.goto(dash.url + "/overlay/trades")
        await page.wait_for_selector("body[data-status=live]")
        for i in range(n):
            side = Side.BUY if i % 2 == 0 else Side.SELL
            await session.exchange.place_order(
                OrderRequest("BTC-USD-PERP", side, OrderType.MARKET, Decimal("0.001"), f"bench-{os.getpid()}-{i}"))
            await asyncio.sleep(interval)
        await asyncio.sleep(1.0)
        seen: dict[str, float] = await page.evaluate("window.__toastSeen")
        await context.close()
    finally:
        await pw.stop()
        shutil.rmtree(profile, ignore_errors=True)
        collector.cancel()
        session.bot.stop()
        await asyncio.wait_for(runner, 5)
        await dash.stop()
        await session.bot.close()
        await sim.stop()

    latencies = [seen[fid] - ts for fid, ts in engine_ts.items() if fid in seen]
    if not latencies:
        raise SystemExit("no fill toast was observed in the overlay")
    return {"bench": "overlay_latency", "fills": len(engine_ts), "observed": len(latencies),
            "p50_ms": round(percentile(latencies, 0.5), 1), "p99_ms": round(percentile(latencies, 0.99), 1),
            "max_ms": round(max(latencies), 1), "goal_p50_ms": 250,
            "met": percentile(latencies, 0.5) <= 250}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=60, help="fills to measure (at least 50 for the report)")
    parser.add_argument("--interval", type=float, default=0.15, help="seconds between orders")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args()
    chromium = os.environ.get("FLASHSCALPER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        raise SystemExit("chromium not found: set FLASHSCALPER_CHROMIUM")
    result = asyncio.run(measure(args.n, args.interval, chromium))
    print(f"fill in engine → toast in overlay DOM over {result['observed']} fills: "
          f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, max {result['max_ms']} ms "
          f"(goal p50 ≤ 250 ms: {'met' if result['met'] else 'NOT met'})")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
