"""Journal fixtures: a real SQLite file per test, and the same tests on PostgreSQL when one is given.

PostgreSQL runs only with ``FLASHSCALPER_TEST_PG_URL=postgresql://user:pass@host/db`` and the psycopg
driver installed; the test database's journal tables are dropped before each test.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

PG_URL = os.environ.get("FLASHSCALPER_TEST_PG_URL", "")
if not PG_URL:
    PG_SKIP = "PostgreSQL journal tests need FLASHSCALPER_TEST_PG_URL=postgresql://user:pass@host/db"
elif importlib.util.find_spec("psycopg") is None:
    PG_SKIP = "PostgreSQL journal tests need the psycopg driver (pip install 'psycopg[binary]')"
else:
    PG_SKIP = ""

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(bool(PG_SKIP), reason=PG_SKIP))]
JOURNAL_TABLES = ("setup_stats", "events", "equity", "trades", "fills", "orders", "sessions", "alembic_version")


def _pg_driver_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


def reset_postgres(url: str) -> None:
    engine = create_engine(_pg_driver_url(url))
    with engine.begin() as conn:
        for table in JOURNAL_TABLES:
            conn.execute(text(f"DROP TABLE IF EXISTS {table} CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty journal location on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{(tmp_path / 'journal' / 'flashscalper.sqlite').as_posix()}"
    else:
        reset_postgres(PG_URL)
        yield PG_URL
