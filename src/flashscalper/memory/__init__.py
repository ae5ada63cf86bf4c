"""Trade journal (SQL via SQLAlchemy: SQLite by default, PostgreSQL by URL) and learning from outcomes.

Start here: :func:`flashscalper.memory.db.open_database`, :class:`flashscalper.memory.journal.Journal`,
:class:`flashscalper.memory.journal.JournalRecorder`, :func:`flashscalper.memory.recovery.recover_missing_fills`
and :class:`flashscalper.memory.learning.Learner`.
"""
