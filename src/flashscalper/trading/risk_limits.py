"""Risk limits: the numbers the risk engine enforces, validated once at construction.

Safe mode ("on stream with real money, be gentle") caps the limits to
``leverage <= 3``, ``position_size_percent <= 5`` and ``max_positions <= 2``; a configured value
already below a cap is kept. :meth:`RiskLimits.effective` returns the limits with the caps applied.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import ClassVar

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Risk limits. Percentages are in percent (``Decimal(5)`` means 5%).

    * ``leverage`` — leverage used to size entries (also capped by each market's maximum).
    * ``position_size_percent`` — % of available collateral used as margin per entry.
    * ``max_positions`` — open positions across all markets.
    * ``max_margin_utilisation_percent`` — margin in use / equity; above it the engine goes REDUCING,
      and entries that would push it above are refused.
    * ``margin_resume_percent`` — utilisation at or below which REDUCING lifts again (default: the limit).
    * ``daily_loss_limit_percent`` — loss from start-of-day (UTC) equity that HALTs for the day.
    * ``max_drawdown_percent`` — fall from the session's equity peak that HALTs until a person resumes.
    * ``losing_streak_limit`` / ``cooldown_seconds`` — after that many losing trades in a row, no entries
      for that long (0 disables).
    * ``safe_mode`` — apply the safe-mode caps.
    """

    SAFE_MODE_MAX_LEVERAGE: ClassVar[Decimal] = Decimal(3)
    SAFE_MODE_MAX_POSITION_SIZE_PERCENT: ClassVar[Decimal] = Decimal(5)
    SAFE_MODE_MAX_POSITIONS: ClassVar[int] = 2

    leverage: Decimal = Decimal(10)
    position_size_percent: Decimal = Decimal(25)
    max_positions: int = 10
    max_margin_utilisation_percent: Decimal = Decimal(80)
    margin_resume_percent: Decimal | None = None
    daily_loss_limit_percent: Decimal = Decimal(5)
    max_drawdown_percent: Decimal = Decimal(10)
    losing_streak_limit: int = 3
    cooldown_seconds: int = 300
    safe_mode: bool = False

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "safe_mode":
                if not isinstance(value, bool):
                    raise ValueError(f"safe_mode must be true or false, got {value!r}")
            elif f.name in ("max_positions", "losing_streak_limit", "cooldown_seconds"):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ValueError(f"{f.name} must be a whole number, got {value!r}")
            elif value is not None:
                object.__setattr__(self, f.name, _to_decimal(f.name, value))

        if self.leverage <= 0:
            raise ValueError(f"leverage must be positive (e.g. 10), got {self.leverage}")
        _percent("position_size_percent", self.position_size_percent)
        _percent("max_margin_utilisation_percent", self.max_margin_utilisation_percent)
        _percent("daily_loss_limit_percent", self.daily_loss_limit_percent)
        _percent("max_drawdown_percent", self.max_drawdown_percent)
        if self.margin_resume_percent is not None:
            _percent("margin_resume_percent", self.margin_resume_percent)
            if self.margin_resume_percent > self.max_margin_utilisation_percent:
                raise ValueError(
                    f"margin_resume_percent ({self.margin_resume_percent}) must not exceed "
                    f"max_margin_utilisation_percent ({self.max_margin_utilisation_percent})"
                )
        if self.max_positions < 1:
            raise ValueError(f"max_positions must be at least 1, got {self.max_positions}")
        if self.losing_streak_limit < 0:
            raise ValueError(f"losing_streak_limit must be 0 (off) or more, got {self.losing_streak_limit}")
        if self.cooldown_seconds < 0:
            raise ValueError(f"cooldown_seconds must not be negative, got {self.cooldown_seconds}")

    @property
    def margin_resume_level(self) -> Decimal:
        if self.margin_resume_percent is None:
            return self.max_margin_utilisation_percent
        return self.margin_resume_percent

    def effective(self) -> RiskLimits:
        """These limits with the safe-mode caps applied (unchanged when safe mode is off)."""
        if not self.safe_mode:
            return self
        return replace(
            self,
            leverage=min(self.leverage, self.SAFE_MODE_MAX_LEVERAGE),
            position_size_percent=min(self.position_size_percent, self.SAFE_MODE_MAX_POSITION_SIZE_PERCENT),
            max_positions=min(self.max_positions, self.SAFE_MODE_MAX_POSITIONS),
        )


def _to_decimal(name: str, value: object) -> Decimal:
    # floats are refused: 0.1 as a float is not 0.1, and limits are money rules
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int) and not isinstance(value, bool):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value)
        except ArithmeticError:
            raise ValueError(f"{name} must be a number, got {value!r}") from None
    else:
        raise ValueError(f"{name} must be a Decimal, int or numeric string (not {type(value).__name__}), "
                         f"got {value!r}")
    if not result.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return result


def _percent(name: str, value: Decimal) -> None:
    if not 0 < value <= HUNDRED:
        raise ValueError(f"{name} must be a percentage above 0 and at most 100, got {value}")
