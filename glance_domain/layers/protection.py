"""Property protections: extra properties a caller may not read are left out of every image it
is shown; creating, updating and deleting extra properties is checked against the rules
(:mod:`glance_domain.protections`). In the stack only when rules are configured, directly above
the notification layer, as Glance puts its protection proxies over its notifier.

- Reads: ``get``, ``list`` and the images returned by ``add``, ``save`` and the data
  operations come back without the properties the caller may not read (``readable``). Filters
  of a list still match the stored properties, as in Glance. ``fetch`` (an image loaded for
  another operation) stays whole, so the layers below always see and keep every property.
- Create: each extra property of a new image needs ``create`` (``ProtectedProperty``, 403).
- PATCH: ``ImageService.update_image`` applies the changes to the image as the caller reads it
  and asks ``check_property`` once per operation, in order: setting a property the image shows
  is an ``update``, any other set a ``create``; a removal a ``delete``. A property the caller
  may not read thus does not exist for it (``replace``/``remove``: 409); adding one that the
  image holds is refused as a create would be (403), so properties it cannot read are kept as
  they are.
- Core attributes are never affected.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable

import attrs

from glance_domain.context import RequestContext
from glance_domain.errors import ProtectedProperty
from glance_domain.layers.base import Layer
from glance_domain.model.image import Image
from glance_domain.ports import PolicyEnforcer
from glance_domain.protections import CREATE, READ, UPDATE, PropertyProtections
from glance_domain.query import ImageQuery, ListScope


class PropertyProtectionLayer(Layer):
    __slots__ = ("_decisions", "context", "policy", "protections")

    def __init__(self, inner: Layer, context: RequestContext,
                 protections: PropertyProtections, policy: PolicyEnforcer) -> None:
        self.inner = inner
        self.context = context
        self.protections = protections
        self.policy = policy
        #: (property, operation) -> allowed, for this caller (a list repeats the same names)
        self._decisions: dict[tuple[str, str], bool] = {}

    def _may(self, name: str, operation: str) -> bool:
        key = (name, operation)
        allowed = self._decisions.get(key)
        if allowed is None:
            allowed = self.protections.allows(self.context, name, operation, self.policy)
            self._decisions[key] = allowed
        return allowed

    def _readable(self, image: Image) -> Image:
        props = image.extra_properties
        hidden = [name for name in props if not self._may(name, READ)]
        if not hidden:
            return image
        return attrs.evolve(
            image, extra_properties={k: v for k, v in props.items() if k not in hidden})

    def readable(self, image: Image) -> Image:
        return self._readable(self.inner.readable(image))

    def check_property(self, image: Image, name: str, operation: str) -> None:
        # Glance reads the property before updating it: one the caller may not read is created
        if operation == UPDATE and not self._may(name, READ):
            operation = CREATE
        if not self._may(name, operation):
            raise ProtectedProperty(name)
        if operation == CREATE and name in image.extra_properties and not self._may(name, READ):
            # it exists but the caller cannot see it: "creating" it would overwrite a value it
            # may not even read (Glance overwrites; we keep what it cannot read). The answer is
            # the refused create's, so it reveals nothing the caller could not learn anyway.
            raise ProtectedProperty(name)
        self.inner.check_property(image, name, operation)

    # -- images ---------------------------------------------------------------------------
    def get(self, image_id: str) -> Image:
        return self._readable(self.inner.get(image_id))

    def list(self, query: ImageQuery, scope: ListScope | None) -> builtins.list[Image]:
        return [self._readable(image) for image in self.inner.list(query, scope)]

    def add(self, image: Image) -> Image:
        for name in image.extra_properties:
            if not self._may(name, CREATE):
                raise ProtectedProperty(name)
        return self._readable(self.inner.add(image))

    def save(self, before: Image, after: Image, action: str = "update") -> Image:
        return self._readable(self.inner.save(before, after, action))

    def remove(self, image: Image) -> Image:
        return self._readable(self.inner.remove(image))

    # -- data -----------------------------------------------------------------------------
    def upload(
        self, image: Image, data: Iterable[bytes], size: int | None, backend: str | None
    ) -> Image:
        return self._readable(self.inner.upload(image, data, size, backend))

    def delete_from_store(self, image: Image, backend: str) -> Image:
        return self._readable(self.inner.delete_from_store(image, backend))

    def stage(self, image: Image, data: Iterable[bytes], size: int | None) -> Image:
        return self._readable(self.inner.stage(image, data, size))
