"""Whole-table operations on the metadata definitions, for ``glance-domain db
unload-metadefs`` (Glance's ``glance-manage db unload_metadefs``).

They bypass the MetadefService on purpose: unloading removes protected namespaces and the
resource types too, which no API caller may do.
"""

from __future__ import annotations

from sqlalchemy import Engine, delete, func, inspect, select

from glance_domain_adapters.db.engine import make_engine
from glance_domain_adapters.db.errors import translated
from glance_domain_adapters.db.metadef_tables import (
    metadef_namespace_resource_types,
    metadef_namespaces,
    metadef_objects,
    metadef_properties,
    metadef_resource_types,
    metadef_tags,
)

#: Children before parents (the foreign keys), as Glance clears them.
_ORDER = (metadef_properties, metadef_objects, metadef_tags, metadef_namespace_resource_types,
          metadef_namespaces, metadef_resource_types)


def unload_all(url: str | Engine) -> int:
    """Delete every metadata definition row in one transaction; the namespaces removed."""
    engine = url if isinstance(url, Engine) else make_engine(url)
    try:
        with translated(), engine.begin() as conn:
            if not inspect(conn).has_table(metadef_namespaces.name):
                return 0
            count = int(conn.execute(
                select(func.count()).select_from(metadef_namespaces)).scalar_one())
            for table in _ORDER:
                conn.execute(delete(table))
            return count
    finally:
        if not isinstance(url, Engine):
            engine.dispose()
