"""MetadefRepository contract: the in-memory and SQL repositories (SQLite, PostgreSQL, MariaDB)
store, rename, list and delete metadata definitions identically."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete

from glance_domain.errors import Duplicate, NotFound
from glance_domain.metadefs import (
    MemoryMetadefRepository,
    MetadefObject,
    MetadefRepository,
    MetadefTag,
    Namespace,
    NamespaceContents,
    PropertyDefinition,
    ResourceTypeAssociation,
)
from glance_domain_adapters.db.metadef_tables import METADEF_TABLES
from glance_domain_adapters.db.metadefs import SqlMetadefRepository
from tests.conftest import cached_engine

T0 = dt.datetime(2024, 1, 1, 12, 0, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["memory", "sqlite", "postgresql", "mariadb"])
def repo(request: pytest.FixtureRequest) -> MetadefRepository:
    if request.param == "memory":
        return MemoryMetadefRepository()
    engine = cached_engine(str(request.getfixturevalue(f"{request.param}_url")))
    with engine.begin() as conn:
        for table in METADEF_TABLES:
            conn.execute(delete(table))
    return SqlMetadefRepository(engine)


def _ns(name: str = "N") -> Namespace:
    return Namespace(namespace=name, owner="p1", visibility="public", created_at=T0,
                     updated_at=T0)


def test_namespace_with_contents_round_trip(repo: MetadefRepository) -> None:
    contents = NamespaceContents(
        properties=(PropertyDefinition(namespace="N", name="p", schema={"type": "string",
                                                                         "title": "P"},
                                       created_at=T0, updated_at=T0),),
        objects=(MetadefObject(namespace="N", name="o", required=("q",),
                               properties={"q": {"type": "integer", "title": "Q"}},
                               created_at=T0, updated_at=T0),),
        tags=(MetadefTag(namespace="N", name="t1", created_at=T0, updated_at=T0),
              MetadefTag(namespace="N", name="t2", created_at=T0, updated_at=T0)),
        associations=(ResourceTypeAssociation(namespace="N", name="OS::Glance::Image",
                                              prefix="hw_", created_at=T0, updated_at=T0),),
    )
    stored = repo.add_namespace(_ns(), contents)
    assert stored.id is not None and stored.created_at == T0
    assert repo.get_namespace("N").owner == "p1"
    assert repo.list_properties("N")[0].schema == {"type": "string", "title": "P"}
    obj = repo.list_objects("N")[0]
    assert obj.required == ("q",) and obj.properties["q"]["title"] == "Q"
    tags = repo.list_tags("N")
    assert [t.name for t in tags] == ["t1", "t2"] and tags[0].id < tags[1].id  # type: ignore
    assert [a.prefix for a in repo.list_associations("N")] == ["hw_"]
    assert [r.name for r in repo.list_resource_types()] == ["OS::Glance::Image"]
    with pytest.raises(Duplicate):
        repo.add_namespace(_ns(), NamespaceContents())


def test_failed_creation_leaves_nothing(repo: MetadefRepository) -> None:
    dup = NamespaceContents(tags=(MetadefTag(namespace="N", name="t", created_at=T0),
                                  MetadefTag(namespace="N", name="t", created_at=T0)))
    with pytest.raises(Duplicate):
        repo.add_namespace(_ns(), dup)
    with pytest.raises(NotFound):
        repo.get_namespace("N")


def test_rename_children_tags_and_delete(repo: MetadefRepository) -> None:
    repo.add_namespace(_ns(), NamespaceContents())
    repo.add_namespace(_ns("other"), NamespaceContents())
    repo.add_tags("N", [MetadefTag(namespace="N", name="a", created_at=T0)])
    with pytest.raises(Duplicate):
        repo.add_tags("N", [MetadefTag(namespace="N", name="a", created_at=T0)])
    repo.add_tags("N", [MetadefTag(namespace="N", name="b", created_at=T0)], replace=True)
    assert [t.name for t in repo.list_tags("N")] == ["b"]
    renamed = repo.save_tag("b", MetadefTag(namespace="N", name="c", created_at=T0))
    assert renamed.name == "c"
    with pytest.raises(Duplicate):
        repo.save_namespace("N", _ns("other"))
    repo.save_namespace("N", _ns("M"))
    assert [t.name for t in repo.list_tags("M")] == ["c"]
    repo.add_property(PropertyDefinition(namespace="M", name="p", schema={}, created_at=T0))
    with pytest.raises(Duplicate):
        repo.add_property(PropertyDefinition(namespace="M", name="p", schema={},
                                             created_at=T0))
    repo.remove_property("M", "p")
    with pytest.raises(NotFound):
        repo.remove_property("M", "p")
    repo.add_association(ResourceTypeAssociation(namespace="M", name="R", created_at=T0))
    with pytest.raises(Duplicate):
        repo.add_association(ResourceTypeAssociation(namespace="M", name="R", created_at=T0))
    repo.remove_association("M", "R")
    with pytest.raises(NotFound):
        repo.remove_association("M", "R")
    repo.remove_namespace("M")
    assert [n.namespace for n in repo.list_namespaces()] == ["other"]
    with pytest.raises(NotFound):
        repo.list_tags("M")
