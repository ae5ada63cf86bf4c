"""Typed settings, read from the environment and an optional ``.env`` file (env vars win).

This is the only module that reads environment variables. Three groups, one prefix each:
``PARADEX_*`` and ``ASTER_*`` for the venues, ``FLASHSCALPER_*`` for everything else.
Bad values fail at start with one line per problem naming the variable, what is wrong and the
expected form; a secret's value is never echoed.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from flashscalper.errors import ConfigError

_HEX_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{1,64}$")
_ADDRESS_EVM = re.compile(r"^0x[0-9a-fA-F]{40}$")
_ADDRESS_STARK = re.compile(r"^0x[0-9a-fA-F]{1,64}$")


class ParadexEnvironment(StrEnum):
    TESTNET = "testnet"
    PROD = "prod"
    LOCAL = "local"  # our simulator


class AsterEnvironment(StrEnum):
    TESTNET = "testnet"
    PROD = "prod"
    LOCAL = "local"


PARADEX_URLS: dict[ParadexEnvironment, tuple[str, str]] = {
    ParadexEnvironment.PROD: ("https://api.prod.paradex.trade/v1", "wss://ws.api.prod.paradex.trade/v1"),
    ParadexEnvironment.TESTNET: ("https://api.testnet.paradex.trade/v1", "wss://ws.api.testnet.paradex.trade/v1"),
    ParadexEnvironment.LOCAL: ("http://127.0.0.1:8731/v1", "ws://127.0.0.1:8731/v1/ws"),
}

ASTER_URLS: dict[AsterEnvironment, tuple[str, str]] = {
    AsterEnvironment.PROD: ("https://fapi.asterdex.com", "wss://fstream.asterdex.com"),
    AsterEnvironment.TESTNET: ("https://fapi.asterdex-testnet.com", "wss://fstream5.asterdex-testnet.com"),
    AsterEnvironment.LOCAL: ("http://127.0.0.1:8731/aster", "ws://127.0.0.1:8731/aster"),
}

Leverage = Annotated[Decimal, Field(gt=0, le=100)]
Percent = Annotated[Decimal, Field(gt=0, le=100)]


def _secret_hex_key(value: SecretStr | None, *, bits: int) -> SecretStr | None:
    """Check the form of a hex private key without ever echoing it."""
    if value is None:
        return None
    raw = value.get_secret_value().strip()
    if not raw:
        return None
    if not _HEX_KEY.match(raw):
        raise ValueError("is not a hex number; expected 0x followed by up to 64 hex digits")
    number = int(raw, 16)
    if number == 0 or number.bit_length() > bits:
        raise ValueError(f"is out of range; expected a non-zero {bits}-bit key")
    return SecretStr(raw)


class _TradeParams(BaseSettings):
    """Per-venue trading parameters shared by both venues."""

    leverage: Leverage = Decimal(10)
    position_size_percent: Percent = Decimal(25)
    max_positions: Annotated[int, Field(ge=1, le=100)] = 10
    # ROE in percent of the position's margin: +1.5 means take profit when P&L = 1.5 % of margin.
    take_profit_roe: Annotated[Decimal, Field(gt=0, le=1000)] = Decimal("1.5")
    stop_loss_roe: Annotated[Decimal, Field(lt=0, ge=-100)] = Decimal("-0.5")
    markets: list[str] = Field(default_factory=lambda: ["BTC-USD-PERP", "ETH-USD-PERP", "SOL-USD-PERP"])

    @field_validator("markets", mode="before")
    @classmethod
    def _split_markets(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [m.strip().upper() for m in value.split(",") if m.strip()]
        return value


class ParadexSettings(_TradeParams):
    model_config = SettingsConfigDict(env_prefix="PARADEX_", env_file=".env", extra="ignore")

    enabled: bool = True
    environment: ParadexEnvironment = ParadexEnvironment.LOCAL
    private_key: SecretStr | None = None  # Ethereum (L1) key; the L2 key is derived from it
    l2_private_key: SecretStr | None = None  # alternatively: Starknet key (or subkey) ...
    account_address: str | None = None  # ... plus the Paradex account address
    api_base_url: str | None = None
    ws_base_url: str | None = None

    @field_validator("private_key")
    @classmethod
    def _check_l1(cls, value: SecretStr | None) -> SecretStr | None:
        return _secret_hex_key(value, bits=256)

    @field_validator("l2_private_key")
    @classmethod
    def _check_l2(cls, value: SecretStr | None) -> SecretStr | None:
        return _secret_hex_key(value, bits=252)

    @field_validator("account_address")
    @classmethod
    def _check_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not _ADDRESS_STARK.match(value.strip()):
            raise ValueError("is not a Starknet address; expected 0x followed by up to 64 hex digits")
        return value.strip()

    @model_validator(mode="after")
    def _check_key_pairing(self) -> ParadexSettings:
        if self.l2_private_key is not None and self.account_address is None:
            raise ValueError(
                "PARADEX_L2_PRIVATE_KEY needs PARADEX_ACCOUNT_ADDRESS too (the account the key signs for)"
            )
        return self

    @property
    def rest_url(self) -> str:
        url = self.api_base_url or PARADEX_URLS[self.environment][0]
        url = url.rstrip("/")
        # The seed plan's URLs omit the version; every REST path lives under /v1.
        return url if url.endswith("/v1") else url + "/v1"

    @property
    def ws_url(self) -> str:
        return (self.ws_base_url or PARADEX_URLS[self.environment][1]).rstrip("/")

    @property
    def has_credentials(self) -> bool:
        return self.private_key is not None or self.l2_private_key is not None


class AsterSettings(_TradeParams):
    model_config = SettingsConfigDict(env_prefix="ASTER_", env_file=".env", extra="ignore")

    enabled: bool = False
    environment: AsterEnvironment = AsterEnvironment.LOCAL
    # V1 (legacy) credentials
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    # V3 (API wallet) credentials
    user_address: str | None = None
    signer_address: str | None = None
    signer_private_key: SecretStr | None = None
    rest_base_url: str | None = None
    ws_base_url: str | None = None
    markets: list[str] = Field(default_factory=lambda: ["BTCUSDT", "ETHUSDT", "SOLUSDT"])

    @field_validator("signer_private_key")
    @classmethod
    def _check_signer(cls, value: SecretStr | None) -> SecretStr | None:
        return _secret_hex_key(value, bits=256)

    @field_validator("user_address", "signer_address")
    @classmethod
    def _check_evm_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not _ADDRESS_EVM.match(value.strip()):
            raise ValueError("is not an Ethereum address; expected 0x followed by 40 hex digits")
        return value.strip()

    @model_validator(mode="after")
    def _check_credential_sets(self) -> AsterSettings:
        if (self.api_key is None) != (self.api_secret is None):
            raise ValueError("ASTER_API_KEY and ASTER_API_SECRET go together (V1 credentials); set both or neither")
        v3 = [self.user_address, self.signer_address, self.signer_private_key]
        if any(v is not None for v in v3) and not all(v is not None for v in v3):
            raise ValueError(
                "V3 credentials need all of ASTER_USER_ADDRESS, ASTER_SIGNER_ADDRESS and ASTER_SIGNER_PRIVATE_KEY"
            )
        return self

    @property
    def rest_url(self) -> str:
        return (self.rest_base_url or ASTER_URLS[self.environment][0]).rstrip("/")

    @property
    def ws_url(self) -> str:
        return (self.ws_base_url or ASTER_URLS[self.environment][1]).rstrip("/")


class GeneralSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLASHSCALPER_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    log_level: str = "INFO"
    paper: bool = False
    safe_mode: bool = False
    # Real money on prod needs this set (or the --i-understand-real-money flag).
    confirm_live_trading: bool = False
    strategy: str = "scalper"
    daily_loss_limit_percent: Annotated[Decimal, Field(gt=0, le=100)] = Decimal(5)
    max_drawdown_percent: Annotated[Decimal, Field(gt=0, le=100)] = Decimal(10)
    max_margin_utilisation_percent: Annotated[Decimal, Field(gt=0, le=100)] = Decimal(80)
    max_holding_seconds: Annotated[int, Field(ge=0)] = 300
    trailing_activation_roe: Annotated[Decimal, Field(ge=0)] = Decimal("1.0")
    trailing_callback_roe: Annotated[Decimal, Field(gt=0)] = Decimal("0.4")
    dashboard_host: str = "127.0.0.1"
    dashboard_port: Annotated[int, Field(ge=0, le=65535)] = 8732
    control_token: SecretStr | None = None
    privacy_mode: bool = False
    db_url: str | None = None
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 2.0
    sim_host: str = "127.0.0.1"
    sim_port: Annotated[int, Field(ge=0, le=65535)] = 8731
    sim_seed: int = 7
    sim_fund_usdc: Annotated[Decimal, Field(ge=0)] = Decimal(10_000)

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return level


class Settings:
    """All settings, loaded together so that every problem is reported at once."""

    def __init__(self, paradex: ParadexSettings, aster: AsterSettings, general: GeneralSettings) -> None:
        self.paradex = paradex
        self.aster = aster
        self.general = general


_GROUPS: tuple[tuple[str, type[BaseSettings], str], ...] = (
    ("paradex", ParadexSettings, "PARADEX_"),
    ("aster", AsterSettings, "ASTER_"),
    ("general", GeneralSettings, "FLASHSCALPER_"),
)

_EXAMPLES = {
    "leverage": "10",
    "position_size_percent": "25",
    "max_positions": "10",
    "take_profit_roe": "1.5",
    "stop_loss_roe": "-0.5",
    "environment": "testnet, prod or local",
    "private_key": "0x followed by 64 hex digits",
    "l2_private_key": "0x followed by up to 63 hex digits",
}


def _describe(prefix: str, error: dict[str, Any], secret_fields: set[str]) -> str:
    loc = [str(part) for part in error.get("loc", ()) if part != "__root__"]
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    if not loc:  # a model-level rule: its message already names the variables
        return message
    field = loc[0]
    variable = prefix + field.upper()
    shown = "" if field in secret_fields else f"={error.get('input')!s:.60}"
    hint = f" (e.g. {variable}={_EXAMPLES[field]})" if field in _EXAMPLES and field not in secret_fields else ""
    if field in secret_fields and field in _EXAMPLES:
        hint = f" (expected {_EXAMPLES[field]})"
    return f"{variable}{shown}: {message}{hint}"


def load_settings(env_file: str | Path | None = ".env", **overrides: dict[str, Any]) -> Settings:
    """Load every group; raise one ConfigError listing all problems (never a secret's value)."""
    problems: list[str] = []
    loaded: dict[str, BaseSettings] = {}
    for name, cls, prefix in _GROUPS:
        secret_fields = {
            field for field, info in cls.model_fields.items() if "SecretStr" in str(info.annotation)
        }
        try:
            loaded[name] = cls(_env_file=env_file, **overrides.get(name, {}))  # type: ignore[call-arg]
        except ValidationError as exc:
            problems.extend(_describe(prefix, err, secret_fields) for err in exc.errors())
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    return Settings(loaded["paradex"], loaded["aster"], loaded["general"])  # type: ignore[arg-type]
