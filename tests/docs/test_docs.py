"""The documentation tells the truth about the code it documents.

* docs/configuration.md is exactly what scripts/gen_config_docs.py makes from config.py now;
* the site builds with ``mkdocs build --strict`` (every link and anchor resolves);
* every ``flashscalper <command> --flag`` the docs mention exists in the CLI, and every CLI command
  is documented somewhere;
* every parameter of the default strategy is explained in strategy.md.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import typer

from flashscalper.cli import app
from flashscalper.strategy.scalper import ScalperParams

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# "flashscalper <command>" in prose or code; the words after it up to a backtick, a table bar or
# the end of the line are that command's arguments.
MENTION = re.compile(r"\bflashscalper[ \t]+([a-z][a-z-]*)([^`|\n]*)")
FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_config_docs", ROOT / "scripts" / "gen_config_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _doc_texts() -> dict[str, str]:
    files = [*sorted(DOCS.rglob("*.md")), ROOT / "README.md"]
    return {str(p.relative_to(ROOT)): p.read_text("utf-8") for p in files}


def _cli() -> dict[str, Any]:
    """Command name -> click command, as typer builds them (typer may bring its own click)."""
    return dict(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def _flags(command: Any) -> set[str]:
    names = {"--help"}
    for param in command.params:
        names.update(o for o in (*param.opts, *param.secondary_opts) if o.startswith("--"))
    return names


def test_configuration_reference_is_what_the_generator_makes_now() -> None:
    committed = (DOCS / "configuration.md").read_text("utf-8")
    assert committed == _generator().render(), (
        "docs/configuration.md is stale: run .venv/bin/python scripts/gen_config_docs.py"
    )


def test_every_setting_is_in_the_configuration_reference() -> None:
    text = (DOCS / "configuration.md").read_text("utf-8")
    from flashscalper.config import AsterSettings, GeneralSettings, ParadexSettings

    for cls, prefix in ((ParadexSettings, "PARADEX_"), (AsterSettings, "ASTER_"), (GeneralSettings, "FLASHSCALPER_")):
        for name, info in cls.model_fields.items():
            assert f"`{prefix}{name.upper()}`" in text
            assert info.description, f"{cls.__name__}.{name} needs a description"


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        pytest.skip("mkdocs / mkdocs-material are not installed in this environment (dev dependencies)")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=90, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "index.html").exists()
    for page in ("getting-started", "configuration", "strategy", "risk", "live-stream", "operations",
                 "backtesting", "simulator", "architecture"):
        assert (tmp_path / page / "index.html").exists(), f"{page}.md was not built"


def test_every_command_and_flag_the_docs_mention_exists() -> None:
    commands = _cli()
    problems = []
    seen = 0
    for name, text in _doc_texts().items():
        for match in MENTION.finditer(text):
            command, rest = match.group(1), match.group(2)
            seen += 1
            if command not in commands:
                problems.append(f"{name}: `flashscalper {command}` is not a command")
                continue
            known = _flags(commands[command])
            problems.extend(f"{name}: `flashscalper {command} {flag}` is not a flag of {command}"
                            for flag in FLAG.findall(rest) if flag not in known)
    assert seen > 30  # the scan really looked at the docs
    assert not problems, "\n".join(problems)


def test_every_cli_command_is_documented() -> None:
    everything = "\n".join(_doc_texts().values())
    missing = [c for c in _cli() if f"flashscalper {c}" not in everything]
    assert not missing, f"commands without documentation: {missing}"


def test_every_scalper_parameter_is_explained_in_the_strategy_page() -> None:
    text = (DOCS / "strategy.md").read_text("utf-8")
    missing = [name for name in ScalperParams.model_fields if f"`{name}`" not in text]
    assert not missing, f"strategy.md does not explain: {missing}"
