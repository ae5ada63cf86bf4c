"""Typed settings, read from the environment and an optional ``.env`` file (env vars win).

This is the only module that reads environment variables. Three groups, one prefix each:
``PARADEX_*`` and ``ASTER_*`` for the venues, ``FLASHSCALPER_*`` for everything else.
Bad values fail at start with one line per problem naming the variable, what is wrong and the
expected form; a secret's value is never echoed.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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

    leverage: Leverage = Field(Decimal(10), description=(
        "Leverage used to size entries and set on each market; lowered to a market's maximum when above it, "
        "and to 3 in safe mode."))
    position_size_percent: Percent = Field(Decimal(25), description=(
        "Percent of the free collateral that becomes the margin of one entry (at most 5 in safe mode)."))
    max_positions: Annotated[int, Field(ge=1, le=100)] = Field(10, description=(
        "Open positions plus working entries allowed at once, across all markets (at most 2 in safe mode)."))
    # ROE in percent of the position's margin: +1.5 means take profit when P&L = 1.5 % of margin.
    take_profit_roe: Annotated[Decimal, Field(gt=0, le=1000)] = Field(Decimal("1.5"), description=(
        "Take-profit in ROE percent of the position's margin: 1.5 closes at a profit of 1.5 % of margin, "
        "a 0.15 % price move at 10x."))
    stop_loss_roe: Annotated[Decimal, Field(lt=0, ge=-100)] = Field(Decimal("-0.5"), description=(
        "Stop-loss in ROE percent of the position's margin (negative): -0.5 closes at a loss of 0.5 % of "
        "margin, a 0.05 % price move at 10x."))
    markets: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["BTC-USD-PERP", "ETH-USD-PERP", "SOL-USD-PERP"],
        description="Markets to trade, comma-separated; upper-cased. `run` trades these; `demo` uses its own three.")

    @field_validator("markets", mode="before")
    @classmethod
    def _split_markets(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):  # a JSON list, as pydantic-settings writes lists
                try:
                    value = json.loads(text)
                except json.JSONDecodeError:
                    raise ValueError('is neither a comma-separated list nor a JSON list') from None
            else:
                value = text.split(",")
        if isinstance(value, list):
            return [str(m).strip().upper() for m in value if str(m).strip()]
        return value


class ParadexSettings(_TradeParams):
    model_config = SettingsConfigDict(env_prefix="PARADEX_", env_file=".env", extra="ignore")

    enabled: bool = Field(True, description=(
        "Paradex is one of the venues: `doctor` checks it only when true, and the multi-venue session runs a "
        "Paradex bot only when true. `run` and `demo` trade Paradex either way."))
    environment: ParadexEnvironment = Field(ParadexEnvironment.LOCAL, description=(
        "Which Paradex: `testnet`, `prod` (real money) or `local` (a running `flashscalper sim` on "
        "127.0.0.1:8731)."))
    private_key: SecretStr | None = Field(None, description=(
        "Ethereum (L1) private key; the Starknet (L2) key and the account address are derived from it, and "
        "the account is onboarded automatically on first use. Never logged or printed."))
    l2_private_key: SecretStr | None = Field(None, description=(
        "Starknet (L2) private key or subkey, instead of the L1 key; needs PARADEX_ACCOUNT_ADDRESS. The "
        "account must already be onboarded (the bot cannot onboard without the L1 key)."))
    account_address: str | None = Field(None, description=(
        "Paradex (Starknet) account address that PARADEX_L2_PRIVATE_KEY signs for."))
    api_base_url: str | None = Field(None, description=(
        "REST base URL instead of the one PARADEX_ENVIRONMENT picks; `/v1` is appended when missing."))
    ws_base_url: str | None = Field(None, description=(
        "WebSocket URL instead of the one PARADEX_ENVIRONMENT picks."))

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

    enabled: bool = Field(False, description=(
        "Aster is one of the venues: `doctor` shows its settings only when true, and `run` without "
        "--exchange trades Aster too when this is true (both venues on one risk budget when PARADEX_ENABLED "
        "is also true; Aster alone when PARADEX_ENABLED=false)."))
    environment: AsterEnvironment = Field(AsterEnvironment.LOCAL, description=(
        "Which Aster: `testnet`, `prod` (real money) or `local` (the simulator's Aster dialect on "
        "127.0.0.1:8731/aster)."))
    # V1 (legacy) credentials
    api_key: SecretStr | None = Field(None, description=(
        "V1 API key (HMAC-SHA256 signing); goes with ASTER_API_SECRET."))
    api_secret: SecretStr | None = Field(None, description="V1 API secret; goes with ASTER_API_KEY.")
    # V3 (API wallet) credentials
    user_address: str | None = Field(None, description=(
        "V3: the main wallet address that owns the account. V3 credentials win over V1 when both are set."))
    signer_address: str | None = Field(None, description="V3: the API wallet (agent) address that signs.")
    signer_private_key: SecretStr | None = Field(None, description=(
        "V3: the API wallet's private key (EIP-712 signing). Never logged or printed."))
    rest_base_url: str | None = Field(None, description=(
        "REST base URL instead of the one ASTER_ENVIRONMENT picks."))
    ws_base_url: str | None = Field(None, description=(
        "WebSocket base URL instead of the one ASTER_ENVIRONMENT picks."))
    markets: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["BTCUSDT", "ETHUSDT", "SOLUSDT"],
        description="Aster symbols to trade, comma-separated; upper-cased.")

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

    data_dir: Path = Field(Path("data"), description=(
        "Directory for local data; the SQLite journal `flashscalper.sqlite` lives here unless "
        "FLASHSCALPER_DB_URL is set. Relative paths are relative to the working directory."))
    log_level: str = Field("INFO", description=(
        "Log level of `flashscalper run`: DEBUG, INFO, WARNING or ERROR (other commands log warnings only; "
        "`sim` has --log-level)."))
    paper: bool = Field(False, description=(
        "Paper mode for `flashscalper run` (same as --paper): the venue's market data, fills simulated "
        "locally, no order ever sent and no key needed."))
    safe_mode: bool = Field(False, description=(
        "Start in safe mode: leverage at most 3, position size at most 5 %, at most 2 positions. The "
        "dashboard can switch it on and off while the bot runs."))
    # Real money on prod needs this set (or the --i-understand-real-money flag).
    confirm_live_trading: bool = Field(False, description=(
        "Confirms real-money trading on a prod venue (PARADEX_ENVIRONMENT or ASTER_ENVIRONMENT=prod; same "
        "as --i-understand-real-money); without either, `run` refuses prod unless it is in paper mode."))
    strategy: str = Field("scalper", description=(
        "Strategy the bot runs: a registered name (built in: `scalper`) or a plugin class as "
        "`package.module:ClassName` (imported at start; it must subclass Strategy)."))
    strategy_params: Annotated[dict[str, Any], NoDecode] = Field(default_factory=dict, description=(
        "Strategy parameters as a JSON object, e.g. {\"min_confidence\": 0.6, \"cooldown_ms\": 10000}; "
        "checked by the strategy at start (an unknown name or a bad value fails naming it). `demo`, `run` "
        "and `backtest` use them (`backtest --param` wins)."))
    client_id_prefix: str = Field("fs", description=(
        "First part of every client order id the bot sends (`<prefix>-<session>-<n>`); reconciliation "
        "treats orders with this prefix as the bot's own. Give two bots on one account different prefixes "
        "(letters and digits, at most 8)."))
    daily_loss_limit_percent: Annotated[Decimal, Field(gt=0, le=100)] = Field(Decimal(5), description=(
        "Loss from the start-of-day (UTC) equity that halts entries for the rest of that UTC day."))
    max_drawdown_percent: Annotated[Decimal, Field(gt=0, le=100)] = Field(Decimal(10), description=(
        "Fall from the session's equity peak that halts entries until a person resumes."))
    max_margin_utilisation_percent: Annotated[Decimal, Field(gt=0, le=100)] = Field(Decimal(80), description=(
        "Margin in use as a percent of equity: above it only reduce-only orders pass, and no entry may "
        "push utilisation past it."))
    losing_streak_limit: Annotated[int, Field(ge=0, le=1000)] = Field(3, description=(
        "Losing trades in a row after which entries pause for FLASHSCALPER_COOLDOWN_SECONDS (0 disables "
        "the cooldown)."))
    cooldown_seconds: Annotated[int, Field(ge=0, le=86_400)] = Field(300, description=(
        "How long entries pause after FLASHSCALPER_LOSING_STREAK_LIMIT losing trades in a row."))
    max_holding_seconds: Annotated[int, Field(ge=0)] = Field(300, description=(
        "Close a position at market once it has been open this long (0 disables the time limit)."))
    trailing_activation_roe: Annotated[Decimal, Field(ge=0)] = Field(Decimal("1.0"), description=(
        "ROE percent at which the trailing stop starts to follow the price (0 disables trailing)."))
    trailing_callback_roe: Annotated[Decimal, Field(gt=0)] = Field(Decimal("0.4"), description=(
        "ROE points the trailing stop stays below the best ROE seen."))
    dashboard_host: str = Field("127.0.0.1", description=(
        "Interface the dashboard listens on; any other than loopback exposes it to the network."))
    dashboard_port: Annotated[int, Field(ge=0, le=65535)] = Field(8732, description=(
        "Dashboard port (0 picks a free one); `--dashboard-port` of `demo`, `run` and `replay` overrides "
        "it. With two venues the second venue's dashboard takes the next port."))
    control_token: SecretStr | None = Field(None, description=(
        "Token the dashboard's control buttons send (X-Control-Token). Unset: a random one is made and "
        "printed once at start."))
    privacy_mode: bool = Field(False, description=(
        "Privacy on every dashboard page and API answer: balances, sizes, money P&L and addresses are "
        "never sent; P&L shows in % and R."))
    db_url: str | None = Field(None, description=(
        "Journal database URL (SQLAlchemy form), e.g. postgresql://user@host/db; unset: SQLite in "
        "FLASHSCALPER_DATA_DIR. The password is never printed."))
    llm_base_url: str | None = Field(None, description=(
        "OpenAI-compatible endpoint for the optional entry advisor, e.g. http://127.0.0.1:11434 (`/v1` is "
        "appended when missing). The advisor is on only when this and FLASHSCALPER_LLM_MODEL are set."))
    llm_model: str | None = Field(None, description="Model name sent to the LLM endpoint.")
    llm_api_key: SecretStr | None = Field(None, description=(
        "Bearer key for the LLM endpoint, when it needs one; sent only in the Authorization header."))
    llm_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = Field(2.0, description=(
        "Deadline of one LLM call (connect, send and read); after it the advisor falls back to its rule."))
    sim_host: str = Field("127.0.0.1", description=(
        "Interface `flashscalper sim` listens on unless --host is given."))
    sim_port: Annotated[int, Field(ge=0, le=65535)] = Field(8731, description=(
        "Port of `flashscalper sim` unless --port is given (0 picks a free one)."))
    sim_seed: int = Field(7, description=(
        "Market-generator seed of `flashscalper sim` unless --seed is given (`demo` takes --seed)."))
    sim_fund_usdc: Annotated[Decimal, Field(ge=0)] = Field(Decimal(10_000), description=(
        "Test USDC each new account gets in `flashscalper sim` (unless --fund-usdc is given) and in the "
        "`demo` simulator, and the starting collateral of `run --paper`."))

    @field_validator("strategy_params", mode="before")
    @classmethod
    def _parse_params(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip() or "{}"
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise ValueError("is not valid JSON; expected a JSON object") from None
            if not isinstance(value, dict):
                raise ValueError("is not a JSON object")
        return value

    @field_validator("strategy")
    @classmethod
    def _check_strategy(cls, value: str) -> str:
        text = value.strip()
        if not text:
            raise ValueError("is empty; expected a strategy name such as scalper, or package.module:ClassName")
        return text

    @field_validator("client_id_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9]{1,8}", value):
            raise ValueError("must be 1 to 8 letters or digits (no '-': it separates the parts of a client id)")
        return value

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
    "strategy_params": '{"min_confidence": 0.6}',
    "client_id_prefix": "fs2",
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
