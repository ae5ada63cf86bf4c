"""Alembic environment for the journal (no alembic.ini: :mod:`flashscalper.memory.db` builds the config).

The caller hands over an open connection in ``config.attributes["connection"]``, so the migration
runs on the same engine (and, for SQLite, the same pragmas) as the journal.
"""

from __future__ import annotations

from alembic import context

from flashscalper.memory.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable when someone runs alembic by hand
    raise RuntimeError("run journal migrations through flashscalper.memory.db.migrate(engine)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
