"""SQL persistence of images and members (SQLAlchemy 2.x Core + alembic).

- :mod:`.tables` the schema (Glance-compatible table and column names, plus our indexes and the
  tombstone table of deleted image ids);
- :mod:`.engine` ``make_engine(url)`` with pool and per-dialect settings;
- :mod:`.repository` ``SqlImageRepository`` implementing the domain's ``ImageRepository`` port;
- :mod:`.migrate` ``upgrade``, ``current_version`` and ``purge`` (used by ``glance-domain db``);
- internals: :mod:`.listing` (ImageQuery + ListScope -> SELECT), :mod:`.mapping` (rows <->
  entities), :mod:`.errors` (driver errors -> domain errors), :mod:`.sqlite_stats` (planner
  statistics for never-analyzed SQLite databases).
"""
