"""``flashscalper doctor`` and ``flashscalper keys``: configuration, clock and identity checks."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from rich.console import Console
from rich.table import Table

from flashscalper.config import ParadexSettings, Settings, load_settings
from flashscalper.errors import ConfigError
from flashscalper.logs import scrubber

# Clock skew above this makes order signatures fail the venue's recv_window checks sooner or later.
MAX_SKEW_MS = 1_000


def _get_json(url: str, timeout: float) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def fetch_system_config(settings: ParadexSettings, timeout: float) -> dict[str, Any]:
    """The venue's /system/config (chain id and class hashes needed to derive the account address)."""
    try:
        config = _get_json(settings.rest_url + "/system/config", timeout)
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read {settings.rest_url}/system/config ({exc}); check PARADEX_ENVIRONMENT / "
            "PARADEX_API_BASE_URL, or start the local simulator with `flashscalper sim`"
        ) from None
    if not isinstance(config, dict) or "starknet_chain_id" not in config:
        raise ConfigError(f"{settings.rest_url}/system/config did not return a Paradex system config")
    return config


def paradex_identity(settings: ParadexSettings, system_config: dict[str, Any]) -> Any:
    """Derive the Paradex identity from whichever key the settings hold."""
    from flashscalper.exchanges.paradex.keys import ParadexIdentity

    if settings.private_key is not None:
        secret = settings.private_key.get_secret_value()
        scrubber.register([secret])
        return ParadexIdentity.from_l1_key(
            secret,
            l1_chain_id=system_config["l1_chain_id"],
            account_proxy_hash=system_config["paraclear_account_proxy_hash"],
            account_hash=system_config["paraclear_account_hash"],
            setting="PARADEX_PRIVATE_KEY",
        )
    if settings.l2_private_key is not None and settings.account_address is not None:
        secret = settings.l2_private_key.get_secret_value()
        scrubber.register([secret])
        return ParadexIdentity.from_l2_key(secret, settings.account_address)
    raise ConfigError(
        "no Paradex key configured; set PARADEX_PRIVATE_KEY (Ethereum key) or "
        "PARADEX_L2_PRIVATE_KEY with PARADEX_ACCOUNT_ADDRESS"
    )


def _identity_table(identity: Any) -> Table:
    table = Table(title="Paradex identity", show_header=False)
    table.add_row("L1 address", identity.l1_address or "(L2 key configured directly)")
    table.add_row("L2 public key", hex(identity.l2_public_key))
    table.add_row("L2 account address", hex(identity.account_address))
    return table


def print_identity(console: Console, *, env_file: str | None, timeout: float) -> None:
    settings = load_settings(env_file=env_file)
    system_config = fetch_system_config(settings.paradex, timeout)
    console.print(_identity_table(paradex_identity(settings.paradex, system_config)))


def _paradex_skew_ms(settings: ParadexSettings, timeout: float) -> float:
    before = time.time() * 1000
    answer = _get_json(settings.rest_url + "/system/time", timeout)
    after = time.time() * 1000
    return int(answer["server_time"]) - (before + after) / 2


def run_doctor(console: Console, *, env_file: str | None, timeout: float) -> bool:
    """Print a check list; True when nothing failed."""
    settings: Settings = load_settings(env_file=env_file)
    console.print("[green]ok[/]   configuration is valid")
    healthy = True
    p = settings.paradex
    if p.enabled:
        console.print(f"[green]ok[/]   Paradex: environment {p.environment.value}, REST {p.rest_url}, WS {p.ws_url}")
        try:
            skew = _paradex_skew_ms(p, timeout)
        except (urllib.error.URLError, TimeoutError, OSError, ValueError, KeyError) as exc:
            console.print(f"[yellow]warn[/] Paradex server time not reachable ({exc}); clock skew unchecked")
        else:
            mark = "[green]ok[/]  " if abs(skew) <= MAX_SKEW_MS else "[red]FAIL[/]"
            healthy &= abs(skew) <= MAX_SKEW_MS
            console.print(f"{mark} clock skew against Paradex: {skew:+.0f} ms (limit ±{MAX_SKEW_MS} ms)")
            if p.has_credentials:
                console.print(_identity_table(paradex_identity(p, fetch_system_config(p, timeout))))
        if not p.has_credentials:
            console.print("[yellow]warn[/] no Paradex key set (fine for the demo, which creates its own)")
    a = settings.aster
    if a.enabled:
        kind = "V3 API wallet" if a.signer_address else ("V1 API key" if a.api_key else "none")
        console.print(f"[green]ok[/]   Aster: environment {a.environment.value}, REST {a.rest_url}, keys: {kind}")
    g = settings.general
    modes = (("paper", g.paper), ("safe mode", g.safe_mode), ("privacy", g.privacy_mode))
    flags = [name for name, on in modes if on]
    console.print(f"[green]ok[/]   modes: {', '.join(flags) or 'none'}; data in {g.data_dir}")
    return healthy
