"""Typed errors. Messages say what went wrong and what to do next; they never contain secrets."""

from __future__ import annotations


class FlashScalperError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(FlashScalperError):
    """A setting is missing or invalid. The message names the variable and the expected form."""


class ExchangeError(FlashScalperError):
    """A venue answered with an error, or could not be reached."""

    def __init__(self, message: str, *, code: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class AuthFailed(ExchangeError):
    """Credentials were refused (bad key, not onboarded, expired token, wrong signature)."""


class RateLimited(ExchangeError):
    def __init__(self, message: str, *, retry_after: float, code: str = "", status: int | None = 429) -> None:
        super().__init__(message, code=code, status=status)
        self.retry_after = retry_after


class OrderRejected(ExchangeError):
    """The venue refused an order; ``reason`` is the venue's code (e.g. NOT_ENOUGH_MARGIN)."""

    def __init__(self, message: str, *, reason: str, status: int | None = None) -> None:
        super().__init__(message, code=reason, status=status)
        self.reason = reason


class OrderNotFound(ExchangeError):
    """The order is unknown or already closed. For a cancel this is a terminal state, not a failure."""


class ExchangeUnavailable(ExchangeError):
    """Network error, timeout, 5xx or maintenance: retry later."""


class InvalidOrder(FlashScalperError):
    """Pre-trade validation failed before anything was signed (tick, step, notional, limits)."""

    def __init__(self, message: str, *, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


class MalformedMessage(ExchangeError):
    """A REST answer or WS frame did not have the expected shape."""
