"""What may shrink or veto an entry after the risk engine has sized it: learning and an advisor.

Both are optional and are described here as protocols so that ``trading/`` does not depend on
``memory/`` or ``llm/``. Neither can make an entry bigger than the risk engine allowed, and exits never
consult them (a stop is never delayed).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from flashscalper.strategy.base import Signal


class SetupAdjustment(Protocol):
    confidence_multiplier: float
    size_multiplier: Decimal
    explanation: str


class EntryLearner(Protocol):
    """Per-setup statistics: ``adjust`` only looks at trades closed before ``signal.ts``."""

    def adjust(self, signal: Signal) -> SetupAdjustment: ...


class EntryVerdict(Protocol):
    reason: str

    @property
    def vetoed(self) -> bool: ...

    def apply(self, proposed_size: Decimal) -> Decimal: ...


class EntryAdvisor(Protocol):
    """A second opinion with its own hard time budget; it answers even when its backend is down."""

    async def advise(self, signal: Signal, proposed_size: Decimal) -> EntryVerdict: ...
