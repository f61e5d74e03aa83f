"""Alembic environment: runs on the connection handed over by ``glance_domain_adapters.db.migrate``.

Our revisions live in their own version table (``glance_domain_alembic_version``) so they never
clash with Glance's own ``alembic_version`` when both run on the same database.
"""

from __future__ import annotations

from alembic import context

from glance_domain_adapters.db.tables import metadata

VERSION_TABLE = "glance_domain_alembic_version"

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only with a bare `alembic` command line
    from glance_domain_adapters.db.engine import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata,
                          version_table=VERSION_TABLE, render_as_batch=True)
        context.run_migrations()
    engine.dispose()
else:
    context.configure(connection=connection, target_metadata=metadata,
                      version_table=VERSION_TABLE, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
