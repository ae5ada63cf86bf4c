"""Opening the journal database: URL resolution, engine setup, migrations.

SQLite (the default, ``<data_dir>/flashscalper.sqlite``) runs in WAL mode so that the CLI can read
while a bot writes. PostgreSQL is chosen by ``FLASHSCALPER_DB_URL=postgresql://user@host/db`` and
needs the ``psycopg`` driver. Every open brings the schema to the newest Alembic revision, run
programmatically from the migrations shipped inside this package (no alembic.ini).

::

    db = open_database(default_db_url(settings.general))
    with db.session() as s:
        print(s.scalars(select(TradeRow)).all())
    db.close()
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from flashscalper.config import GeneralSettings
from flashscalper.errors import ConfigError

__all__ = ["DB_FILE_NAME", "Database", "default_db_url", "migrate", "open_database", "redact_url"]

DB_FILE_NAME = "flashscalper.sqlite"
MIGRATIONS = Path(__file__).with_name("migrations")


def default_db_url(general: GeneralSettings) -> str:
    """``FLASHSCALPER_DB_URL`` when set, otherwise a SQLite file in ``FLASHSCALPER_DATA_DIR``."""
    if general.db_url:
        return general.db_url
    return f"sqlite:///{(Path(general.data_dir) / DB_FILE_NAME).as_posix()}"


def redact_url(url: str) -> str:
    """The URL with any password hidden (for messages, logs and the session's config snapshot)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


class Database:
    """An engine plus a session factory. ``dialect`` is ``"sqlite"`` or ``"postgresql"``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def session(self) -> Session:
        """A new ORM session (use it as a context manager)."""
        return self._sessions()

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for a server database / in-memory SQLite."""
        database = self.engine.url.database
        if self.dialect != "sqlite" or not database or database == ":memory:":
            return None
        return Path(database)

    def close(self) -> None:
        self.engine.dispose()


def _normalise(url: str) -> str:
    """Pick psycopg (v3) for plain ``postgresql://`` URLs and check the driver is installed."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"FLASHSCALPER_DB_URL is not a database URL ({redact_url(url)}); expected e.g. "
            "sqlite:///data/flashscalper.sqlite or postgresql://user:pass@localhost/flashscalper"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.drivername == "postgresql+psycopg" and importlib.util.find_spec("psycopg") is None:
            raise ConfigError(
                "FLASHSCALPER_DB_URL points at PostgreSQL but the psycopg driver is not installed; "
                "install it with `pip install 'psycopg[binary]'` or unset FLASHSCALPER_DB_URL to use SQLite"
            )
    elif backend != "sqlite":
        raise ConfigError(f"FLASHSCALPER_DB_URL uses {backend!r}; the journal supports sqlite and postgresql")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the CLI, the dashboard) run while the bot writes; NORMAL sync is safe with WAL
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def open_database(url: str, *, upgrade: bool = True) -> Database:
    """Open (and create, for SQLite) the journal at ``url`` and migrate it to the newest schema."""
    url = _normalise(url)
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # the writer thread and the loop thread both use the pool
        kwargs["connect_args"] = {"check_same_thread": False}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if upgrade:
        migrate(engine)
    return Database(engine)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Run the packaged Alembic migrations up to ``revision`` on ``engine``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
