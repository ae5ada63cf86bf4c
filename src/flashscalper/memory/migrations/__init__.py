"""Alembic migrations of the journal, shipped in the package and run by :func:`flashscalper.memory.db.migrate`."""
