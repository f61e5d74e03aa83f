"""Signature: uploads of signed images are verified as they stream (``glance_domain.signing``).

In the stack only when the gateway has an ``ImageSignatures`` port (the composition root gives
one; an embedder may leave it out)."""

from __future__ import annotations

from collections.abc import Iterable

from glance_domain.context import RequestContext
from glance_domain.layers.base import Layer
from glance_domain.model.image import Image
from glance_domain.ports import ImageSignatures
from glance_domain.signing import verified


class SignatureLayer(Layer):
    __slots__ = ("context", "signatures")

    def __init__(self, inner: Layer, context: RequestContext,
                 signatures: ImageSignatures) -> None:
        self.inner = inner
        self.context = context
        self.signatures = signatures

    def upload(
        self, image: Image, data: Iterable[bytes], size: int | None, backend: str | None
    ) -> Image:
        checked = verified(data, lambda: self.signatures.verifier_for(self.context, image),
                           image.id)
        return self.inner.upload(image, checked, size, backend)
