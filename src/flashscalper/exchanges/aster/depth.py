"""A local Aster order book kept in step with the diff-depth stream (protocol/aster.md §13).

Procedure: buffer ``depthUpdate`` diffs → REST snapshot (``lastUpdateId`` = L) → drop buffered diffs with
``u < L`` → the first applied diff must straddle L (``U <= L <= u``) or chain onto it (``pu == L``) → every
later diff must have ``pu`` equal to the previous diff's ``u``. Anything else is a gap: the book goes back
to buffering and asks for a new snapshot. Ids are increasing but not contiguous, so the chain is on ``pu``.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from enum import StrEnum

from flashscalper.domain import BookLevel, BookUpdate
from flashscalper.exchanges.aster.mapping import DepthDiff

MAX_BUFFER = 2000


class DepthResult(StrEnum):
    APPLIED = "APPLIED"
    BUFFERED = "BUFFERED"  # waiting for a snapshot
    STALE = "STALE"  # older than the book: ignored
    GAP = "GAP"  # the chain broke: a new snapshot is needed


class DepthBook:
    """Bids and asks of one symbol plus the sequencing state."""

    def __init__(self, market: str, max_buffer: int = MAX_BUFFER) -> None:
        self.market = market
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.last_update_id = 0
        self.synced = False
        self.ts = 0
        self.gaps = 0
        self._buffer: deque[DepthDiff] = deque(maxlen=max_buffer)

    def on_diff(self, diff: DepthDiff) -> DepthResult:
        """Feed one diff event in arrival order."""
        if not self.synced:
            self._buffer.append(diff)
            return DepthResult.BUFFERED
        if diff.final_id <= self.last_update_id:
            return DepthResult.STALE
        if diff.prev_final_id != self.last_update_id:
            self._lose_sync(diff)
            return DepthResult.GAP
        self._apply(diff)
        return DepthResult.APPLIED

    def apply_snapshot(self, last_update_id: int, bids: tuple[BookLevel, ...], asks: tuple[BookLevel, ...],
                       ts: int = 0) -> bool:
        """Load a REST snapshot and replay the buffer. False when the buffer does not join it (fetch again)."""
        self.bids = {lv.price: lv.size for lv in bids if lv.size > 0}
        self.asks = {lv.price: lv.size for lv in asks if lv.size > 0}
        self.last_update_id = last_update_id
        self.ts = ts
        pending = [d for d in self._buffer if d.final_id >= last_update_id]
        self._buffer.clear()
        if pending:
            first = pending[0]
            joins = first.first_id <= last_update_id <= first.final_id or first.prev_final_id == last_update_id
            if not joins:  # the snapshot is older than everything buffered: try again
                self._buffer.extend(pending)
                return False
            self._apply(first)
            for diff in pending[1:]:
                if diff.prev_final_id != self.last_update_id:
                    self._buffer.extend(pending[pending.index(diff):])
                    self.gaps += 1
                    return False
                self._apply(diff)
        self.synced = True
        return True

    def _apply(self, diff: DepthDiff) -> None:
        for side, levels in ((self.bids, diff.bids), (self.asks, diff.asks)):
            for level in levels:
                if level.size > 0:
                    side[level.price] = level.size
                else:
                    side.pop(level.price, None)  # deleting an unknown level is normal
        self.last_update_id = diff.final_id
        self.ts = diff.ts or self.ts

    def _lose_sync(self, diff: DepthDiff) -> None:
        self.synced = False
        self.gaps += 1
        self._buffer.clear()
        self._buffer.append(diff)

    def reset(self) -> None:
        """Forget everything (after a reconnect): buffer again until the next snapshot."""
        self.synced = False
        self.bids.clear()
        self.asks.clear()
        self._buffer.clear()
        self.last_update_id = 0

    def top(self, depth: int = 15) -> BookUpdate:
        """The best ``depth`` levels per side, best first."""
        bids = sorted(self.bids.items(), key=lambda kv: kv[0], reverse=True)[:depth]
        asks = sorted(self.asks.items(), key=lambda kv: kv[0])[:depth]
        return BookUpdate(self.market, tuple(BookLevel(p, s) for p, s in bids), tuple(BookLevel(p, s) for p, s in asks),
                          ts=self.ts, seq_no=self.last_update_id, is_snapshot=False)

    @property
    def buffered(self) -> int:
        return len(self._buffer)
