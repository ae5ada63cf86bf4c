"""What counts as "the same setup" for learning: the signal's pattern × market × volatility regime."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["REGIME_NAMES", "SetupKey", "regime_of", "setup_key"]

# the scalper writes its regime as a number into the features (LOW 0, NORMAL 1, HIGH 2)
REGIME_NAMES = {0: "low", 1: "normal", 2: "high"}


@dataclass(frozen=True, slots=True)
class SetupKey:
    """A learning bucket. ``str(key)`` is the stable text stored in the journal."""

    setup: str
    market: str
    regime: str

    def __str__(self) -> str:
        return f"{self.setup}|{self.market}|{self.regime}"

    @classmethod
    def parse(cls, text: str) -> SetupKey:
        setup, market, regime = ([*text.split("|"), "", "", ""])[:3]
        return cls(setup, market, regime)

    def describe(self) -> str:
        return f"{self.setup} on {self.market} in {self.regime} volatility"


def regime_of(features: Mapping[str, object] | None) -> str:
    """``low``/``normal``/``high`` from the ``vol_regime`` feature, ``any`` when absent or odd."""
    value = (features or {}).get("vol_regime")
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return REGIME_NAMES.get(round(value), "any")
    if isinstance(value, str) and value.lower() in REGIME_NAMES.values():
        return value.lower()
    return "any"


def setup_key(setup: str, market: str, features: Mapping[str, object] | None) -> SetupKey:
    """The bucket a signal (or the trade it opened) belongs to."""
    return SetupKey(setup or "unknown", market, regime_of(features))
