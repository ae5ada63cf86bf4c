"""Start-up recovery: fills the venue knows about but the journal does not (the bot was down, the
process crashed between a fill and its batch, a WS gap) are written now, exactly once.

The venue is the authority; the journal's unique (venue, fill id) key makes this idempotent, so it
is safe to run on every start and after every reconnect.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flashscalper.exchanges.base import Exchange
from flashscalper.memory.journal import Journal, WriteOp
from flashscalper.memory.rows import fill_row

__all__ = ["RecoveryReport", "recover_missing_fills"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    """``checked`` fills came back from the venue; ``inserted`` of them were new to the journal."""

    since_ms: int | None
    checked: int
    inserted: int
    fill_ids: tuple[str, ...] = ()


async def recover_missing_fills(journal: Journal, exchange: Exchange, *, venue: str, session_id: str,
                                since_ms: int | None = None) -> RecoveryReport:
    """Ask ``exchange`` for its fills since the newest journaled one (or ``since_ms`` when the journal
    has none for ``venue``) and journal the missing ones with ``source="recovery"``.

    The newest journaled timestamp is asked for again (``>=``): fills sharing that millisecond may
    not all have been written. Duplicates are filtered here and ignored by the unique key anyway.
    """
    last = await journal.last_fill_ts(venue)
    start = last if last is not None else since_ms
    fills = await exchange.fills(since_ms=start)
    # a venue may answer with a little more history than asked; the filter keeps the contract
    fills = [f for f in fills if start is None or f.ts >= start]
    known = await journal.known_fill_ids(venue, [f.id for f in fills])
    missing, seen = [], set(known)
    for fill in sorted(fills, key=lambda f: (f.ts, f.id)):
        if fill.id in seen:
            continue
        seen.add(fill.id)
        missing.append(fill)
    for fill in missing:
        journal.submit(WriteOp("fills", fill_row(fill, purpose="RECOVERED", venue=venue, session_id=session_id,
                                                 source="recovery"), "ignore"))
    if missing:
        await journal.flush()
        log.info("journal recovery: %d of %d venue fills since %s were missing and are now journaled",
                 len(missing), len(fills), start)
    return RecoveryReport(start, len(fills), len(missing), tuple(f.id for f in missing))
