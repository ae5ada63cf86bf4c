"""Per-market serial workers: venue work that must not hold up the event loop, in order per market.

Placing a stop after a fill, moving a trailing stop, cancelling the exits a closed position left
behind, sending an entry: each is a *job* (an argument-less coroutine function) submitted for one
market. Jobs of one market run one after the other, in submission order, so "place stop" always
happens before "move stop" and two protect/close operations never race on one position. Jobs of
different markets run concurrently.

Two modes, one code path:

* **inline** (the default; virtual time, tests, backtests): :meth:`submit` only queues; the driver
  calls :meth:`drain`, which runs every queued job in global submission order in the caller's task.
  No task scheduling is involved, so a backtest is exactly as deterministic as before.
* **background** (``Bot.run``, live): each market has a worker task that runs its queue, so the
  bot's loop goes on handling market data while a job waits on the venue.

A job that raises is logged and counted (``errors``, and the ``on_error`` callback); it never stops
its worker. :meth:`exclusive` holds every worker between jobs (reconciliation uses it: a snapshot
pass must not interleave with a half-done protect).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[], Awaitable[Any]]

__all__ = ["Job", "MarketWorkers"]


@dataclass(slots=True)
class _Queued:
    market: str
    what: str
    job: Job
    result: asyncio.Future[Any] | None = None  # set for call(): the caller awaits the outcome


class MarketWorkers:
    """Serial job queues, one per market; see the module docstring for the two modes."""

    def __init__(self, on_error: Callable[[str, str, BaseException], None] | None = None) -> None:
        self.on_error = on_error
        self.errors = 0
        self.completed = 0
        self._background = False
        self._inline: deque[_Queued] = deque()  # inline mode: one FIFO over all markets
        self._draining = False
        self._queues: dict[str, deque[_Queued]] = {}  # background mode: per market
        self._wake: dict[str, asyncio.Event] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._busy: set[str] = set()  # markets whose worker is running a job right now
        self._gate = asyncio.Event()  # open unless exclusive() holds the workers
        self._gate.set()
        self._changed = asyncio.Event()  # pulsed whenever a job ends (idle() and exclusive() wait on it)
        self._exclusive = asyncio.Lock()

    # ---- mode ------------------------------------------------------------------------------------

    @property
    def background(self) -> bool:
        return self._background

    async def set_background(self, on: bool) -> None:
        """Switch modes. Leaving background mode first waits until every queued job has run."""
        if on == self._background:
            return
        if on:
            await self.drain()  # what was queued inline keeps its place in line
            self._background = True
            return
        await self.idle()
        self._background = False

    # ---- submitting ------------------------------------------------------------------------------

    def submit(self, market: str, what: str, job: Job) -> None:
        """Queue ``job`` for ``market`` (``what`` names it in logs) and return at once."""
        self._enqueue(_Queued(market, what, job))

    async def call(self, market: str, what: str, job: Callable[[], Awaitable[T]]) -> T:
        """Run ``job`` in ``market``'s line and return its result (exceptions reach the caller)."""
        if not self._background:
            await self.drain()
            return await job()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._enqueue(_Queued(market, what, job, future))
        return await future

    def pending(self, market: str | None = None) -> int:
        """Jobs queued or running (for ``market``, or for all markets)."""
        if not self._background:
            return sum(1 for q in self._inline if market is None or q.market == market)
        markets = [market] if market is not None else list(self._queues)
        return sum(len(self._queues.get(m, ())) + (m in self._busy) for m in markets)

    def _enqueue(self, item: _Queued) -> None:
        if not self._background:
            self._inline.append(item)
            return
        self._queues.setdefault(item.market, deque()).append(item)
        wake = self._wake.setdefault(item.market, asyncio.Event())
        wake.set()
        task = self._tasks.get(item.market)
        if task is None or task.done():
            self._tasks[item.market] = asyncio.create_task(self._work(item.market),
                                                           name=f"flashscalper-worker-{item.market}")

    # ---- running ---------------------------------------------------------------------------------

    async def drain(self) -> None:
        """Inline mode: run every queued job (also those queued meanwhile) in submission order.
        Background mode: wait until every queue is empty (same as :meth:`idle`)."""
        if self._background:
            await self.idle()
            return
        if self._draining:
            return  # a job queued more work: the outer drain runs it next, in order
        self._draining = True
        try:
            while self._inline:
                await self._run(self._inline.popleft())
        finally:
            self._draining = False

    async def idle(self) -> None:
        """Wait until no job is queued or running in any market."""
        if not self._background:
            await self.drain()
            return
        while self.pending():
            self._changed.clear()
            await self._changed.wait()

    async def _work(self, market: str) -> None:
        queue, wake = self._queues[market], self._wake[market]
        while True:
            if not queue:
                wake.clear()
                await wake.wait()
                continue
            await self._gate.wait()
            item = queue.popleft()
            self._busy.add(market)
            try:
                await self._run(item)
            finally:
                self._busy.discard(market)
                self._changed.set()

    async def _run(self, item: _Queued) -> None:
        try:
            result = await item.job()
        except asyncio.CancelledError:
            if item.result is not None and not item.result.done():
                item.result.cancel()
            raise
        except Exception as exc:
            if item.result is not None:
                if not item.result.done():
                    item.result.set_exception(exc)
                return
            self.errors += 1
            log.exception("%s: %s failed; the worker goes on", item.market, item.what)
            if self.on_error is not None:
                self.on_error(item.market, item.what, exc)
        else:
            self.completed += 1
            if item.result is not None and not item.result.done():
                item.result.set_result(result)

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Hold every worker between jobs for the duration (jobs queued meanwhile wait their turn)."""
        if not self._background:
            await self.drain()  # inline: what came before runs first, as it always did
            yield
            return
        async with self._exclusive:
            self._gate.clear()
            try:
                while self._busy:
                    self._changed.clear()
                    await self._changed.wait()
                yield
            finally:
                self._gate.set()

    async def close(self) -> None:
        """Stop the worker tasks (call :meth:`idle` first to let queued work finish)."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for queue in self._queues.values():
            for item in queue:
                if item.result is not None and not item.result.done():
                    item.result.cancel()
            queue.clear()
        self._busy.clear()
        self._background = False
