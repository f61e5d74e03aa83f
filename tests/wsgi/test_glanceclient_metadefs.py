"""python-glanceclient's metadefs API (namespaces, properties, objects, tags, resource types)
against the app served by a real HTTP server (cheroot) on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.wsgi.servers import glanceclient_as, serve

from .conftest import build_app

glanceclient = pytest.importorskip("glanceclient")
from glanceclient import exc as gc_exc  # noqa: E402
from glanceclient.v2 import client as gc_client  # noqa: E402


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with serve(build_app()) as url:
        yield url


def _client(endpoint: str, project: str, roles: str) -> gc_client.Client:
    return glanceclient_as(endpoint, project, roles)


def test_namespace_lifecycle_with_glanceclient(endpoint: str) -> None:
    admin = _client(endpoint, "ops", "admin,member,reader")
    member = _client(endpoint, "alice", "member,reader")

    ns = admin.metadefs_namespace.create(
        namespace="GC::Compute", display_name="Compute", description="d", visibility="public",
        protected=True,
        properties={"cpu": {"title": "CPU", "type": "integer", "minimum": 1}},
        resource_type_associations=[{"name": "OS::Glance::Image", "prefix": "hw_"}])
    assert ns.namespace == "GC::Compute" and ns.owner == "ops" and ns.protected is True
    assert [n.namespace for n in admin.metadefs_namespace.list()] == ["GC::Compute"]
    # glanceclient validates every listed namespace against /v2/schemas/metadefs/namespace
    assert [n.namespace for n in member.metadefs_namespace.list(
        filters={"resource_types": ["OS::Glance::Image"]})] == ["GC::Compute"]
    shown = member.metadefs_namespace.get("GC::Compute")
    assert shown.properties == {"cpu": {"title": "CPU", "type": "integer", "minimum": 1}}
    prefixed = admin.metadefs_namespace.get("GC::Compute", resource_type="OS::Glance::Image")
    assert list(prefixed.properties) == ["hw_cpu"]
    updated = admin.metadefs_namespace.update("GC::Compute", display_name="Compute 2")
    assert updated.display_name == "Compute 2" and updated.description == "d"

    # properties
    prop = admin.metadefs_property.create("GC::Compute", name="ram", title="RAM",
                                          type="integer", minimum=0)
    assert prop.name == "ram" and prop.minimum == 0
    assert sorted(p.name for p in admin.metadefs_property.list("GC::Compute")) == ["cpu", "ram"]
    prop = admin.metadefs_property.update("GC::Compute", "ram", title="Memory")
    assert prop.title == "Memory" and admin.metadefs_property.get("GC::Compute", "ram").title \
        == "Memory"
    with pytest.raises(gc_exc.HTTPForbidden):
        member.metadefs_property.create("GC::Compute", name="x", title="X", type="string")
    with pytest.raises(gc_exc.HTTPConflict):
        admin.metadefs_property.create("GC::Compute", name="ram", title="RAM", type="string")

    # objects
    obj = admin.metadefs_object.create("GC::Compute", name="topology", required=["sockets"],
                                       properties={"sockets": {"title": "Sockets",
                                                               "type": "integer"}})
    assert obj.name == "topology" and obj.required == ["sockets"]
    admin.metadefs_object.create("GC::Compute", name="numa")
    assert [o.name for o in admin.metadefs_object.list("GC::Compute")] == ["numa", "topology"]
    obj = admin.metadefs_object.update("GC::Compute", "numa", description="NUMA")
    assert obj.description == "NUMA"
    assert admin.metadefs_object.get("GC::Compute", "topology").properties["sockets"][
        "type"] == "integer"
    with pytest.raises(gc_exc.HTTPNotFound):
        admin.metadefs_object.get("GC::Compute", "nope")

    # tags
    tag = admin.metadefs_tag.create("GC::Compute", "fast")
    assert tag.name == "fast"
    # (append=True cannot be used: glanceclient sends the header's value as a bool, which its
    # own header encoding rejects before any request is made)
    created = [t.name for t in admin.metadefs_tag.create_multiple(
        "GC::Compute", tags=["big", "small"])]
    assert created == ["big", "small"]
    # without X-Openstack-Append the new list replaces the namespace's tags
    assert sorted(t.name for t in admin.metadefs_tag.list("GC::Compute")) == ["big", "small"]
    assert admin.metadefs_tag.update("GC::Compute", "big", name="huge").name == "huge"
    assert admin.metadefs_tag.get("GC::Compute", "huge").name == "huge"
    with pytest.raises(gc_exc.HTTPForbidden):  # the namespace is protected
        admin.metadefs_tag.delete("GC::Compute", "huge")

    # resource types
    assert "OS::Glance::Image" in [r.name for r in admin.metadefs_resource_type.list()]
    assoc = admin.metadefs_resource_type.associate("GC::Compute", name="OS::Nova::Flavor",
                                                   prefix="hw:")
    assert assoc.name == "OS::Nova::Flavor" and assoc.prefix == "hw:"
    assert sorted(a.name for a in admin.metadefs_resource_type.get("GC::Compute")) == [
        "OS::Glance::Image", "OS::Nova::Flavor"]

    # a protected namespace refuses deletes until it is unprotected
    with pytest.raises(gc_exc.HTTPForbidden):
        admin.metadefs_namespace.delete("GC::Compute")
    with pytest.raises(gc_exc.HTTPForbidden):
        admin.metadefs_resource_type.deassociate("GC::Compute", "OS::Nova::Flavor")
    admin.metadefs_namespace.update("GC::Compute", protected=False)
    admin.metadefs_resource_type.deassociate("GC::Compute", "OS::Nova::Flavor")
    admin.metadefs_tag.delete("GC::Compute", "huge")
    with pytest.raises(gc_exc.HTTPNotFound):
        admin.metadefs_tag.get("GC::Compute", "huge")
    admin.metadefs_tag.delete_all("GC::Compute")
    assert list(admin.metadefs_tag.list("GC::Compute")) == []
    admin.metadefs_object.delete("GC::Compute", "numa")
    admin.metadefs_object.delete_all("GC::Compute")
    admin.metadefs_property.delete("GC::Compute", "ram")
    admin.metadefs_property.delete_all("GC::Compute")
    assert list(admin.metadefs_property.list("GC::Compute")) == []
    with pytest.raises(gc_exc.HTTPForbidden):
        member.metadefs_namespace.delete("GC::Compute")
    admin.metadefs_namespace.delete("GC::Compute")
    with pytest.raises(gc_exc.HTTPNotFound):
        admin.metadefs_namespace.get("GC::Compute")
    assert list(admin.metadefs_namespace.list()) == []
