"""Per-market serial workers on their own: order within a market, concurrency across markets, errors
that never stop a worker, the exclusive hold reconciliation uses, and the inline (virtual-time) mode."""

from __future__ import annotations

import asyncio

import pytest

from flashscalper.trading.workers import MarketWorkers


async def _spin(times: int = 5) -> None:
    for _ in range(times):
        await asyncio.sleep(0)


async def test_jobs_of_one_market_run_in_order_while_other_markets_go_on() -> None:
    workers = MarketWorkers()
    await workers.set_background(True)
    log: list[str] = []
    stop_ack = asyncio.Event()

    async def place_stop() -> None:
        log.append("BTC place stop: sent")
        await stop_ack.wait()  # the venue is slow to answer
        log.append("BTC place stop: acked")

    async def note(what: str) -> None:
        log.append(what)

    workers.submit("BTC", "place stop", place_stop)
    workers.submit("BTC", "move stop", lambda: note("BTC move stop"))
    workers.submit("ETH", "place stop", lambda: note("ETH place stop"))
    await _spin()
    assert log == ["BTC place stop: sent", "ETH place stop"]  # ETH did not wait for BTC's venue
    assert workers.pending("BTC") == 2 and workers.pending("ETH") == 0

    stop_ack.set()
    await workers.idle()
    assert log == ["BTC place stop: sent", "ETH place stop", "BTC place stop: acked", "BTC move stop"]
    assert workers.pending() == 0 and workers.completed == 3
    await workers.close()


async def test_a_failing_job_is_logged_and_counted_and_the_worker_goes_on() -> None:
    seen: list[tuple[str, str, str]] = []
    workers = MarketWorkers(on_error=lambda market, what, exc: seen.append((market, what, str(exc))))
    await workers.set_background(True)
    log: list[str] = []

    async def refused() -> None:
        raise RuntimeError("venue said no")

    async def cancel() -> None:
        log.append("cancel leftovers")

    workers.submit("SOL", "protect", refused)
    workers.submit("SOL", "cancel leftovers", cancel)
    await workers.idle()
    assert seen == [("SOL", "protect", "venue said no")] and workers.errors == 1
    assert log == ["cancel leftovers"]

    # a call() hands the failure to its caller instead (and it is not counted twice)
    with pytest.raises(RuntimeError, match="venue said no"):
        await workers.call("SOL", "close", refused)
    assert workers.errors == 1
    assert await workers.call("SOL", "close", lambda: asyncio.sleep(0, result="closed")) == "closed"
    await workers.close()


async def test_exclusive_waits_for_running_jobs_and_holds_new_ones() -> None:
    workers = MarketWorkers()
    await workers.set_background(True)
    log: list[str] = []
    ack = asyncio.Event()

    async def slow_protect() -> None:
        log.append("protect sent")
        await ack.wait()
        log.append("protect acked")

    async def trail() -> None:
        log.append("move stop")

    views: list[list[str]] = []

    async def reconcile() -> None:
        async with workers.exclusive():
            views.append(list(log))
            workers.submit("BTC", "move stop", trail)  # decided meanwhile: waits for the pass to end
            await _spin()
            views.append(list(log))

    workers.submit("BTC", "protect", slow_protect)
    await _spin()
    pass_ = asyncio.create_task(reconcile())
    await _spin()
    assert views == []  # a protect is half-way: the reconciliation pass waits for it
    ack.set()
    await pass_
    assert views == [["protect sent", "protect acked"]] * 2
    await workers.idle()
    assert log[-1] == "move stop"
    await workers.close()


async def test_inline_mode_runs_nothing_until_drained_then_everything_in_submission_order() -> None:
    workers = MarketWorkers()
    log: list[str] = []

    async def note(what: str) -> None:
        log.append(what)
        if what == "BTC protect":  # a job that decides more work: it runs in the same drain, after
            workers.submit("BTC", "BTC close", lambda: note("BTC close"))

    for market, what in [("BTC", "BTC protect"), ("ETH", "ETH entry"), ("BTC", "BTC move stop")]:
        workers.submit(market, what, lambda what=what: note(what))  # type: ignore[misc]
    assert log == [] and workers.pending() == 3
    await workers.drain()
    assert log == ["BTC protect", "ETH entry", "BTC move stop", "BTC close"]
    assert await workers.call("ETH", "close", lambda: asyncio.sleep(0, result=7)) == 7
